"""/v1/sources: list, get, add, change metadata."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from app import API_VERSION
from app.auth.service import WriterDep
from app.db import SessionDep, TransactionRoute, WriteSessionDep
from app.errors import problem_responses
from app.http.conditional import IfMatch, with_etag
from app.http.formats import (
    JSON_LD,
    JSON_LD_RESPONSE,
    base_url,
    jsonld_response,
    source_jsonld,
    wants,
)
from app.http.policy import deprecated_operation
from app.http.query import QueryOf
from app.http.responses import UPDATE_ERRORS, check_if_match, item_json
from app.pagination import NoQuery, Page, paginate
from app.sources import service
from app.sources.schemas import (
    SourcePublic,
    SourceQuery,
    SourceSummary,
    SourceUpdate,
)

router = APIRouter(route_class=TransactionRoute, prefix="/sources", tags=["sources"])
SourceId = Annotated[str, Path(examples=["trend-4036385"])]


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
    query: Annotated[SourceQuery, QueryOf(SourceQuery)],
) -> Any:
    return paginate(
        request,
        response,
        query,
        service.list_sources,
        session=session,
        model=SourceSummary,
    )


@router.get(
    "/{source_id}",
    response_model=SourcePublic,
    summary="Get a source",
    description="One source with its full text and SHA-256. Every evidence span "
    "`(start, end)` of a fact or quote indexes into this text: `text[start:end]`. "
    "`Accept: application/ld+json` gives a schema.org NewsArticle.",
    responses={200: JSON_LD_RESPONSE, **problem_responses(404)},
)
def get_source(
    request: Request,
    response: Response,
    session: SessionDep,
    source_id: SourceId,
    _query: Annotated[NoQuery, QueryOf(NoQuery)],
) -> Any:
    source = service.get_source(session, source_id=source_id)
    if wants(request, JSON_LD):
        return jsonld_response(source_jsonld(source, base_url(request)))
    return with_etag(response, source)


@router.patch(
    "/{source_id}",
    response_model=SourcePublic,
    summary="Change a source's metadata",
    description="Change title, url, outlet, dates or language with `If-Match`. The text "
    "cannot change: evidence offsets point into it; store a corrected article as a new source.",
    responses=UPDATE_ERRORS,
)
def update_source(
    source_id: SourceId,
    body: SourceUpdate,
    caller: WriterDep,
    session: WriteSessionDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    check_if_match(if_match, service.get_source(session, source_id=source_id))
    source = service.get_source_row(session, source_id=source_id)
    service.update_source(session, source=source, body=body, actor=caller.name)
    return item_json(service.get_source(session, source_id=source_id))


@router.get(
    "/{source_id}/text",
    response_class=PlainTextResponse,
    summary="Get a source's text as plain text (deprecated)",
    description="The source text alone, as `text/plain; charset=utf-8`. Deprecated: use "
    "`GET /v1/sources/{id}`, whose `text` field is the same string and comes with the metadata "
    "and SHA-256 needed to check evidence offsets. Responses carry `Deprecation`, `Sunset` and "
    "a `Link` to the successor.",
    responses={
        200: {"content": {"text/plain": {"example": "BAKU, Azerbaijan, April 28. ..."}}},
        **problem_responses(401, 403, 404),
    },
    **deprecated_operation(
        deprecated_on=date(2026, 11, 28),
        sunset_on=date(2027, 6, 30),
        successor=f"/{API_VERSION}/sources/{{source_id}}",
    ),
)
def get_source_text(session: SessionDep, source_id: SourceId) -> PlainTextResponse:
    return PlainTextResponse(service.get_source_row(session, source_id=source_id).text)
