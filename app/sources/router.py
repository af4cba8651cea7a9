"""GET /v1/sources and /v1/sources/{id}."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.db import SessionDep
from app.errors import problem_responses
from app.pagination import Page, paginate
from app.sources import service
from app.sources.schemas import SourcePublic, SourceQuery, SourceSummary

router = APIRouter(prefix="/sources", tags=["sources"])


@router.get(
    "",
    response_model=Page[SourceSummary],
    summary="List sources",
    description="The articles facts and quotes are traced to (without their text; get one "
    "source for its text).",
    responses=problem_responses(400, 422),
)
def list_sources(
    request: Request,
    response: Response,
    session: SessionDep,
    query: Annotated[SourceQuery, Query()],
) -> Page[SourceSummary]:
    return paginate(
        request,
        response,
        query,
        lambda limit, after: service.list_sources(session, query=query, limit=limit, after=after),
    )


@router.get(
    "/{source_id}",
    response_model=SourcePublic,
    summary="Get a source",
    description="One source with its full text and SHA-256. Every evidence span "
    "`(start, end)` of a fact or quote indexes into this text: `text[start:end]`.",
    responses=problem_responses(404),
)
def get_source(
    session: SessionDep,
    source_id: Annotated[str, Path(examples=["trend-4036385"])],
) -> SourcePublic:
    return service.get_source(session, source_id=source_id)
