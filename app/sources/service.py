"""Source queries. Takes a session, never commits."""

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.entities.service import entity_refs
from app.errors import not_found
from app.pagination import Cursor, SortKey, keyset_page
from app.sources.models import Source
from app.sources.schemas import SourcePublic, SourceQuery, SourceSummary


def _summaries(session: Session, sources: Sequence[Source]) -> list[SourceSummary]:
    refs = entity_refs(session, (s.outlet_id for s in sources))
    return [
        SourceSummary(**s.model_dump(exclude={"outlet_id", "text"}), outlet=refs[s.outlet_id])
        for s in sources
    ]


def list_sources(
    session: Session, *, query: SourceQuery, limit: int, after: Cursor | None
) -> tuple[list[SourceSummary], Cursor | None]:
    stmt = select(Source)
    if query.outlet:
        stmt = stmt.where(col(Source.outlet_id) == query.outlet)
    if query.language:
        stmt = stmt.where(col(Source.language) == query.language)
    rows, next_cursor = keyset_page(
        session,
        stmt,
        sort_name="id",
        sort=SortKey(col(Source.id)),
        id_column=col(Source.id),
        descending=False,
        limit=limit,
        after=after,
    )
    return _summaries(session, rows), next_cursor


def get_source(session: Session, *, source_id: str) -> SourcePublic:
    source = session.get(Source, source_id)
    if source is None:
        raise not_found("source", source_id)
    summary = _summaries(session, [source])[0]
    return SourcePublic(**summary.model_dump(), text=source.text)
