"""Fact reads and writes. Takes a session, never commits.

Queries are built from app.facts.filters; a fact's shapes and columns map through
app.facts.shape, whose stored documents are what reads send.
"""

import secrets
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.entities.service import entity_refs, resolve_entity
from app.errors import ProblemError, bad_body, bad_param, not_found, revalidate
from app.facts import shape
from app.facts.filters import FACT, fact_conditions, hidden, sort_key
from app.facts.models import Fact, FactKind, Status
from app.facts.schemas import (
    Count,
    FactCreate,
    FactFacets,
    FactFilters,
    FactPublic,
    FactQuery,
    FactUpdate,
)
from app.pagination import Cursor, keyset_page
from app.sources.models import Source
from app.sources.service import check_evidence
from app.versioning import (
    Action,
    Revision,
    first_revision,
    history,
    next_revision,
    revisions_of,
    visible_at,
)


def list_fact_rows(
    session: Session,
    *,
    query: FactQuery,
    limit: int,
    after: Cursor | None,
    extra: Sequence[ColumnElement[bool]] = (),
) -> tuple[Sequence[Any], Cursor | None]:
    """One page of current (or `as_of`) facts: rows of (id, document)."""
    if after is not None and after.sort != query.sort:
        raise bad_param("cursor", "this cursor was made for another sort order")
    columns: list[Any] = [FACT.id, FACT.document]
    stmt = sa_select(*columns).where(*fact_conditions(session, query), *extra)
    return keyset_page(
        session,
        stmt,
        sort_name=query.sort,
        sort=sort_key(query.sort),
        id_column=FACT.id,
        descending=query.sort.startswith("-"),
        limit=limit,
        after=after,
        orm=False,
    )


def list_facts(
    session: Session, *, query: FactQuery, limit: int, after: Cursor | None
) -> tuple[list[str], Cursor | None]:
    """One page of facts as their stored JSON documents, sent as they are."""
    rows, next_cursor = list_fact_rows(session, query=query, limit=limit, after=after)
    return [row.document for row in rows], next_cursor


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


# --- writes: every one makes a new immutable revision (app.versioning) -------------------


def new_id(prefix: str) -> str:
    """Server-made ids: a readable prefix and 16 random hex digits; never reused."""
    return f"{prefix}-{secrets.token_hex(8)}"


def _must_occur(words: str | None, evidence: str, field: str) -> None:
    if words is not None and words not in evidence:
        raise bad_body(field, f"{words!r} does not occur in evidence.text")


def _columns(session: Session, body: FactCreate, *, actor: str) -> dict[str, Any]:
    """Check a fact against the database (its evidence, the original words of its figure
    and time) and turn it into table columns (app.facts.shape)."""
    evidence = body.evidence
    check_evidence(
        session,
        source_id=evidence.source_id,
        start=evidence.start,
        end=evidence.end,
        text=evidence.text,
        field="evidence",
    )
    if body.quantity is not None:
        _must_occur(body.quantity.text, evidence.text, "quantity.text")
    if body.time is not None:
        _must_occur(body.time.text, evidence.text, "time.text")
    return shape.columns(
        body, lambda ref, field: resolve_entity(session, ref, field=field, actor=actor)
    )


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
    """PATCH: the given fields over the current ones (null clears an optional one)."""
    _refuse_retracted(current)
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    if not changes:
        raise bad_body("", "nothing to change: send at least one field besides `reason`")
    merged = {**current_input(current), **changes}
    return revise_fact(session, current=current, merged=merged, actor=actor, reason=body.reason)


def current_input(fact: Fact) -> dict[str, Any]:
    """A stored revision in FactCreate's shape, which an update merges its changes into."""
    return shape.as_input(shape.public_facts([fact])[0])


def revise_fact(
    session: Session, *, current: Fact, merged: dict[str, Any], actor: str, reason: str | None
) -> Fact:
    """The next revision of a fact, from its whole input (FactCreate's shape): checked like
    a create, so an update can break no rule a create keeps."""
    _refuse_retracted(current)
    validated = revalidate(FactCreate, merged)
    fact = next_revision(
        session,
        current,
        resource="fact",
        changes=_columns(session, validated, actor=actor),
        action=Action.update,
        actor=actor,
        reason=reason,
    )
    session.flush()
    return fact


def _refuse_retracted(current: Fact) -> None:
    if current.status == Status.retracted:
        raise ProblemError(
            409,
            f"fact '{current.id}' is retracted; retracted facts are kept as they were.",
            code="retracted",
        )


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
    return revisions_of(rows, shape.public_facts(rows))


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
            rendered = shape.public_facts(rows)
        if not rendered:
            return
        yield from rendered
        last = rendered[-1].id
