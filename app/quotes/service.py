"""Quote queries, rendering and writes. Takes a session, never commits."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlmodel import Session, col, select

from app.entities.models import Entity
from app.entities.service import entity_refs, resolve_entity
from app.errors import ProblemError, bad_body, bad_param, not_found, revalidate
from app.facts.filters import hidden
from app.facts.models import Fact, Status
from app.facts.schemas import ClaimedBy, Evidence
from app.facts.service import new_id
from app.pagination import Cursor, SortKey, keyset_page
from app.quotes.models import Quote, QuoteMention
from app.quotes.schemas import QuoteCreate, QuotePublic, QuoteQuery, QuoteUpdate
from app.search import all_words_match
from app.sources.models import Source
from app.sources.service import check_evidence
from app.timeframes import Precision, ReducedDate
from app.versioning import (
    Action,
    Revision,
    first_revision,
    history,
    next_revision,
    revisions_of,
    visible_at,
)


def _conditions(session: Session, query: QuoteQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        visible_at(Quote, query.as_of),
        col(Quote.status).in_([s.value for s in query.status]),
    ]
    if query.speaker:
        if session.get(Entity, query.speaker) is None:
            raise bad_param("speaker", f"no entity with id '{query.speaker}'; see GET /v1/entities")
        conditions.append(col(Quote.speaker_id) == query.speaker)
    if query.source:
        if session.get(Source, query.source) is None:
            raise bad_param("source", f"no source with id '{query.source}'; see GET /v1/sources")
        conditions.append(col(Quote.source_id) == query.source)
    if query.country:
        conditions.append(
            exists().where(
                col(QuoteMention.quote_id) == col(Quote.id),
                col(QuoteMention.revision) == col(Quote.revision),
                col(QuoteMention.entity_id).in_(query.country),
            )
        )
    start, end = query.window()
    if start is not None:
        conditions.append(col(Quote.said_on) >= start)
    if end is not None:
        conditions.append(col(Quote.said_on) <= end)
    if query.q:
        conditions.append(all_words_match(query.q, col(Quote.text)))
    return conditions


def _sort_key(name: str) -> SortKey:
    if name.lstrip("-") == "date":
        sentinel = date(1, 1, 1) if name.startswith("-") else date(9999, 12, 31)
        return SortKey(func.coalesce(col(Quote.said_on), sentinel), date.fromisoformat)
    return SortKey(col(Quote.id))


def list_quotes(
    session: Session, *, query: QuoteQuery, limit: int, after: Cursor | None
) -> tuple[list[QuotePublic], Cursor | None]:
    if after is not None and after.sort != query.sort:
        raise bad_param("cursor", "this cursor was made for another sort order")
    rows, next_cursor = keyset_page(
        session,
        select(Quote).where(*_conditions(session, query)),
        sort_name=query.sort,
        sort=_sort_key(query.sort),
        id_column=col(Quote.id),
        descending=query.sort.startswith("-"),
        limit=limit,
        after=after,
    )
    return render_quotes(session, rows), next_cursor


def get_quote_row(
    session: Session, *, quote_id: str, as_of: datetime | None = None, editorial: bool = True
) -> Quote:
    """The current revision (or the one current at as_of); a draft or rejected one only for
    an editorial reader."""
    quote = session.exec(
        select(Quote).where(col(Quote.id) == quote_id, visible_at(Quote, as_of))
    ).first()
    if quote is None or hidden(quote.status, editorial=editorial):
        if as_of is not None:
            raise ProblemError(
                404,
                f"No quote with id '{quote_id}' existed at {as_of.isoformat()}.",
                code="not_found",
            )
        raise not_found("quote", quote_id)
    return quote


def get_quote(
    session: Session, *, quote_id: str, as_of: datetime | None = None, editorial: bool = True
) -> QuotePublic:
    row = get_quote_row(session, quote_id=quote_id, as_of=as_of, editorial=editorial)
    return render_quotes(session, [row])[0]


def _mentions(session: Session, quotes: Sequence[Quote]) -> dict[tuple[str, int], list[str]]:
    keys = [(q.id, q.revision) for q in quotes]
    rows = session.exec(
        select(QuoteMention).where(
            or_(
                *(
                    and_(col(QuoteMention.quote_id) == i, col(QuoteMention.revision) == r)
                    for i, r in keys
                )
            )
        )
    ).all()
    found: dict[tuple[str, int], list[str]] = {}
    for m in rows:
        found.setdefault((m.quote_id, m.revision), []).append(m.entity_id)
    return found


def render_quotes(session: Session, quotes: Sequence[Quote]) -> list[QuotePublic]:
    if not quotes:
        return []
    mentions = _mentions(session, quotes)
    wanted: set[str | None] = {e for es in mentions.values() for e in es}
    for q in quotes:
        wanted.update((q.speaker_id, q.said_to_id))
    refs = entity_refs(session, wanted)
    out = []
    for q in quotes:
        speaker = refs[q.speaker_id]
        said = None
        if q.said_on is not None:
            said = ReducedDate.from_stored(
                q.said_on, Precision(q.said_on_precision or "day")
            ).isoformat()
        out.append(
            QuotePublic(
                id=q.id,
                text=q.text,
                speaker=ClaimedBy(id=speaker.id, name=speaker.name, role=q.speaker_role),
                said_to=refs.get(q.said_to_id) if q.said_to_id else None,
                date=said,
                evidence=Evidence(
                    source_id=q.source_id, start=q.evidence_start, end=q.evidence_end, text=q.text
                ),
                mentions=[
                    refs[e] for e in sorted(mentions.get((q.id, q.revision), [])) if e in refs
                ],
                supports=sorted(q.supports or []),
                status=Status(q.status),
                confidence=q.confidence,
                revision=q.revision,
                created_at=q.created_at,
                updated_at=q.valid_from,
            )
        )
    return out


# --- writes ---------------------------------------------------------------------------


def _columns(
    session: Session, body: QuoteCreate, *, actor: str
) -> tuple[dict[str, Any], list[str]]:
    """Validate a quote against the database: its columns and the entities it mentions."""

    def entity(ref: str, field: str) -> str:
        return resolve_entity(session, ref, field=field, actor=actor)

    ev = body.evidence
    check_evidence(
        session, source_id=ev.source_id, start=ev.start, end=ev.end, text=ev.text, field="evidence"
    )
    for fact_id in body.supports:
        if session.exec(select(Fact.id).where(col(Fact.id) == fact_id)).first() is None:
            raise bad_body("supports", f"no fact with id '{fact_id}'")
    said = ReducedDate.parse(body.date) if body.date else None
    columns = {
        "text": ev.text,
        "speaker_id": entity(body.speaker, "speaker"),
        "speaker_role": body.speaker_role,
        "said_to_id": entity(body.said_to, "said_to") if body.said_to else None,
        "said_on": said.first_day if said else None,
        "said_on_precision": said.precision.value if said else None,
        "source_id": ev.source_id,
        "evidence_start": ev.start,
        "evidence_end": ev.end,
        "supports": sorted(set(body.supports)),
    }
    return columns, sorted({entity(m, "mentions") for m in body.mentions})


def _add_mentions(session: Session, quote: Quote, mentions: list[str]) -> None:
    for entity_id in mentions:
        session.add(QuoteMention(quote_id=quote.id, revision=quote.revision, entity_id=entity_id))


def create_quote(
    session: Session,
    *,
    body: QuoteCreate,
    actor: str,
    quote_id: str | None = None,
    status: Status = Status.published,
    confidence: float | None = None,
) -> Quote:
    columns, mentions = _columns(session, body, actor=actor)
    quote = Quote(
        id=quote_id or new_id("quote"), status=status.value, confidence=confidence, **columns
    )
    first_revision(session, quote, resource="quote", actor=actor)
    session.flush()
    _add_mentions(session, quote, mentions)
    session.flush()
    return quote


def _as_input(session: Session, quote: Quote) -> dict[str, Any]:
    said = (
        ReducedDate.from_stored(
            quote.said_on, Precision(quote.said_on_precision or "day")
        ).isoformat()
        if quote.said_on
        else None
    )
    return {
        "speaker": quote.speaker_id,
        "speaker_role": quote.speaker_role,
        "said_to": quote.said_to_id,
        "date": said,
        "evidence": {
            "source_id": quote.source_id,
            "start": quote.evidence_start,
            "end": quote.evidence_end,
            "text": quote.text,
        },
        "mentions": _mentions(session, [quote]).get((quote.id, quote.revision), []),
        "supports": list(quote.supports or []),
    }


def update_quote(session: Session, *, current: Quote, body: QuoteUpdate, actor: str) -> Quote:
    if current.status == Status.retracted:
        raise ProblemError(
            409, f"quote '{current.id}' is retracted; it is kept as it was.", code="retracted"
        )
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    if not changes:
        raise bad_body("", "nothing to change: send at least one field besides `reason`")
    validated = revalidate(QuoteCreate, {**_as_input(session, current), **changes})
    columns, mentions = _columns(session, validated, actor=actor)
    quote = next_revision(
        session,
        current,
        resource="quote",
        changes=columns,
        action=Action.update,
        actor=actor,
        reason=body.reason,
    )
    session.flush()
    _add_mentions(session, quote, mentions)
    session.flush()
    return quote


def copy_mentions(session: Session, *, old: Quote, new: Quote) -> None:
    """A status change keeps the mentions: carry them to the new revision."""
    _add_mentions(session, new, _mentions(session, [old]).get((old.id, old.revision), []))
    session.flush()


def quote_revisions(
    session: Session, *, quote_id: str, editorial: bool = True
) -> list[Revision[QuotePublic]]:
    """Every revision, oldest first; drafts and rejected ones only for editorial readers."""
    rows = [
        r
        for r in history(session, Quote, ident=quote_id, resource="quote")
        if not hidden(r.status, editorial=editorial)
    ]
    if not rows:
        raise not_found("quote", quote_id)
    return revisions_of(rows, render_quotes(session, rows))
