"""Confidence that means something: the measured precision of the rule behind a draft.

`econfacts eval-extraction --calibrate` scores the extractor on the dev split of the
annotated corpus (tests/data/corpus) and writes, per rule (`investment/reported`,
`trade_turnover/target`, `quote/colon`...), how many candidates it produced there and how
many were fully right. A draft's confidence is that rule's precision; a rule seen fewer
than MIN_SUPPORT times on dev takes the precision of its kind (all its modalities or
passes together), and a kind never seen takes the overall precision. Drafts whose
confidence is below FLOOR are not created: a wrong draft with high confidence is worse
than a missed one, and one the rules are mostly wrong about wastes an editor's time.
"""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
MIN_SUPPORT = 3
FLOOR = 0.1
"""Rules right less than one time in ten on dev produce no drafts."""


@lru_cache
def table() -> dict[str, Any]:
    if not CALIBRATION_FILE.exists():
        return {}
    data: dict[str, Any] = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    return data


def calibrated(rule: str) -> float:
    """The dev precision of `rule`, falling back to its family, then to the overall one."""
    data = table()
    rules: dict[str, dict[str, float]] = data.get("rules", {})
    entry = rules.get(rule)
    if entry and entry["found"] >= MIN_SUPPORT:
        return round(entry["right"] / entry["found"], 2)
    family = rule.split("/")[0]
    found = sum(e["found"] for r, e in rules.items() if r.split("/")[0] == family)
    right = sum(e["right"] for r, e in rules.items() if r.split("/")[0] == family)
    if found >= MIN_SUPPORT:
        return round(right / found, 2)
    overall = data.get("overall")
    return round(float(overall), 2) if overall is not None else 0.5
