"""What a fact query selects: the WHERE clauses of every fact filter, the one country-pair
rule, sort orders, and which statuses a caller may see. Lists, facets, agreements, dossiers,
series and pages all build their queries here."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session

from app.entities.models import Entity
from app.errors import bad_param
from app.facts.models import Direction, Fact, Status, pair_key
from app.facts.schemas import FactFilters
from app.pagination import SortKey
from app.search import all_words_match
from app.sources.models import Source
from app.versioning import visible_at

FACT: Any = Fact.__table__.c  # type: ignore[attr-defined]
"""The fact table's columns. Queries are built from these Core columns rather than the
model's ORM attributes: the same SQL, at a fraction of the Python cost per request."""

_HUGE = Decimal("1e24")

EDITORIAL = frozenset({Status.draft, Status.rejected})
"""Statuses only keys that may write see (app.auth.service.sees_editorial)."""


def readable(statuses: Sequence[Status], *, editorial: bool) -> list[Status]:
    """The asked-for statuses the caller may see: all of them with a write key; without
    one, drafts and rejected records are left out (a list of them is then empty)."""
    return [s for s in statuses if editorial or s not in EDITORIAL]


def hidden(status: str, *, editorial: bool) -> bool:
    """A record in this status is not shown to this caller (a 404, as if it did not exist)."""
    return not editorial and status in EDITORIAL


def sort_key(name: str) -> SortKey:
    """`date` reads the indexed sort_date (undated facts sort as the oldest); for `value`,
    facts without a figure come last in both directions."""
    descending = name.startswith("-")
    field = name.lstrip("-")
    if field == "date":
        return SortKey(FACT.sort_date, date.fromisoformat)
    if field == "value":
        return SortKey(func.coalesce(FACT.value, -_HUGE if descending else _HUGE), Decimal)
    return SortKey(FACT.id)


def between(countries: Sequence[str], other: str, *, directed: bool = False) -> ColumnElement[bool]:
    """The one country-pair rule: facts between any of `countries` and `other`, in either
    order (one indexed equality on pair_key), or from `countries` to `other` if `directed`.
    Lists, agreements, dossiers, series and pages all select a pair with it."""
    keys = [pair_key(c, other) for c in countries]
    in_pair = FACT.pair_key.in_(keys) if len(keys) > 1 else FACT.pair_key == keys[0]
    return and_(in_pair, FACT.subject_id.in_(countries)) if directed else in_pair


def pair_condition(
    countries: Sequence[str], other: str | None, *, directed: bool = False
) -> ColumnElement[bool] | None:
    """The pair filter of a list: `between` with both sides; with one side only, facts on
    either side of it. None: no pair filter."""
    if countries and other:
        return between(countries, other, directed=directed)
    if countries:
        return or_(FACT.subject_id.in_(countries), FACT.counterpart_id.in_(countries))
    if other:
        return or_(FACT.subject_id == other, FACT.counterpart_id == other)
    return None


def _require_entity(session: Session, name: str, entity_id: str) -> None:
    if session.get(Entity, entity_id) is None:
        raise bad_param(name, f"no entity with id '{entity_id}'; see GET /v1/entities")


def fact_conditions(session: Session, query: FactFilters) -> list[ColumnElement[bool]]:
    """The WHERE clauses for a FactQuery (also used by /v1/agreements)."""
    conditions: list[ColumnElement[bool]] = [
        visible_at(FACT, query.as_of),
        FACT.status.in_([s.value for s in query.status]),
    ]
    pair = pair_condition(
        query.country,
        query.counterpart,
        directed=query.direction is Direction.subject_to_counterpart,
    )
    if pair is not None:
        conditions.append(pair)
    if query.direction is not None:
        conditions.append(FACT.direction == query.direction.value)
    if query.kind:
        conditions.append(FACT.kind.in_([k.value for k in query.kind]))
    if query.speaker:
        _require_entity(session, "speaker", query.speaker)
        conditions.append(FACT.claimed_by_id == query.speaker)
    if query.source:
        if session.get(Source, query.source) is None:
            raise bad_param("source", f"no source with id '{query.source}'; see GET /v1/sources")
        conditions.append(FACT.source_id == query.source)
    start, end = query.window()
    if start is not None:
        conditions.append(FACT.time_end >= start)
    if end is not None:
        conditions.append(FACT.time_start <= end)
    if query.value_min is not None:
        conditions.append(FACT.value.is_not(None))
        conditions.append(or_(FACT.value_high.is_(None), FACT.value_high >= query.value_min))
    if query.value_max is not None:
        conditions.append(FACT.value.is_not(None))
        conditions.append(or_(FACT.value_low.is_(None), FACT.value_low <= query.value_max))
    if (
        query.value_min is not None
        and query.value_max is not None
        and (query.value_min > query.value_max)
    ):
        raise bad_param("value_min", "must not be greater than value_max")
    if query.unit:
        conditions.append(FACT.unit == query.unit)
    if query.comparator is not None:
        conditions.append(FACT.comparator == query.comparator.value)
    if query.modality:
        conditions.append(FACT.modality.in_([m.value for m in query.modality]))
    if query.q:
        conditions.append(all_words_match(query.q, FACT.statement, FACT.evidence_text))
    return conditions
