"""Source queries and writes. Takes a session, never commits."""

import hashlib
import secrets
from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from app.db import utcnow
from app.entities.models import Entity
from app.entities.service import entity_refs
from app.errors import ProblemError, bad_body, not_found
from app.pagination import Cursor, SortKey, keyset_page
from app.sources.models import Source
from app.sources.schemas import (
    SourceCreate,
    SourcePublic,
    SourceQuery,
    SourceSummary,
    SourceUpdate,
)
from app.versioning import Action, bump_revision, record_change


def source_summaries(session: Session, sources: Sequence[Source]) -> list[SourceSummary]:
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
    return source_summaries(session, rows), next_cursor


def get_source(session: Session, *, source_id: str) -> SourcePublic:
    source = session.get(Source, source_id)
    if source is None:
        raise not_found("source", source_id)
    summary = source_summaries(session, [source])[0]
    return SourcePublic(**summary.model_dump(), text=source.text)


def check_evidence(
    session: Session, *, source_id: str, start: int, end: int, text: str, field: str
) -> Source:
    """The evidence must be exactly the source's text at [start:end]; say where it is if not."""
    source = session.get(Source, source_id)
    if source is None:
        raise bad_body(f"{field}.source_id", f"no source with id '{source_id}'")
    if not 0 <= start < end <= len(source.text):
        raise bad_body(
            field, f"offsets [{start}:{end}] fall outside the source text (0..{len(source.text)})"
        )
    if source.text[start:end] != text:
        found = source.text.find(text)
        hint = (
            f" The text occurs at start={found}, end={found + len(text)}."
            if found >= 0
            else " The text does not occur in the source at all."
        )
        raise bad_body(
            f"{field}.text",
            f"does not equal the source text at [{start}:{end}] "
            f"({source.text[start:end][:80]!r}).{hint}",
        )
    return source


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_published(published: date) -> None:
    if published > utcnow().date():
        raise bad_body("published", f"{published.isoformat()} is in the future")


def find_by_text(session: Session, text: str) -> Source | None:
    return session.exec(select(Source).where(col(Source.sha256) == text_sha256(text))).first()


def create_source(
    session: Session, *, body: SourceCreate, actor: str, source_id: str | None = None
) -> Source:
    """Store a new source; the caller checks find_by_text first to return duplicates."""
    _check_published(body.published)
    url = str(body.url) if body.url else None
    if url and session.exec(select(Source).where(col(Source.url) == url)).first() is not None:
        raise ProblemError(409, f"A source with url {url} exists already.", code="conflict")
    now = utcnow()
    source = Source(
        id=source_id or new_source_id(),
        outlet_id=resolve_outlet(session, body.outlet),
        url=url,
        title=body.title,
        published=body.published,
        dateline=body.dateline,
        language=body.language,
        text=body.text,
        sha256=text_sha256(body.text),
        created_at=now,
        revision=1,
        updated_at=now,
    )
    session.add(source)
    record_change(
        session,
        resource="source",
        resource_id=source.id,
        revision=1,
        action=Action.create,
        actor=actor,
        at=now,
    )
    session.flush()
    return source


def new_source_id() -> str:
    return f"source-{secrets.token_hex(8)}"


def get_source_row(session: Session, *, source_id: str) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise not_found("source", source_id)
    return source


def update_source(session: Session, *, source: Source, body: SourceUpdate, actor: str) -> Source:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise bad_body("", "nothing to change")
    if "published" in changes:
        _check_published(changes["published"])
    if "outlet" in changes:
        source.outlet_id = resolve_outlet(session, changes.pop("outlet"))
    if "url" in changes:
        changes["url"] = str(changes["url"]) if changes["url"] else None
    for key, value in changes.items():
        setattr(source, key, value)
    bump_revision(session, source, resource="source", actor=actor)
    return source


def resolve_outlet(session: Session, outlet: str) -> str:
    """The outlet of a source is an entity that exists already (an organization); an
    unknown one is a 422 that says how to find or make it."""
    if session.get(Entity, outlet) is not None:
        return outlet
    raise bad_body(
        "outlet",
        f"no outlet with id '{outlet}'. Find existing outlets with "
        "GET /v1/entities?outlet=true (or ?kind=organization&name=...), or create it first: "
        'POST /v1/entities with {"kind": "organization", "name": "<the outlet\'s name>"} '
        "and send the `id` it answers as `outlet`.",
    )
