"""/v1/facts: list, get, create, correct, retract, publish, reject, revisions."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from app import API_VERSION
from app.auth.service import EditorialDep, WriterDep
from app.db import SessionDep, TransactionRoute, WriteSessionDep
from app.errors import problem_responses
from app.facts import service
from app.facts.filters import readable
from app.facts.schemas import (
    FactCreate,
    FactFacets,
    FactFilters,
    FactPublic,
    FactQuery,
    FactUpdate,
    ItemQuery,
)
from app.facts.service import fact_revisions
from app.facts.shape import public_facts
from app.facts.views import FactView, status_routes
from app.http.conditional import IfMatch, with_etag
from app.http.formats import (
    JSON_LD,
    JSON_LD_RESPONSE,
    base_url,
    fact_jsonld,
    jsonld_response,
    wants,
)
from app.http.query import QueryOf
from app.http.responses import UPDATE_ERRORS, created_responses
from app.idempotency import IdempotencyKey, idempotent
from app.pagination import Page, paginate
from app.sources.service import get_source
from app.versioning import Revision, pick_revision

router = APIRouter(route_class=TransactionRoute, prefix="/facts", tags=["facts"])
FACT_EXAMPLE_ID = "aze-chn-investment-chn-to-aze-since-1995"
FactId = Annotated[str, Path(examples=[FACT_EXAMPLE_ID])]
FACT_VIEW = FactView(
    noun="fact",
    id_name="fact_id",
    id_example=FACT_EXAMPLE_ID,
    model=FactPublic,
    load=lambda session, ident: service.get_fact_row(session, fact_id=ident),
    shape=None,
)
"""Facts of every kind, agreements included, in the fact shape."""


@router.get(
    "",
    response_model=Page[FactPublic],
    summary="List facts",
    description=(
        "Sourced claims about relations between countries, newest first by default. "
        "Filters combine with AND; repeatable ones (`country`, `kind`, `status`) mean any of "
        "their values. The pair filter is order-insensitive: `country=CHN&counterpart=AZE` "
        "equals `country=AZE&counterpart=CHN`, unless `direction=subject_to_counterpart`. "
        "`value_min`/`value_max` respect the hedge: each fact's figure implies an interval "
        "(exact: [v, v]; nearly/almost: [0.9v, v]; around/about: [0.9v, 1.1v]; more than/at "
        "least: [v, unbounded); less than/at most: (unbounded, v]) and a value filter keeps "
        "the facts whose interval reaches it. `as_of` answers as the data stood at that time. "
        "Pages follow the `next` cursor (also in the `Link` header)."
    ),
    responses=problem_responses(400, 401, 403, 422),
)
def list_facts(
    request: Request,
    response: Response,
    session: SessionDep,
    query: Annotated[FactQuery, QueryOf(FactQuery)],
    editorial: EditorialDep,
) -> Any:
    query = query.model_copy(update={"status": readable(query.status, editorial=editorial)})
    return paginate(request, response, query, service.list_facts, session=session, model=FactPublic)


@router.get(
    "/facets",
    response_model=FactFacets,
    summary="Count facts by kind, country, speaker, source and year",
    description="Counts over the facts matching the same filters as GET /v1/facts (without "
    "paging): for filter menus, overview widgets and sanity checks.",
    responses=problem_responses(400, 422),
)
def fact_facets(
    response: Response,
    session: SessionDep,
    query: Annotated[FactFilters, QueryOf(FactFilters)],
    editorial: EditorialDep,
) -> FactFacets:
    query = query.model_copy(update={"status": readable(query.status, editorial=editorial)})
    return with_etag(response, service.facets(session, query=query))


@router.get(
    "/{fact_id}",
    response_model=FactPublic,
    summary="Get a fact",
    description="One fact by id, with its figure, hedge, time, claimant and evidence span. "
    "Retracted facts stay readable here. With `as_of`, the revision current at that time. "
    "`Accept: application/ld+json` gives a schema.org Claim based on the source article.",
    responses={200: JSON_LD_RESPONSE, **problem_responses(400, 401, 403, 404)},
)
def get_fact(
    request: Request,
    response: Response,
    session: SessionDep,
    fact_id: FactId,
    query: Annotated[ItemQuery, QueryOf(ItemQuery)],
    editorial: EditorialDep,
) -> Any:
    row = service.get_fact_row(session, fact_id=fact_id, as_of=query.as_of, editorial=editorial)
    if wants(request, JSON_LD):
        fact = public_facts([row])[0]
        source = get_source(session, source_id=fact.evidence.source_id)
        return jsonld_response(fact_jsonld(fact, source, base_url(request)))
    return FACT_VIEW.read(response, session, row)


@router.post(
    "",
    status_code=201,
    response_model=FactPublic,
    summary="Create a fact",
    description="Add a published fact (write key). The evidence must be the source's exact "
    "text at [start:end], and the figure's and time's original words must occur in it. "
    "Countries are referred to by ISO 3166-1 code. Send an `Idempotency-Key` to make "
    "retries safe.",
    responses=created_responses(FactPublic),
)
def create_fact(
    request: Request,
    body: FactCreate,
    caller: WriterDep,
    session: WriteSessionDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def produce() -> JSONResponse:
        fact = service.create_fact(session, body=body, actor=caller.name)
        return FACT_VIEW.answer(
            session, fact, status=201, location=f"/{API_VERSION}/facts/{fact.id}"
        )

    return idempotent(request, session, caller.name, idempotency_key, body, produce)


@router.patch(
    "/{fact_id}",
    response_model=FactPublic,
    summary="Correct a fact",
    description="Change some fields (the others keep their value) with `If-Match` set to the "
    "ETag you read. Makes a new revision; the old one stays in the history and in `as_of` "
    "reads. `reason` is kept with the revision.",
    responses=UPDATE_ERRORS,
)
def update_fact(
    fact_id: FactId,
    body: FactUpdate,
    caller: WriterDep,
    session: WriteSessionDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    current = service.get_fact_row(session, fact_id=fact_id)
    FACT_VIEW.check_if_match(session, if_match, current)
    fact = service.update_fact(session, current=current, body=body, actor=caller.name)
    return FACT_VIEW.answer(session, fact)


status_routes(router, FACT_VIEW)


@router.get(
    "/{fact_id}/revisions",
    response_model=list[Revision[FactPublic]],
    summary="List a fact's revisions",
    description="Every revision, oldest first: number, action, actor (API key name), reason, "
    "when it was current, and the full snapshot.",
    responses=problem_responses(401, 403, 404),
)
def list_fact_revisions(
    session: SessionDep, fact_id: FactId, editorial: EditorialDep
) -> list[Revision[FactPublic]]:
    return fact_revisions(session, fact_id=fact_id, editorial=editorial)


@router.get(
    "/{fact_id}/revisions/{number}",
    response_model=Revision[FactPublic],
    summary="Get one revision of a fact",
    description="One immutable revision by number (1 is the first).",
    responses=problem_responses(401, 403, 404),
)
def get_fact_revision(
    session: SessionDep,
    fact_id: FactId,
    number: Annotated[int, Path(ge=1)],
    editorial: EditorialDep,
) -> Revision[FactPublic]:
    revisions = fact_revisions(session, fact_id=fact_id, editorial=editorial)
    return pick_revision(revisions, number, "fact", fact_id)
