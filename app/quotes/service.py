"""Quote queries and rendering. Takes a session, never commits."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from app.entities.models import Entity
from app.entities.service import entity_refs
from app.errors import bad_param, not_found
from app.facts.models import Status
from app.facts.schemas import ClaimedBy, Evidence
from app.pagination import Cursor, SortKey, keyset_page
from app.quotes.models import Quote, QuoteMention, QuoteSupport
from app.quotes.schemas import QuotePublic, QuoteQuery
from app.search import all_words_match
from app.sources.models import Source
from app.timeframes import Precision, ReducedDate


def _conditions(session: Session, query: QuoteQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [col(Quote.status).in_([s.value for s in query.status])]
    if query.speaker:
        if session.get(Entity, query.speaker) is None:
            raise bad_param("speaker", f"no entity with id '{query.speaker}'; see GET /v1/entities")
        conditions.append(col(Quote.speaker_id) == query.speaker)
    if query.source:
        if session.get(Source, query.source) is None:
            raise bad_param("source", f"no source with id '{query.source}'; see GET /v1/sources")
        conditions.append(col(Quote.source_id) == query.source)
    if query.country:
        mentioned = select(col(QuoteMention.quote_id)).where(
            col(QuoteMention.entity_id).in_(query.country)
        )
        conditions.append(col(Quote.id).in_(mentioned))
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


def get_quote(session: Session, *, quote_id: str) -> QuotePublic:
    quote = session.get(Quote, quote_id)
    if quote is None:
        raise not_found("quote", quote_id)
    return render_quotes(session, [quote])[0]


def render_quotes(session: Session, quotes: Sequence[Quote]) -> list[QuotePublic]:
    if not quotes:
        return []
    ids = [q.id for q in quotes]
    mentions: dict[str, list[str]] = {}
    for m in session.exec(select(QuoteMention).where(col(QuoteMention.quote_id).in_(ids))).all():
        mentions.setdefault(m.quote_id, []).append(m.entity_id)
    supports: dict[str, list[str]] = {}
    for s in session.exec(select(QuoteSupport).where(col(QuoteSupport.quote_id).in_(ids))).all():
        supports.setdefault(s.quote_id, []).append(s.fact_id)
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
                mentions=[refs[e] for e in sorted(mentions.get(q.id, [])) if e in refs],
                supports=sorted(supports.get(q.id, [])),
                status=Status(q.status),
                revision=q.revision,
                created_at=q.created_at,
                updated_at=q.updated_at,
            )
        )
    return out
