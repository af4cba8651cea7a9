"""Entity queries and writes, and the lookup other domains use to render entity references."""

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import Text, cast, exists
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.countries import country_name, normalise_country_code
from app.db import utcnow
from app.entities.models import Entity, EntityKind, Role
from app.entities.schemas import (
    EntityCreate,
    EntityPublic,
    EntityQuery,
    EntityRef,
    EntityUpdate,
    RoleIn,
    RolePublic,
)
from app.errors import ProblemError, bad_body, not_found
from app.pagination import Cursor, SortKey, keyset_page
from app.search import all_words_match
from app.timeframes import ReducedDate
from app.versioning import Action, bump_revision, record_change


def entity_refs(session: Session, ids: Iterable[str | None]) -> dict[str, EntityRef]:
    """Fetch, in one query, the entities a page of records points at."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.connection().execute(
        sa_select(col(Entity.id), col(Entity.kind), col(Entity.name), col(Entity.code)).where(
            col(Entity.id).in_(wanted)
        )
    )
    return {
        id_: EntityRef(id=id_, kind=EntityKind(kind), name=name, code=code)
        for id_, kind, name, code in rows
    }


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
    if query.outlet is not None:
        # Imported here: sources point at entities, not the other way round.
        from app.sources.models import Source

        is_outlet = exists().where(col(Source.outlet_id) == col(Entity.id))
        stmt = stmt.where(is_outlet if query.outlet else ~is_outlet)
    if query.name:
        stmt = stmt.where(
            all_words_match(
                query.name, col(Entity.name), literal_only=cast(col(Entity.aliases), Text)
            )
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


def resolve_entity(session: Session, ref: str, *, field: str, actor: str) -> str:
    """The entity id a write refers to; an ISO country code creates its country on first use.

    Country names come from pycountry, so any ISO 3166-1 code is a valid reference
    even before a fact about that country exists.
    """
    if session.get(Entity, ref) is not None:
        return ref
    try:
        code = normalise_country_code(ref)
    except ValueError:
        raise bad_body(
            field, f"no entity with id '{ref}'; use an ISO 3166-1 code or an id from /v1/entities"
        ) from None
    if session.get(Entity, code) is None:
        now = utcnow()
        session.add(
            Entity(
                id=code,
                kind=EntityKind.country.value,
                name=country_name(code),
                code=code,
                updated_at=now,
            )
        )
        record_change(
            session,
            resource="entity",
            resource_id=code,
            revision=1,
            action=Action.create,
            actor=actor,
            at=now,
        )
        session.flush()
    return code


def slug(text: str) -> str:
    """`Shanghai Cooperation Organization` -> `shanghai-cooperation-organization`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "entity"


def _check_reduced(value: str | None, field: str) -> None:
    if value is not None:
        try:
            ReducedDate.parse(value)
        except ValueError as exc:
            raise bad_body(field, str(exc)) from None


def _add_roles(session: Session, person_id: str, roles: list[RoleIn], actor: str) -> None:
    for i, role in enumerate(roles):
        _check_reduced(role.start, f"roles.{i}.start")
        _check_reduced(role.end, f"roles.{i}.end")
        organization = (
            resolve_entity(session, role.organization, field=f"roles.{i}.organization", actor=actor)
            if role.organization
            else None
        )
        session.add(
            Role(
                person_id=person_id,
                organization_id=organization,
                title=role.title,
                text=role.text,
                start=role.start,
                end=role.end,
            )
        )


def create_entity(
    session: Session, *, body: EntityCreate, actor: str, entity_id: str | None = None
) -> Entity:
    now = utcnow()
    if body.kind is EntityKind.country:
        if body.code is None:
            raise bad_body("code", "a country needs its ISO 3166-1 code")
        ident = body.code
        name = country_name(body.code)
    else:
        if body.name is None:
            raise bad_body("name", "required for every kind but country")
        if body.code is not None:
            raise bad_body("code", "only countries have an ISO code")
        ident = entity_id or slug(body.name)
        name = body.name
    if session.get(Entity, ident) is not None:
        raise ProblemError(409, f"An entity with id '{ident}' exists already.", code="conflict")
    _check_reduced(body.date, "date")
    entity = Entity(
        id=ident,
        kind=body.kind.value,
        name=name,
        code=body.code,
        description=body.description,
        aliases=body.aliases,
        date=body.date,
        location=body.location,
        revision=1,
        updated_at=now,
    )
    session.add(entity)
    session.flush()
    _add_roles(session, entity.id, body.roles, actor)
    record_change(
        session,
        resource="entity",
        resource_id=ident,
        revision=1,
        action=Action.create,
        actor=actor,
        at=now,
    )
    session.flush()
    return entity


def get_entity_row(session: Session, *, entity_id: str) -> Entity:
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise not_found("entity", entity_id)
    return entity


def update_entity(session: Session, *, entity: Entity, body: EntityUpdate, actor: str) -> Entity:
    changes = body.model_dump(exclude_unset=True, exclude={"roles"})
    if not changes and body.roles is None:
        raise bad_body("", "nothing to change")
    if entity.kind == EntityKind.country and "name" in changes:
        raise bad_body("name", "a country's name comes from ISO 3166-1 and cannot be changed")
    _check_reduced(changes.get("date"), "date")
    for key, value in changes.items():
        setattr(entity, key, value)
    if body.roles is not None:
        for role in session.exec(select(Role).where(col(Role.person_id) == entity.id)).all():
            session.delete(role)
        session.flush()
        _add_roles(session, entity.id, body.roles, actor)
    bump_revision(session, entity, resource="entity", actor=actor)
    return entity
