"""Fact queries and rendering. Takes a session, never commits."""

import secrets
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, String, and_, cast, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.entities.models import Entity
from app.entities.schemas import EntityRef
from app.entities.service import entity_refs, resolve_entity
from app.errors import ProblemError, bad_body, bad_param, not_found, revalidate
from app.facts.models import (
    UNDATED,
    Direction,
    Fact,
    FactKind,
    Status,
    TimeType,
    pair_key,
)
from app.facts.quantity import implied_interval
from app.facts.schemas import (
    Count,
    FactCreate,
    FactFacets,
    FactFilters,
    FactPublic,
    FactQuery,
    FactTime,
    FactUpdate,
)
from app.pagination import Cursor, SortKey, keyset_page
from app.search import all_words_match
from app.sources.models import Source
from app.sources.service import check_evidence
from app.timeframes import Precision, ReducedDate, reduced_isoformat
from app.versioning import (
    Action,
    Revision,
    first_revision,
    history,
    next_revision,
    revisions_of,
    visible_at,
)

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


def _sort_key(name: str) -> SortKey:
    """`date` reads the indexed sort_date (undated facts sort as the oldest); for `value`,
    facts without a figure come last in both directions."""
    descending = name.startswith("-")
    field = name.lstrip("-")
    if field == "date":
        return SortKey(col(Fact.sort_date), date.fromisoformat)
    if field == "value":
        return SortKey(func.coalesce(col(Fact.value), -_HUGE if descending else _HUGE), Decimal)
    return SortKey(col(Fact.id))


def _pair_condition(query: FactFilters) -> ColumnElement[bool] | None:
    countries, other = query.country, query.counterpart
    directed = query.direction is Direction.subject_to_counterpart
    if countries and other:
        keys = [pair_key(c, other) for c in countries]
        in_pair = col(Fact.pair_key).in_(keys) if len(keys) > 1 else col(Fact.pair_key) == keys[0]
        if directed:
            return and_(in_pair, col(Fact.subject_id).in_(countries))
        return in_pair
    if countries:
        return or_(col(Fact.subject_id).in_(countries), col(Fact.counterpart_id).in_(countries))
    if other:
        return or_(col(Fact.subject_id) == other, col(Fact.counterpart_id) == other)
    return None


def _require_entity(session: Session, name: str, entity_id: str) -> None:
    if session.get(Entity, entity_id) is None:
        raise bad_param(name, f"no entity with id '{entity_id}'; see GET /v1/entities")


def fact_conditions(session: Session, query: FactFilters) -> list[ColumnElement[bool]]:
    """The WHERE clauses for a FactQuery (also used by /v1/agreements)."""
    conditions: list[ColumnElement[bool]] = [
        visible_at(Fact, query.as_of),
        col(Fact.status).in_([s.value for s in query.status]),
    ]
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
    if query.modality:
        conditions.append(col(Fact.modality).in_([m.value for m in query.modality]))
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
    columns = Fact.__table__.columns  # type: ignore[attr-defined]
    stmt = sa_select(*columns).where(*fact_conditions(session, query), *extra)
    return keyset_page(
        session,
        stmt,
        sort_name=query.sort,
        sort=_sort_key(query.sort),
        id_column=col(Fact.id),
        descending=query.sort.startswith("-"),
        limit=limit,
        after=after,
        orm=False,
    )


def list_facts(
    session: Session, *, query: FactQuery, limit: int, after: Cursor | None
) -> tuple[list[FactPublic], Cursor | None]:
    rows, next_cursor = list_fact_rows(session, query=query, limit=limit, after=after)
    return render_facts(session, rows), next_cursor


def get_fact_row(
    session: Session,
    *,
    fact_id: str,
    kind: FactKind | None = None,
    as_of: datetime | None = None,
    editorial: bool = True,
) -> Fact:
    """The current revision (or the one current at as_of); a draft or rejected one only
    for an editorial reader (a 404 otherwise, as if it did not exist)."""
    fact = session.exec(
        select(Fact).where(col(Fact.id) == fact_id, visible_at(Fact, as_of))
    ).first()
    if (
        fact is None
        or (kind is not None and fact.kind != kind)
        or hidden(fact.status, editorial=editorial)
    ):
        resource = kind.value if kind else "fact"
        if as_of is not None:
            raise ProblemError(
                404,
                f"No {resource} with id '{fact_id}' existed at {as_of.isoformat()}.",
                code="not_found",
            )
        raise not_found(resource, fact_id)
    return fact


def _time(fact: Any) -> dict[str, Any] | None:
    """FactTime's fields: a date ("in 2019") or a period ("since 1995")."""
    if fact.time_type is None or fact.time_start is None or fact.time_end is None:
        return None
    start_prec = fact.time_start_precision or Precision.day
    end_prec = fact.time_end_precision or Precision.day
    bounds = {"text": fact.time_text, "first_day": fact.time_start, "last_day": fact.time_end}
    if fact.time_type == TimeType.date:
        return {
            "type": TimeType.date,
            "date": reduced_isoformat(fact.time_start, start_prec),
            "precision": start_prec,
            **bounds,
        }
    return {
        "type": TimeType.period,
        "start": reduced_isoformat(fact.time_start, start_prec),
        "start_precision": start_prec,
        "end": reduced_isoformat(fact.time_end, end_prec),
        "end_precision": end_prec,
        **bounds,
    }


def fact_time(fact: Fact) -> FactTime | None:
    fields = _time(fact)
    return FactTime.model_validate(fields) if fields is not None else None


def _quantity(fact: Any) -> dict[str, Any] | None:
    if fact.value is None or fact.unit is None or fact.comparator is None:
        return None
    return {
        "value": _plain(fact.value),
        "unit": fact.unit,
        "comparator": fact.comparator,
        "hedge": fact.hedge,
        "low": _plain(fact.value_low),
        "high": _plain(fact.value_high),
        "text": fact.quantity_text,
    }


def _plain(value: Decimal | float | None) -> Any:
    """Decimals without exponent or trailing zeros: 1000000000, not 1E+9 or 1000000000.000000."""
    if value is None:
        return None
    number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    normal = number.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def _agreement(fact: Any, refs: dict[str, EntityRef]) -> dict[str, Any] | None:
    if fact.kind != FactKind.agreement:
        return None
    attrs = fact.attributes or {}
    return {
        "title": str(attrs.get("title") or fact.statement),
        "parties": [refs[p] for p in attrs.get("parties", []) if p in refs],
        "event": refs.get(attrs["event"]) if attrs.get("event") else None,
        "documents": attrs.get("documents"),
        "sectors": list(attrs.get("sectors", [])),
    }


_FACT_LIST = TypeAdapter(list[FactPublic])


def render_facts(session: Session, facts: Sequence[Any]) -> list[FactPublic]:
    """Turn rows into the public shape, resolving every entity reference in one query.

    The rows become plain dicts that one pydantic call validates and builds, in its Rust
    core: building the nested models one by one in Python cost more than the query.
    """
    if not facts:
        return []
    wanted: set[str | None] = set()
    for f in facts:
        wanted.update(f.mentions or [])
        wanted.update((f.subject_id, f.counterpart_id, f.claimed_by_id))
        attrs = f.attributes or {}
        wanted.update(attrs.get("parties", []))
        wanted.add(attrs.get("event"))
    refs = entity_refs(session, wanted)
    out = []
    for f in facts:
        claimant = refs.get(f.claimed_by_id) if f.claimed_by_id else None
        out.append(
            {
                "id": f.id,
                "kind": f.kind,
                "statement": f.statement,
                "subject": refs[f.subject_id],
                "counterpart": refs.get(f.counterpart_id) if f.counterpart_id else None,
                "direction": f.direction,
                "quantity": _quantity(f),
                "time": _time(f),
                "modality": f.modality,
                "sector": f.sector,
                "claimed_by": {"id": claimant.id, "name": claimant.name, "role": f.claimed_role}
                if claimant
                else None,
                "evidence": {
                    "source_id": f.source_id,
                    "start": f.evidence_start,
                    "end": f.evidence_end,
                    "text": f.evidence_text,
                },
                "mentions": [refs[m] for m in sorted(f.mentions or []) if m in refs],
                "agreement": _agreement(f, refs),
                "status": f.status,
                "confidence": f.confidence,
                "revision": f.revision,
                "created_at": f.created_at,
                "updated_at": f.valid_from,
            }
        )
    return _FACT_LIST.validate_python(out)


# --- writes: every one makes a new immutable revision (app.versioning) -------------------


def new_id(prefix: str) -> str:
    """Server-made ids: a readable prefix and 16 random hex digits; never reused."""
    return f"{prefix}-{secrets.token_hex(8)}"


def _must_occur(words: str | None, evidence: str, field: str) -> None:
    if words is not None and words not in evidence:
        raise bad_body(field, f"{words!r} does not occur in evidence.text")


def _columns(session: Session, body: FactCreate, *, actor: str) -> dict[str, Any]:
    """Validate a fact against the database and turn it into table columns."""

    def entity(ref: str, field: str) -> str:
        return resolve_entity(session, ref, field=field, actor=actor)

    evidence = body.evidence
    check_evidence(
        session,
        source_id=evidence.source_id,
        start=evidence.start,
        end=evidence.end,
        text=evidence.text,
        field="evidence",
    )
    columns: dict[str, Any] = {
        "kind": body.kind.value,
        "statement": body.statement,
        "subject_id": entity(body.subject, "subject"),
        "counterpart_id": entity(body.counterpart, "counterpart") if body.counterpart else None,
        "direction": body.direction.value,
        "modality": body.modality.value,
        "sector": body.sector,
        "claimed_by_id": entity(body.claimed_by, "claimed_by") if body.claimed_by else None,
        "claimed_role": body.claimed_role,
        "source_id": evidence.source_id,
        "evidence_start": evidence.start,
        "evidence_end": evidence.end,
        "evidence_text": evidence.text,
        "mentions": sorted({entity(m, "mentions") for m in body.mentions}),
        "attributes": {},
        "value": None,
        "unit": None,
        "comparator": None,
        "hedge": None,
        "value_low": None,
        "value_high": None,
        "quantity_text": None,
        "time_type": None,
        "time_start": None,
        "time_start_precision": None,
        "time_end": None,
        "time_end_precision": None,
        "time_text": None,
    }
    if body.quantity is not None:
        q = body.quantity
        _must_occur(q.text, evidence.text, "quantity.text")
        low, high = implied_interval(q.comparator, q.value, q.hedge)
        columns.update(
            value=q.value,
            unit=q.unit,
            comparator=q.comparator.value,
            hedge=q.hedge,
            value_low=low,
            value_high=high,
            quantity_text=q.text,
        )
    if body.time is not None:
        t = body.time
        _must_occur(t.text, evidence.text, "time.text")
        first = ReducedDate.parse(str(t.date if t.type is TimeType.date else t.start))
        last = ReducedDate.parse(str(t.date if t.type is TimeType.date else t.end))
        columns.update(
            time_type=t.type.value,
            time_start=first.first_day,
            time_start_precision=first.precision.value,
            time_end=last.last_day,
            time_end_precision=last.precision.value,
            time_text=t.text,
        )
    if body.agreement is not None:
        a = body.agreement
        columns["attributes"] = {
            "title": a.title,
            "parties": [entity(p, "agreement.parties") for p in a.parties],
            "event": entity(a.event, "agreement.event") if a.event else None,
            "documents": a.documents,
            "sectors": a.sectors,
        }
    columns["pair_key"] = pair_key(columns["subject_id"], columns["counterpart_id"])
    columns["sort_date"] = columns["time_start"] or UNDATED
    return columns


def _as_input(fact: Fact) -> dict[str, Any]:
    """A stored revision in FactCreate's shape, so an update is validated like a create."""
    public_time = fact_time(fact)
    time: dict[str, Any] | None = None
    if public_time is not None:
        time = (
            {"type": "date", "date": public_time.date, "text": public_time.text}
            if public_time.type is TimeType.date
            else {
                "type": "period",
                "start": public_time.start,
                "end": public_time.end,
                "text": public_time.text,
            }
        )
    quantity = None
    if fact.value is not None:
        quantity = {
            "value": fact.value,
            "unit": fact.unit,
            "comparator": fact.comparator,
            "hedge": fact.hedge,
            "text": fact.quantity_text,
        }
    attrs = fact.attributes or {}
    return {
        "kind": fact.kind,
        "statement": fact.statement,
        "subject": fact.subject_id,
        "counterpart": fact.counterpart_id,
        "direction": fact.direction,
        "quantity": quantity,
        "time": time,
        "modality": fact.modality,
        "sector": fact.sector,
        "claimed_by": fact.claimed_by_id,
        "claimed_role": fact.claimed_role,
        "evidence": {
            "source_id": fact.source_id,
            "start": fact.evidence_start,
            "end": fact.evidence_end,
            "text": fact.evidence_text,
        },
        "mentions": list(fact.mentions or []),
        "agreement": {
            k: attrs.get(k) for k in ("title", "parties", "event", "documents", "sectors")
        }
        if fact.kind == FactKind.agreement
        else None,
    }


def create_fact(
    session: Session,
    *,
    body: FactCreate,
    actor: str,
    fact_id: str | None = None,
    status: Status = Status.published,
    confidence: float | None = None,
) -> Fact:
    fact = Fact(
        id=fact_id or new_id("fact"),
        status=status.value,
        confidence=confidence,
        **_columns(session, body, actor=actor),
    )
    first_revision(session, fact, resource="fact", actor=actor)
    session.flush()
    return fact


def update_fact(session: Session, *, current: Fact, body: FactUpdate, actor: str) -> Fact:
    if current.status == Status.retracted:
        raise ProblemError(
            409,
            f"fact '{current.id}' is retracted; retracted facts are kept as they were.",
            code="retracted",
        )
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    if not changes:
        raise bad_body("", "nothing to change: send at least one field besides `reason`")
    merged = {**_as_input(current), **changes}
    validated = revalidate(FactCreate, merged)
    fact = next_revision(
        session,
        current,
        resource="fact",
        changes=_columns(session, validated, actor=actor),
        action=Action.update,
        actor=actor,
        reason=body.reason,
    )
    session.flush()
    return fact


def fact_revisions(
    session: Session, *, fact_id: str, editorial: bool = True
) -> list[Revision[FactPublic]]:
    """Every revision, oldest first; without editorial access, only the published and
    retracted ones (a record that was never either is a 404)."""
    rows = [
        r
        for r in history(session, Fact, ident=fact_id, resource="fact")
        if not hidden(r.status, editorial=editorial)
    ]
    if not rows:
        raise not_found("fact", fact_id)
    return revisions_of(rows, render_facts(session, rows))


def facets(session: Session, *, query: FactFilters) -> FactFacets:
    """Counts by kind, country, speaker, source and year over the filtered facts."""
    matching = (
        sa_select(
            col(Fact.kind).label("kind"),
            col(Fact.subject_id).label("subject"),
            col(Fact.counterpart_id).label("counterpart"),
            col(Fact.claimed_by_id).label("speaker"),
            col(Fact.source_id).label("source"),
            func.substr(cast(col(Fact.time_start), String), 1, 4).label("year"),
        )
        .where(*fact_conditions(session, query))
        .subquery()
    )

    def counts(*columns: Any) -> dict[str, int]:
        totals: dict[str, int] = {}
        for column in columns:
            rows = session.execute(
                sa_select(column, func.count()).where(column.is_not(None)).group_by(column)
            ).all()
            for value, count in rows:
                totals[str(value)] = totals.get(str(value), 0) + int(count)
        return totals

    total = int(session.execute(sa_select(func.count()).select_from(matching)).scalar_one())
    by_kind = counts(matching.c.kind)
    by_country = counts(matching.c.subject, matching.c.counterpart)
    by_speaker = counts(matching.c.speaker)
    by_source = counts(matching.c.source)
    by_year = counts(matching.c.year)
    names = {ref.id: ref.name for ref in entity_refs(session, [*by_country, *by_speaker]).values()}
    titles = {
        s.id: s.title
        for s in session.exec(select(Source).where(col(Source.id).in_(list(by_source)))).all()
    }

    def ranked(totals: dict[str, int], labels: dict[str, str] | None = None) -> list[Count]:
        ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        return [Count(value=v, label=(labels or {}).get(v), count=c) for v, c in ordered]

    return FactFacets(
        total=total,
        kind=ranked(by_kind),
        country=ranked(by_country, names),
        speaker=ranked(by_speaker, names),
        source=ranked(by_source, titles),
        year=sorted(ranked(by_year), key=lambda c: c.value),
    )


def iter_facts(engine: Any, *, statuses: list[Status], batch: int = 500) -> Iterator[FactPublic]:
    """Every current fact with one of the statuses, by id, a batch at a time.

    Each batch is a keyset query in its own short session, so memory stays flat
    and no transaction is held open however long the client takes to read.
    """
    last = ""
    while True:
        with Session(engine) as session:
            rows = session.exec(
                select(Fact)
                .where(
                    visible_at(Fact, None),
                    col(Fact.status).in_([s.value for s in statuses]),
                    col(Fact.id) > last,
                )
                .order_by(col(Fact.id))
                .limit(batch)
            ).all()
            rendered = render_facts(session, rows)
        if not rendered:
            return
        yield from rendered
        last = rendered[-1].id
