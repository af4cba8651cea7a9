"""GET /v1/entities and /v1/entities/{id}."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.db import SessionDep
from app.entities import service
from app.entities.schemas import EntityPublic, EntityQuery
from app.errors import problem_responses
from app.pagination import Page, paginate

router = APIRouter(prefix="/entities", tags=["entities"])


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
    query: Annotated[EntityQuery, Query()],
) -> Page[EntityPublic]:
    return paginate(
        request,
        response,
        query,
        lambda limit, after: service.list_entities(session, query=query, limit=limit, after=after),
    )


@router.get(
    "/{entity_id}",
    response_model=EntityPublic,
    summary="Get an entity",
    description="One entity by id: `AZE`, `arzukhan-alizadeh`, `belt-and-road`...",
    responses=problem_responses(404),
)
def get_entity(
    session: SessionDep,
    entity_id: Annotated[str, Path(examples=["arzukhan-alizadeh"])],
) -> EntityPublic:
    return service.get_entity(session, entity_id=entity_id)
