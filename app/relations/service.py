"""Dossiers and series: what dashboards chart, built from the published facts of a pair."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app import API_VERSION
from app.agreements.service import to_agreement
from app.countries import country_name
from app.entities.models import Entity, EntityKind
from app.entities.schemas import EntityRef
from app.entities.service import entity_refs
from app.facts import filters
from app.facts.models import Direction, Fact, FactKind, Modality, Status, pair_key
from app.facts.shape import public_facts
from app.quotes.models import Quote, QuoteMention
from app.quotes.schemas import QuotePublic
from app.quotes.service import render_quotes
from app.relations.schemas import (
    DIRECTED,
    INDICATORS,
    Conflict,
    IndicatorSummary,
    Point,
    RelationPublic,
    RelationSummary,
    SeriesLink,
    SeriesPublic,
    SeriesQuery,
)
from app.sources.models import Source
from app.sources.service import source_summaries
from app.versioning import visible_at

_NEVER = date.min


SHOWN = 10
TIMELINE = 100
RECENT = 20


def _indicator_rows(session: Session, between: Any, as_of: datetime | None) -> Sequence[Any]:
    """Only the columns grouping needs, for every published figure of the pair."""
    return session.execute(
        sa_select(
            col(Fact.id),
            col(Fact.kind),
            col(Fact.subject_id),
            col(Fact.counterpart_id),
            col(Fact.unit),
            col(Fact.value),
            col(Fact.comparator),
            col(Fact.sector),
            col(Fact.time_start),
            col(Fact.time_end),
            col(Fact.valid_from),
        ).where(
            visible_at(Fact, as_of),
            col(Fact.status) == Status.published.value,
            col(Fact.modality) == Modality.reported.value,
            between,
            col(Fact.kind).in_([k.value for k in INDICATORS]),
            col(Fact.value).is_not(None),
        )
    ).all()


def conflict_groups(rows: Sequence[Any]) -> list[list[Any]]:
    """Runs of facts whose times overlap (in the same unit) and whose figures differ.

    One sweep over the facts sorted by start: a run continues while the next fact starts
    before the run's latest end. O(n log n), however many facts a pair has.
    """
    groups: list[list[Any]] = []
    dated = sorted(
        (r for r in rows if r.time_start is not None and r.time_end is not None),
        key=lambda r: (r.unit, r.time_start, r.id),
    )
    run: list[Any] = []
    run_end = None
    for row in dated:
        if run and row.unit == run[0].unit and run_end is not None and row.time_start <= run_end:
            run.append(row)
            run_end = max(run_end, row.time_end)
            continue
        if len({(r.value, r.comparator) for r in run}) > 1:
            groups.append(run)
        run, run_end = [row], row.time_end
    if len({(r.value, r.comparator) for r in run}) > 1:
        groups.append(run)
    return groups


def dossier(session: Session, *, a: str, b: str, as_of: datetime | None) -> RelationPublic:
    a, b = sorted((a, b))
    between = filters.between([a], b)
    refs = country_refs(session, (a, b))

    # One indicator per kind, direction, part and unit: a share in percent is never the
    # latest "trade turnover" beside a figure in dollars.
    grouped: dict[tuple[str, str | None, str | None, str | None, str], list[Any]] = defaultdict(
        list
    )
    for row in _indicator_rows(session, between, as_of):
        directed = FactKind(row.kind) in DIRECTED
        group = (
            row.kind,
            row.subject_id if directed else None,
            row.counterpart_id if directed else None,
            row.sector,
            row.unit,
        )
        grouped[group].append(row)

    def latest_first(r: Any) -> tuple[date, date, datetime]:
        return (r.time_end or _NEVER, r.time_start or _NEVER, r.valid_from)

    wanted: set[str] = set()
    plan = []
    for group, rows in sorted(grouped.items(), key=lambda kv: str(kv[0])):
        latest = max(rows, key=latest_first)
        clashes = [sorted(run, key=latest_first, reverse=True) for run in conflict_groups(rows)]
        wanted.add(latest.id)
        wanted.update(r.id for run in clashes for r in run[:SHOWN])
        plan.append((group, latest.id, len(rows), clashes))
    rendered = {
        f.id: f
        for f in public_facts(
            session.exec(
                select(Fact).where(col(Fact.id).in_(wanted), visible_at(Fact, as_of))
            ).all(),
        )
    }

    indicators: list[IndicatorSummary] = []
    conflicts: list[Conflict] = []
    for (kind, source, target, sector, unit), latest_id, count, clashes in plan:
        latest = rendered[latest_id]
        from_, to = (latest.subject, latest.counterpart) if source else (None, None)
        route = f"{source}-{target}" if source else f"{a}-{b}"
        indicators.append(
            IndicatorSummary.model_validate(
                {
                    "indicator": kind,
                    "from": from_,
                    "to": to,
                    "sector": sector,
                    "latest": latest,
                    "facts": count,
                    "series": f"/{API_VERSION}/series?indicator={kind}&pair={route}"
                    f"&unit={quote_plus(unit)}"
                    + (f"&sector={quote_plus(sector)}" if sector else ""),
                }
            )
        )
        for run in clashes:
            conflicts.append(
                Conflict.model_validate(
                    {
                        "indicator": kind,
                        "from": from_,
                        "to": to,
                        "facts": [rendered[r.id] for r in run[:SHOWN]],
                        "count": len(run),
                    }
                )
            )

    pair_facts = (
        visible_at(Fact, as_of),
        col(Fact.status) == Status.published.value,
        between,
    )
    agreements = public_facts(
        session.exec(
            select(Fact)
            .where(*pair_facts, col(Fact.kind) == FactKind.agreement.value)
            .order_by(col(Fact.time_start).is_(None), col(Fact.sort_date), col(Fact.id))
            .limit(TIMELINE)
        ).all(),
    )
    targets = public_facts(
        session.exec(
            select(Fact)
            .where(*pair_facts, col(Fact.modality) != Modality.reported.value)
            .order_by(col(Fact.sort_date).desc(), col(Fact.id))
            .limit(RECENT)
        ).all(),
    )
    quotes = _pair_quotes(session, a, b, as_of)
    source_ids = sa_select(col(Fact.source_id)).where(*pair_facts).distinct()
    sources = session.exec(
        select(Source)
        .where(
            or_(
                col(Source.id).in_(source_ids),
                col(Source.id).in_([q.evidence.source_id for q in quotes]),
            )
        )
        .order_by(col(Source.published).desc(), col(Source.id).desc())
        .limit(RECENT)
    ).all()[::-1]
    return RelationPublic(
        pair=[refs[a], refs[b]],
        indicators=indicators,
        conflicts=conflicts,
        targets=targets,
        agreements=[to_agreement(f) for f in agreements],
        quotes=quotes,
        sources=source_summaries(session, sources),
    )


_MENTIONS = (aliased(QuoteMention), aliased(QuoteMention))
"""One alias of the mention table per country of a pair (made once: aliasing is costly)."""


def _pair_quotes(session: Session, a: str, b: str, as_of: datetime | None) -> list[QuotePublic]:
    """The latest quotes that mention both countries: a join from the mention index of each
    country, so only quotes that mention them are read (an EXISTS per quote read them all)."""
    stmt = select(Quote)
    for mention, code in zip(_MENTIONS, (a, b), strict=True):
        stmt = stmt.join(
            mention,
            and_(
                col(mention.quote_id) == col(Quote.id),
                col(mention.revision) == col(Quote.revision),
                col(mention.entity_id) == code,
            ),
        )
    rows = session.exec(
        stmt.where(visible_at(Quote, as_of), col(Quote.status) == Status.published.value)
        .order_by(col(Quote.said_on).desc(), col(Quote.id))
        .limit(RECENT)
    ).all()
    return render_quotes(session, rows)


def country_refs(session: Session, codes: Sequence[str]) -> dict[str, EntityRef]:
    """The pair's countries: stored entities, or, for a valid ISO code nothing is known
    about yet, a reference made from ISO 3166-1 (so an unknown pair is empty, not an error)."""
    refs = entity_refs(session, codes)
    for code in codes:
        if code not in refs:
            refs[code] = EntityRef(
                id=code, kind=EntityKind.country, name=country_name(code), code=code
            )
    return refs


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def series(session: Session, *, query: SeriesQuery) -> SeriesPublic:
    a, b = query.countries()
    directed = query.indicator in DIRECTED
    between = filters.between([a], b, directed=directed)
    stmt = select(Fact).where(
        visible_at(Fact, query.as_of),
        col(Fact.status) == Status.published.value,
        col(Fact.modality) == Modality.reported.value,
        col(Fact.kind) == query.indicator.value,
        col(Fact.value).is_not(None),
        col(Fact.time_start).is_not(None),
        between,
    )
    if query.unit:
        stmt = stmt.where(col(Fact.unit) == query.unit)  # normalised: USD, documents...
    stmt = stmt.where(
        col(Fact.sector).is_(None) if query.sector is None else col(Fact.sector) == query.sector
    )
    rows = session.exec(stmt.order_by(col(Fact.time_end), col(Fact.time_start), col(Fact.id))).all()
    refs = country_refs(session, (a, b))
    points = []
    for fact in public_facts(rows):
        assert fact.quantity is not None and fact.time is not None
        t = fact.time
        label = t.date if t.date else f"{t.start} – {t.end}"
        points.append(
            Point(
                fact_id=fact.id,
                first_day=t.first_day,
                last_day=t.last_day,
                label=str(label),
                value=float(fact.quantity.value),
                low=_number(fact.quantity.low),
                high=_number(fact.quantity.high),
                exact=str(fact.quantity.value),
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
        pair=[refs[a], refs[b]],
        direction=Direction.subject_to_counterpart if directed else Direction.bilateral,
        unit=units.pop() if len(units) == 1 else None,
        points=points,
    )


def pair_summaries(session: Session) -> list[RelationSummary]:
    """Every pair of countries with published facts: how many facts and sources, the latest
    time a fact covers, and links to the dossier and to each indicator's series."""
    first = case(
        (col(Fact.subject_id) < col(Fact.counterpart_id), col(Fact.subject_id)),
        else_=col(Fact.counterpart_id),
    )
    second = case(
        (col(Fact.subject_id) < col(Fact.counterpart_id), col(Fact.counterpart_id)),
        else_=col(Fact.subject_id),
    )
    a, b = aliased(Entity), aliased(Entity)
    published = (visible_at(Fact, None), col(Fact.status) == Status.published.value)
    countries = (
        and_(col(a.id) == col(Fact.subject_id), col(a.kind) == EntityKind.country.value),
        and_(col(b.id) == col(Fact.counterpart_id), col(b.kind) == EntityKind.country.value),
    )
    rows = session.execute(
        sa_select(
            first,
            second,
            func.count(),
            func.count(func.distinct(col(Fact.source_id))),
            func.max(col(Fact.time_end)),
        )
        .join(a, countries[0])
        .join(b, countries[1])
        .where(*published)
        .group_by(first, second)
        .order_by(func.count().desc(), first, second)
    ).all()
    charted = session.execute(
        sa_select(
            col(Fact.pair_key),
            col(Fact.kind),
            col(Fact.subject_id),
            col(Fact.counterpart_id),
            col(Fact.unit),
        )
        .where(
            *published,
            col(Fact.modality) == Modality.reported.value,
            col(Fact.kind).in_([k.value for k in INDICATORS]),
            col(Fact.value).is_not(None),
            col(Fact.time_start).is_not(None),
            col(Fact.sector).is_(None),
        )
        .distinct()
    ).all()
    series: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for key, kind, subject, counterpart, unit in charted:
        if counterpart is None:
            continue
        pair = (
            f"{subject}-{counterpart}"
            if FactKind(kind) in DIRECTED
            else "-".join(sorted((subject, counterpart)))
        )
        series[key].add((kind, pair, unit))
    refs = entity_refs(session, [code for row in rows for code in row[:2]])
    out = []
    for one, other, facts, sources, latest in rows:
        if one not in refs or other not in refs:
            continue
        links = sorted(series.get(pair_key(one, other), set()))
        out.append(
            RelationSummary(
                pair=[refs[one], refs[other]],
                facts=int(facts),
                sources=int(sources),
                latest=latest,
                dossier=f"/{API_VERSION}/relations/{one}/{other}",
                series=[
                    SeriesLink(
                        indicator=FactKind(kind),
                        pair=pair,
                        unit=unit,
                        href=f"/{API_VERSION}/series?indicator={kind}&pair={pair}"
                        f"&unit={quote_plus(unit)}",
                    )
                    for kind, pair, unit in links
                ],
                page=f"/pairs/{one}-{other}",
            )
        )
    return out
