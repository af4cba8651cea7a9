"""Fact queries and rendering. Takes a session, never commits."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from app.entities.models import Entity
from app.entities.schemas import EntityRef
from app.entities.service import entity_refs
from app.errors import bad_param, not_found
from app.facts.models import Comparator, Direction, Fact, FactKind, FactMention, Status, TimeType
from app.facts.schemas import (
    AgreementDetails,
    ClaimedBy,
    Evidence,
    FactPublic,
    FactQuery,
    FactTime,
    Quantity,
)
from app.pagination import Cursor, SortKey, keyset_page
from app.search import all_words_match
from app.sources.models import Source
from app.timeframes import Precision, ReducedDate

_FAR_FUTURE = date(9999, 12, 31)
_FAR_PAST = date(1, 1, 1)
_HUGE = Decimal("1e24")


def _sort_key(name: str) -> SortKey:
    """Nulls sort last in both directions, through a sentinel the index can still serve."""
    descending = name.startswith("-")
    field = name.lstrip("-")
    if field == "date":
        sentinel = _FAR_PAST if descending else _FAR_FUTURE
        return SortKey(func.coalesce(col(Fact.time_start), sentinel), date.fromisoformat)
    if field == "value":
        return SortKey(func.coalesce(col(Fact.value), -_HUGE if descending else _HUGE), Decimal)
    return SortKey(col(Fact.id))


def _pair_condition(query: FactQuery) -> ColumnElement[bool] | None:
    countries, other = query.country, query.counterpart
    directed = query.direction is Direction.subject_to_counterpart
    if countries and other:
        forward = and_(col(Fact.subject_id).in_(countries), col(Fact.counterpart_id) == other)
        if directed:
            return forward
        backward = and_(col(Fact.subject_id) == other, col(Fact.counterpart_id).in_(countries))
        return or_(forward, backward)
    if countries:
        return or_(col(Fact.subject_id).in_(countries), col(Fact.counterpart_id).in_(countries))
    if other:
        return or_(col(Fact.subject_id) == other, col(Fact.counterpart_id) == other)
    return None


def _require_entity(session: Session, name: str, entity_id: str) -> None:
    if session.get(Entity, entity_id) is None:
        raise bad_param(name, f"no entity with id '{entity_id}'; see GET /v1/entities")


def fact_conditions(session: Session, query: FactQuery) -> list[ColumnElement[bool]]:
    """The WHERE clauses for a FactQuery (also used by /v1/agreements)."""
    conditions: list[ColumnElement[bool]] = [col(Fact.status).in_([s.value for s in query.status])]
    pair = _pair_condition(query)
    if pair is not None:
        conditions.append(pair)
    if query.direction is not None:
        conditions.append(col(Fact.direction) == query.direction.value)
    if query.kind:
        conditions.append(col(Fact.kind).in_([k.value for k in query.kind]))
    if query.speaker:
        _require_entity(session, "speaker", query.speaker)
        conditions.append(col(Fact.claimed_by_id) == query.speaker)
    if query.source:
        if session.get(Source, query.source) is None:
            raise bad_param("source", f"no source with id '{query.source}'; see GET /v1/sources")
        conditions.append(col(Fact.source_id) == query.source)
    start, end = query.window()
    if start is not None:
        conditions.append(col(Fact.time_end) >= start)
    if end is not None:
        conditions.append(col(Fact.time_start) <= end)
    if query.value_min is not None:
        conditions.append(col(Fact.value).is_not(None))
        conditions.append(
            or_(col(Fact.value_high).is_(None), col(Fact.value_high) >= query.value_min)
        )
    if query.value_max is not None:
        conditions.append(col(Fact.value).is_not(None))
        conditions.append(
            or_(col(Fact.value_low).is_(None), col(Fact.value_low) <= query.value_max)
        )
    if (
        query.value_min is not None
        and query.value_max is not None
        and (query.value_min > query.value_max)
    ):
        raise bad_param("value_min", "must not be greater than value_max")
    if query.unit:
        conditions.append(col(Fact.unit) == query.unit)
    if query.comparator is not None:
        conditions.append(col(Fact.comparator) == query.comparator.value)
    if query.q:
        conditions.append(all_words_match(query.q, col(Fact.statement), col(Fact.evidence_text)))
    return conditions


def list_fact_rows(
    session: Session,
    *,
    query: FactQuery,
    limit: int,
    after: Cursor | None,
    extra: Sequence[ColumnElement[bool]] = (),
) -> tuple[Sequence[Fact], Cursor | None]:
    if after is not None and after.sort != query.sort:
        raise bad_param("cursor", "this cursor was made for another sort order")
    stmt = select(Fact).where(*fact_conditions(session, query), *extra)
    return keyset_page(
        session,
        stmt,
        sort_name=query.sort,
        sort=_sort_key(query.sort),
        id_column=col(Fact.id),
        descending=query.sort.startswith("-"),
        limit=limit,
        after=after,
    )


def list_facts(
    session: Session, *, query: FactQuery, limit: int, after: Cursor | None
) -> tuple[list[FactPublic], Cursor | None]:
    rows, next_cursor = list_fact_rows(session, query=query, limit=limit, after=after)
    return render_facts(session, rows), next_cursor


def get_fact_row(session: Session, *, fact_id: str, kind: FactKind | None = None) -> Fact:
    fact = session.get(Fact, fact_id)
    if fact is None or (kind is not None and fact.kind != kind):
        raise not_found(kind.value if kind else "fact", fact_id)
    return fact


def get_fact(session: Session, *, fact_id: str) -> FactPublic:
    return render_facts(session, [get_fact_row(session, fact_id=fact_id)])[0]


def fact_time(fact: Fact) -> FactTime | None:
    if fact.time_type is None or fact.time_start is None or fact.time_end is None:
        return None
    start_prec = Precision(fact.time_start_precision or "day")
    end_prec = Precision(fact.time_end_precision or "day")
    start = ReducedDate.from_stored(fact.time_start, start_prec)
    end = ReducedDate.from_stored(fact.time_end, end_prec, as_end=True)
    if fact.time_type == TimeType.date:
        return FactTime(
            type=TimeType.date,
            date=start.isoformat(),
            precision=start_prec,
            text=fact.time_text,
            first_day=fact.time_start,
            last_day=fact.time_end,
        )
    return FactTime(
        type=TimeType.period,
        start=start.isoformat(),
        start_precision=start_prec,
        end=end.isoformat(),
        end_precision=end_prec,
        text=fact.time_text,
        first_day=fact.time_start,
        last_day=fact.time_end,
    )


def _quantity(fact: Fact) -> Quantity | None:
    if fact.value is None or fact.unit is None or fact.comparator is None:
        return None
    return Quantity(
        value=_plain(fact.value),
        unit=fact.unit,
        comparator=Comparator(fact.comparator),
        hedge=fact.hedge,
        low=_plain(fact.value_low),
        high=_plain(fact.value_high),
        text=fact.quantity_text,
    )


def _plain(value: Decimal | float | None) -> Any:
    """Decimals without exponent or trailing zeros: 1000000000, not 1E+9 or 1000000000.000000."""
    if value is None:
        return None
    number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    normal = number.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def _agreement(fact: Fact, refs: dict[str, EntityRef]) -> AgreementDetails | None:
    if fact.kind != FactKind.agreement:
        return None
    attrs = fact.attributes or {}
    return AgreementDetails(
        title=str(attrs.get("title") or fact.statement),
        parties=[refs[p] for p in attrs.get("parties", []) if p in refs],
        event=refs.get(attrs["event"]) if attrs.get("event") else None,
        documents=attrs.get("documents"),
        sectors=list(attrs.get("sectors", [])),
    )


def render_facts(session: Session, facts: Sequence[Fact]) -> list[FactPublic]:
    """Turn rows into the public shape, resolving every entity reference in two queries."""
    if not facts:
        return []
    ids = [f.id for f in facts]
    mention_rows = session.exec(select(FactMention).where(col(FactMention.fact_id).in_(ids))).all()
    mentions: dict[str, list[str]] = {}
    for m in mention_rows:
        mentions.setdefault(m.fact_id, []).append(m.entity_id)
    wanted: set[str | None] = {m.entity_id for m in mention_rows}
    for f in facts:
        wanted.update((f.subject_id, f.counterpart_id, f.claimed_by_id))
        attrs = f.attributes or {}
        wanted.update(attrs.get("parties", []))
        wanted.add(attrs.get("event"))
    refs = entity_refs(session, wanted)
    out = []
    for f in facts:
        claimant = refs.get(f.claimed_by_id) if f.claimed_by_id else None
        out.append(
            FactPublic(
                id=f.id,
                kind=FactKind(f.kind),
                statement=f.statement,
                subject=refs[f.subject_id],
                counterpart=refs.get(f.counterpart_id) if f.counterpart_id else None,
                direction=Direction(f.direction),
                quantity=_quantity(f),
                time=fact_time(f),
                claimed_by=ClaimedBy(id=claimant.id, name=claimant.name, role=f.claimed_role)
                if claimant
                else None,
                evidence=Evidence(
                    source_id=f.source_id,
                    start=f.evidence_start,
                    end=f.evidence_end,
                    text=f.evidence_text,
                ),
                mentions=[refs[m] for m in sorted(mentions.get(f.id, [])) if m in refs],
                agreement=_agreement(f, refs),
                status=Status(f.status),
                revision=f.revision,
                created_at=f.created_at,
                updated_at=f.updated_at,
            )
        )
    return out
