"""The interval a hedged figure implies, so value filters respect the hedge.

The rule (documented in the README and in the OpenAPI description of
`value_min`/`value_max`):

| comparator | hedge | implied interval [low, high] |
|---|---|---|
| exact | | [v, v] |
| approx | "nearly", "almost", "just under", "close to" | [0.9·v, v] |
| approx | any other ("around", "about", "some", ...) | [0.9·v, 1.1·v] |
| more_than, at_least | | [v, unbounded) |
| less_than, at_most | | (unbounded, v] |

`value_min=X` keeps facts whose interval reaches X (high >= X or no upper
bound); `value_max=Y` keeps facts whose interval starts at or below Y. So
"more than $3.5 billion" is found by value_min=3000000000 and "nearly $1
billion" by value_max=1000000000, and neither is found where it cannot be.
"""

from decimal import Decimal

from app.facts.models import Comparator

APPROX_TOLERANCE = Decimal("0.1")
BELOW_HEDGES = frozenset({"nearly", "almost", "just under", "close to", "just short of"})


def implied_interval(
    comparator: Comparator, value: Decimal, hedge: str | None
) -> tuple[Decimal | None, Decimal | None]:
    if comparator is Comparator.exact:
        return value, value
    if comparator is Comparator.approx:
        low = value * (1 - APPROX_TOLERANCE)
        if hedge is not None and hedge.strip().lower() in BELOW_HEDGES:
            return low, value
        return low, value * (1 + APPROX_TOLERANCE)
    if comparator in (Comparator.more_than, Comparator.at_least):
        return value, None
    return None, value
