"""Dossiers and series: what dashboards chart, built from the published facts of a pair."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app import API_VERSION
from app.agreements.service import to_agreement
from app.entities.models import Entity
from app.entities.schemas import EntityRef
from app.entities.service import entity_refs
from app.errors import bad_param
from app.facts.models import Direction, Fact, FactKind, Status
from app.facts.schemas import FactPublic
from app.facts.service import render_facts
from app.quotes.models import Quote, QuoteMention
from app.quotes.schemas import QuotePublic
from app.quotes.service import render_quotes
from app.relations.schemas import (
    DIRECTED,
    INDICATORS,
    Conflict,
    Indicator,
    Point,
    RelationPublic,
    SeriesPublic,
    SeriesQuery,
)
from app.sources.models import Source
from app.sources.service import source_summaries
from app.versioning import visible_at

_NEVER = date.min


def _pair_facts(session: Session, a: str, b: str, as_of: datetime | None) -> Sequence[Fact]:
    return session.exec(
        select(Fact).where(
            visible_at(Fact, as_of),
            col(Fact.status) == Status.published.value,
            or_(
                and_(col(Fact.subject_id) == a, col(Fact.counterpart_id) == b),
                and_(col(Fact.subject_id) == b, col(Fact.counterpart_id) == a),
            ),
        )
    ).all()


def _key(fact: FactPublic) -> tuple[FactKind, str | None, str | None]:
    if fact.kind in DIRECTED:
        return fact.kind, fact.subject.id, fact.counterpart.id if fact.counterpart else None
    return fact.kind, None, None


def _time(fact: FactPublic) -> tuple[date, date]:
    return (fact.time.first_day, fact.time.last_day) if fact.time else (_NEVER, _NEVER)


def _overlap(x: FactPublic, y: FactPublic) -> bool:
    if x.time is None or y.time is None:
        return False
    return x.time.first_day <= y.time.last_day and y.time.first_day <= x.time.last_day


def _figure(fact: FactPublic) -> tuple[object, ...]:
    q = fact.quantity
    return (q.value, q.unit, q.comparator) if q else ()


def conflicts_in(facts: list[FactPublic]) -> list[list[FactPublic]]:
    """Groups of facts whose times overlap but whose figures differ (same unit)."""
    groups: list[list[FactPublic]] = []
    for i, x in enumerate(facts):
        for y in facts[i + 1 :]:
            same_unit = x.quantity and y.quantity and x.quantity.unit == y.quantity.unit
            if same_unit and _overlap(x, y) and _figure(x) != _figure(y):
                group = next((g for g in groups if x in g or y in g), None)
                if group is None:
                    groups.append([x, y])
                else:
                    group.extend(f for f in (x, y) if f not in group)
    return groups


def dossier(session: Session, *, a: str, b: str, as_of: datetime | None) -> RelationPublic:
    for code in (a, b):
        if session.get(Entity, code) is None:
            raise bad_param("pair", f"no facts are known about {code}; see GET /v1/entities")
    a, b = sorted((a, b))
    refs = entity_refs(session, (a, b))
    facts = render_facts(session, _pair_facts(session, a, b, as_of))

    grouped: dict[tuple[FactKind, str | None, str | None], list[FactPublic]] = defaultdict(list)
    for fact in facts:
        if fact.kind in INDICATORS and fact.quantity is not None:
            grouped[_key(fact)].append(fact)
    indicators: list[Indicator] = []
    conflicts: list[Conflict] = []
    for (kind, source, target), group in sorted(grouped.items(), key=lambda kv: str(kv[0])):
        latest = max(group, key=lambda f: (_time(f)[1], _time(f)[0], f.updated_at))
        pair = f"{source}-{target}" if source else f"{a}-{b}"
        from_, to = (refs.get(source), refs.get(target)) if source and target else (None, None)
        if source and (from_ is None or to is None):
            from_, to = latest.subject, latest.counterpart
        indicators.append(
            Indicator.model_validate(
                {
                    "indicator": kind,
                    "from": from_,
                    "to": to,
                    "latest": latest,
                    "facts": len(group),
                    "series": f"/{API_VERSION}/series?indicator={kind.value}&pair={pair}",
                }
            )
        )
        for clash in conflicts_in(group):
            conflicts.append(
                Conflict.model_validate(
                    {"indicator": kind, "from": from_, "to": to, "facts": clash}
                )
            )

    agreements = sorted(
        (to_agreement(f) for f in facts if f.kind == FactKind.agreement),
        key=lambda ag: (ag.signed is None, ag.signed.first_day if ag.signed else _NEVER, ag.id),
    )
    quotes = _pair_quotes(session, a, b, {f.id for f in facts}, as_of)
    source_ids = {f.evidence.source_id for f in facts} | {q.evidence.source_id for q in quotes}
    sources = session.exec(
        select(Source).where(col(Source.id).in_(source_ids)).order_by(col(Source.published))
    ).all()
    return RelationPublic(
        pair=[refs[a], refs[b]],
        indicators=indicators,
        conflicts=conflicts,
        agreements=agreements,
        quotes=quotes,
        sources=source_summaries(session, sources),
    )


def _pair_quotes(
    session: Session, a: str, b: str, fact_ids: set[str], as_of: datetime | None
) -> list[QuotePublic]:
    """Quotes that mention both countries, or support one of the pair's facts."""
    rows = session.exec(
        select(Quote)
        .where(visible_at(Quote, as_of), col(Quote.status) == Status.published.value)
        .order_by(col(Quote.said_on).desc(), col(Quote.id))
    ).all()
    mentions: dict[tuple[str, int], set[str]] = defaultdict(set)
    for m in session.exec(
        select(QuoteMention).where(col(QuoteMention.entity_id).in_((a, b)))
    ).all():
        mentions[(m.quote_id, m.revision)].add(m.entity_id)
    chosen = [
        q
        for q in rows
        if mentions[(q.id, q.revision)] == {a, b} or fact_ids.intersection(q.supports or [])
    ]
    return render_quotes(session, chosen[:20])


def series(session: Session, *, query: SeriesQuery) -> SeriesPublic:
    a, b = query.countries()
    for code in (a, b):
        if session.get(Entity, code) is None:
            raise bad_param("pair", f"no facts are known about {code}; see GET /v1/entities")
    directed = query.indicator in DIRECTED
    if directed:
        pair_condition = and_(col(Fact.subject_id) == a, col(Fact.counterpart_id) == b)
    else:
        pair_condition = or_(
            and_(col(Fact.subject_id) == a, col(Fact.counterpart_id) == b),
            and_(col(Fact.subject_id) == b, col(Fact.counterpart_id) == a),
        )
    stmt = select(Fact).where(
        visible_at(Fact, query.as_of),
        col(Fact.status) == Status.published.value,
        col(Fact.kind) == query.indicator.value,
        col(Fact.value).is_not(None),
        col(Fact.time_start).is_not(None),
        pair_condition,
    )
    if query.unit:
        stmt = stmt.where(col(Fact.unit) == query.unit)
    rows = session.exec(stmt.order_by(col(Fact.time_end), col(Fact.time_start), col(Fact.id))).all()
    refs: dict[str, EntityRef] = entity_refs(session, (a, b))
    points = []
    for fact in render_facts(session, rows):
        assert fact.quantity is not None and fact.time is not None
        t = fact.time
        label = t.date if t.date else f"{t.start} – {t.end}"
        points.append(
            Point(
                fact_id=fact.id,
                first_day=t.first_day,
                last_day=t.last_day,
                label=str(label),
                value=fact.quantity.value,
                low=fact.quantity.low,
                high=fact.quantity.high,
                comparator=fact.quantity.comparator,
                hedge=fact.quantity.hedge,
                unit=fact.quantity.unit,
                text=fact.quantity.text,
                source_id=fact.evidence.source_id,
            )
        )
    units = {p.unit for p in points}
    return SeriesPublic(
        indicator=query.indicator,
        pair=[refs[c] for c in (a, b) if c in refs],
        direction=Direction.subject_to_counterpart if directed else Direction.bilateral,
        unit=units.pop() if len(units) == 1 else None,
        points=points,
    )
