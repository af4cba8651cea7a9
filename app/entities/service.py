"""Entity queries, and the lookup other domains use to render entity references."""

from collections.abc import Iterable, Sequence

from sqlalchemy import Text, cast
from sqlmodel import Session, col, select

from app.entities.models import Entity, EntityKind, Role
from app.entities.schemas import EntityPublic, EntityQuery, EntityRef, RolePublic
from app.errors import not_found
from app.pagination import Cursor, SortKey, keyset_page
from app.search import all_words_match


def entity_refs(session: Session, ids: Iterable[str | None]) -> dict[str, EntityRef]:
    """Fetch, in one query, the entities a page of records points at."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.exec(select(Entity).where(col(Entity.id).in_(wanted))).all()
    return {e.id: to_ref(e) for e in rows}


def to_ref(entity: Entity) -> EntityRef:
    return EntityRef(id=entity.id, kind=EntityKind(entity.kind), name=entity.name, code=entity.code)


def _to_public(entity: Entity, roles: Sequence[Role], refs: dict[str, EntityRef]) -> EntityPublic:
    return EntityPublic(
        **to_ref(entity).model_dump(),
        description=entity.description,
        aliases=list(entity.aliases),
        date=entity.date,
        location=entity.location,
        roles=[
            RolePublic(
                title=r.title,
                organization=refs.get(r.organization_id) if r.organization_id else None,
                text=r.text,
                start=r.start,
                end=r.end,
            )
            for r in roles
        ],
    )


def _render(session: Session, entities: Sequence[Entity]) -> list[EntityPublic]:
    ids = [e.id for e in entities]
    roles = session.exec(
        select(Role).where(col(Role.person_id).in_(ids)).order_by(col(Role.id))
    ).all()
    refs = entity_refs(session, (r.organization_id for r in roles))
    by_person: dict[str, list[Role]] = {}
    for role in roles:
        by_person.setdefault(role.person_id, []).append(role)
    return [_to_public(e, by_person.get(e.id, []), refs) for e in entities]


def get_entity(session: Session, *, entity_id: str) -> EntityPublic:
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise not_found("entity", entity_id)
    return _render(session, [entity])[0]


def list_entities(
    session: Session, *, query: EntityQuery, limit: int, after: Cursor | None
) -> tuple[list[EntityPublic], Cursor | None]:
    stmt = select(Entity)
    if query.kind:
        stmt = stmt.where(col(Entity.kind).in_([k.value for k in query.kind]))
    if query.code:
        stmt = stmt.where(col(Entity.code) == query.code)
    if query.name:
        stmt = stmt.where(
            all_words_match(query.name, col(Entity.name), cast(col(Entity.aliases), Text))
        )
    rows, next_cursor = keyset_page(
        session,
        stmt,
        sort_name="id",
        sort=SortKey(col(Entity.id)),
        id_column=col(Entity.id),
        descending=False,
        limit=limit,
        after=after,
    )
    return _render(session, rows), next_cursor
