"""/v1/quotes: list, get, create, correct, retract, publish, reject, revisions."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import Session

from app import API_VERSION
from app.auth.service import EditorialDep, WriterDep
from app.db import SessionDep, TransactionRoute, WriteSessionDep
from app.errors import problem_responses
from app.facts.filters import readable
from app.facts.schemas import ItemQuery
from app.facts.views import status_endpoint
from app.http.conditional import IfMatch, with_etag
from app.http.formats import (
    JSON_LD,
    JSON_LD_RESPONSE,
    base_url,
    jsonld_response,
    quote_jsonld,
    wants,
)
from app.http.query import QueryOf
from app.http.responses import UPDATE_ERRORS, check_if_match, created_responses, item_json
from app.idempotency import IdempotencyKey, idempotent
from app.pagination import Page, paginate
from app.quotes import service
from app.quotes.schemas import QuoteCreate, QuotePublic, QuoteQuery, QuoteUpdate
from app.sources.service import get_source
from app.versioning import Action, Revision, change_status, pick_revision

router = APIRouter(route_class=TransactionRoute, prefix="/quotes", tags=["quotes"])
QuoteId = Annotated[str, Path(examples=["alizadeh-investment-belt-and-road"])]
QuoteIdAlias = Annotated[
    str, Path(alias="quote_id", examples=["alizadeh-investment-belt-and-road"])
]
"""QuoteId for endpoints whose Python parameter has another name."""


@router.get(
    "",
    response_model=Page[QuotePublic],
    summary="List quotes",
    description="Exact words with their speaker, the speaker's role as printed, the outlet "
    "and the evidence span in the source. Filter by `speaker`, `source`, mentioned `country`, "
    "words (`q`), date (`from`/`to`) and `as_of`.",
    responses=problem_responses(400, 401, 403, 422),
)
def list_quotes(
    request: Request,
    response: Response,
    session: SessionDep,
    query: Annotated[QuoteQuery, QueryOf(QuoteQuery)],
    editorial: EditorialDep,
) -> Any:
    query = query.model_copy(update={"status": readable(query.status, editorial=editorial)})
    return paginate(
        request,
        response,
        query,
        service.list_quotes,
        session=session,
        model=QuotePublic,
    )


@router.get(
    "/{quote_id}",
    response_model=QuotePublic,
    summary="Get a quote",
    description="One quote by id, with the facts it supports. With `as_of`, as it was then. "
    "`Accept: application/ld+json` gives a schema.org Quotation.",
    responses={200: JSON_LD_RESPONSE, **problem_responses(400, 401, 403, 404)},
)
def get_quote(
    request: Request,
    response: Response,
    session: SessionDep,
    quote_id: QuoteId,
    query: Annotated[ItemQuery, QueryOf(ItemQuery)],
    editorial: EditorialDep,
) -> Any:
    quote = service.get_quote(session, quote_id=quote_id, as_of=query.as_of, editorial=editorial)
    if wants(request, JSON_LD):
        source = get_source(session, source_id=quote.evidence.source_id)
        return jsonld_response(quote_jsonld(quote, source, base_url(request)))
    return with_etag(response, quote)


@router.post(
    "",
    status_code=201,
    response_model=QuotePublic,
    summary="Create a quote",
    description="Add a published quote (write key). The words are the evidence text, which "
    "must be the source's exact text at [start:end]. `Idempotency-Key` makes retries safe.",
    responses=created_responses(QuotePublic),
)
def create_quote(
    request: Request,
    body: QuoteCreate,
    caller: WriterDep,
    session: WriteSessionDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def produce() -> JSONResponse:
        quote = service.create_quote(session, body=body, actor=caller.name)
        public = service.render_quotes(session, [quote])[0]
        return item_json(public, status=201, location=f"/{API_VERSION}/quotes/{quote.id}")

    return idempotent(request, session, caller.name, idempotency_key, body, produce)


@router.patch(
    "/{quote_id}",
    response_model=QuotePublic,
    summary="Correct a quote",
    description="Change some fields with `If-Match`; makes a new revision.",
    responses=UPDATE_ERRORS,
)
def update_quote(
    quote_id: QuoteId,
    body: QuoteUpdate,
    caller: WriterDep,
    session: WriteSessionDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    current = service.get_quote_row(session, quote_id=quote_id)
    check_if_match(if_match, service.render_quotes(session, [current])[0])
    quote = service.update_quote(session, current=current, body=body, actor=caller.name)
    return item_json(service.render_quotes(session, [quote])[0])


def _status_route(action: Action, summary: str, description: str) -> None:
    """The quote's status routes, with the same endpoint shape as the facts' (app.facts.views);
    a new revision of a quote also carries its mentions over."""

    def apply(
        quote_id: str, reason: str | None, caller_name: str, session: Session, if_match: str | None
    ) -> JSONResponse:
        current = service.get_quote_row(session, quote_id=quote_id)
        check_if_match(if_match, service.render_quotes(session, [current])[0])
        quote = change_status(
            session, current, resource="quote", action=action, actor=caller_name, reason=reason
        )
        service.copy_mentions(session, old=current, new=quote)
        return item_json(service.render_quotes(session, [quote])[0])

    router.add_api_route(
        f"/{{quote_id}}/{action.value}",
        status_endpoint(action, QuoteIdAlias, apply),
        methods=["POST"],
        response_model=QuotePublic,
        summary=summary,
        description=description,
        responses=UPDATE_ERRORS,
        name=f"{action.value}_quote",
    )


_status_route(
    Action.retract,
    "Retract a quote",
    "Withdraw a published quote; `reason` is required. It stays readable by id and in its "
    "history. A draft is rejected instead (409 here). Needs `If-Match`.",
)
_status_route(
    Action.publish,
    "Publish a draft quote",
    'Approve a draft quote. The body is optional: `{}`, none, or `{"reason": "..."}` to keep '
    "a note with the revision. Needs `If-Match`.",
)
_status_route(
    Action.reject,
    "Reject a draft quote",
    "Turn down a draft quote; `reason` is required (say why). Needs `If-Match`.",
)


@router.get(
    "/{quote_id}/revisions",
    response_model=list[Revision[QuotePublic]],
    summary="List a quote's revisions",
    description="Every revision, oldest first, with actor, reason and full snapshot.",
    responses=problem_responses(401, 403, 404),
)
def list_quote_revisions(
    session: SessionDep, quote_id: QuoteId, editorial: EditorialDep
) -> list[Revision[QuotePublic]]:
    return service.quote_revisions(session, quote_id=quote_id, editorial=editorial)


@router.get(
    "/{quote_id}/revisions/{number}",
    response_model=Revision[QuotePublic],
    summary="Get one revision of a quote",
    description="One immutable revision by number.",
    responses=problem_responses(401, 403, 404),
)
def get_quote_revision(
    session: SessionDep,
    quote_id: QuoteId,
    number: Annotated[int, Path(ge=1)],
    editorial: EditorialDep,
) -> Revision[QuotePublic]:
    revisions = service.quote_revisions(session, quote_id=quote_id, editorial=editorial)
    return pick_revision(revisions, number, "quote", quote_id)
