"""/v1/entities: list, get, create, change."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from app import API_VERSION
from app.auth.service import WriterDep
from app.db import SessionDep, TransactionRoute, WriteSessionDep
from app.entities import service
from app.entities.schemas import EntityCreate, EntityPublic, EntityQuery, EntityUpdate
from app.errors import problem_responses
from app.facts.shape import rerender_mentioning
from app.http.conditional import IfMatch, with_etag
from app.http.query import QueryOf
from app.http.responses import UPDATE_ERRORS, check_if_match, created_responses, item_json
from app.idempotency import IdempotencyKey, idempotent
from app.pagination import NoQuery, Page, paginate

router = APIRouter(route_class=TransactionRoute, prefix="/entities", tags=["entities"])
EntityId = Annotated[str, Path(examples=["arzukhan-alizadeh"])]


@router.get(
    "",
    response_model=Page[EntityPublic],
    summary="List entities",
    description="Countries (id = ISO 3166-1 alpha-3), people with their roles, organizations, "
    "initiatives and events. Filter by `kind`, country `code` or `name` (matches aliases too).",
    responses=problem_responses(400, 422),
)
def list_entities(
    request: Request,
    response: Response,
    session: SessionDep,
    query: Annotated[EntityQuery, QueryOf(EntityQuery)],
) -> Any:
    return paginate(
        request,
        response,
        query,
        service.list_entities,
        session=session,
        model=EntityPublic,
    )


@router.get(
    "/{entity_id}",
    response_model=EntityPublic,
    summary="Get an entity",
    description="One entity by id: `AZE`, `arzukhan-alizadeh`, `belt-and-road`...",
    responses=problem_responses(404),
)
def get_entity(
    response: Response,
    session: SessionDep,
    entity_id: EntityId,
    _query: Annotated[NoQuery, QueryOf(NoQuery)],
) -> EntityPublic:
    return with_etag(response, service.get_entity(session, entity_id=entity_id))


@router.post(
    "",
    status_code=201,
    response_model=EntityPublic,
    summary="Create an entity",
    description="Add a person, organization, initiative, event or country (write key). A "
    "country needs only its ISO code; its name comes from ISO 3166-1. Other entities get an "
    "id made from their name.",
    responses=created_responses(EntityPublic),
)
def create_entity(
    request: Request,
    body: EntityCreate,
    caller: WriterDep,
    session: WriteSessionDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def produce() -> JSONResponse:
        entity = service.create_entity(session, body=body, actor=caller.name)
        public = service.get_entity(session, entity_id=entity.id)
        return item_json(public, status=201, location=f"/{API_VERSION}/entities/{entity.id}")

    return idempotent(request, session, caller.name, idempotency_key, body, produce)


@router.patch(
    "/{entity_id}",
    response_model=EntityPublic,
    summary="Change an entity",
    description="Change some fields with `If-Match`. `roles`, if given, replaces the list.",
    responses=UPDATE_ERRORS,
)
def update_entity(
    entity_id: EntityId,
    body: EntityUpdate,
    caller: WriterDep,
    session: WriteSessionDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    check_if_match(if_match, service.get_entity(session, entity_id=entity_id))
    entity = service.get_entity_row(session, entity_id=entity_id)
    shown = (entity.kind, entity.name, entity.code)
    service.update_entity(session, entity=entity, body=body, actor=caller.name)
    if (entity.kind, entity.name, entity.code) != shown:
        # Fact documents show the entity: made again in this transaction.
        rerender_mentioning(session.connection(), entity.id)
    return item_json(service.get_entity(session, entity_id=entity_id))
