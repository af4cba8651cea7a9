"""GET /v1/quotes and /v1/quotes/{id}."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.db import SessionDep
from app.errors import problem_responses
from app.pagination import Page, paginate
from app.quotes import service
from app.quotes.schemas import QuotePublic, QuoteQuery

router = APIRouter(prefix="/quotes", tags=["quotes"])


@router.get(
    "",
    response_model=Page[QuotePublic],
    summary="List quotes",
    description="Exact words with their speaker, the speaker's role as printed, the outlet "
    "and the evidence span in the source. Filter by `speaker`, `source`, mentioned `country`, "
    "words (`q`) and date (`from`/`to`).",
    responses=problem_responses(400, 422),
)
def list_quotes(
    request: Request,
    response: Response,
    session: SessionDep,
    query: Annotated[QuoteQuery, Query()],
) -> Page[QuotePublic]:
    return paginate(
        request,
        response,
        query,
        lambda limit, after: service.list_quotes(session, query=query, limit=limit, after=after),
    )


@router.get(
    "/{quote_id}",
    response_model=QuotePublic,
    summary="Get a quote",
    description="One quote by id, with the facts it supports.",
    responses=problem_responses(404),
)
def get_quote(
    session: SessionDep,
    quote_id: Annotated[str, Path(examples=["alizadeh-investment-belt-and-road"])],
) -> QuotePublic:
    return service.get_quote(session, quote_id=quote_id)
