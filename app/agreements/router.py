"""/v1/agreements: agreements are facts of kind agreement, shown agreement-first."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from app import API_VERSION
from app.agreements import service
from app.agreements.schemas import (
    AgreementCreate,
    AgreementPublic,
    AgreementQuery,
    AgreementUpdate,
)
from app.auth.service import EditorialDep, WriterDep
from app.db import SessionDep, TransactionRoute, WriteSessionDep
from app.errors import problem_responses
from app.facts.filters import readable
from app.facts.schemas import ItemQuery
from app.facts.shape import public_facts
from app.facts.views import FactView, status_routes
from app.http.conditional import IfMatch
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

router = APIRouter(route_class=TransactionRoute, prefix="/agreements", tags=["agreements"])
AGREEMENT_EXAMPLE_ID = "aze-chn-agreement-beijing-forum-2019"
AgreementId = Annotated[str, Path(examples=[AGREEMENT_EXAMPLE_ID])]
AGREEMENT_VIEW = FactView(
    noun="agreement",
    id_name="agreement_id",
    id_example=AGREEMENT_EXAMPLE_ID,
    model=AgreementPublic,
    load=lambda session, ident: service.get_agreement_row(session, agreement_id=ident),
    shape=service.to_agreement,
)
"""Facts of kind agreement (404 for any other), in the agreement shape; same ETags as
/v1/facts/{id}, so an ETag from either is good for writes through either."""


@router.get(
    "",
    response_model=Page[AgreementPublic],
    summary="List agreements",
    description="What was signed, when (as precisely as the source says), between whom, "
    "where and how many documents. Agreements are facts of kind `agreement`, so they also "
    "appear in /v1/facts with the same id and share its history.",
    responses=problem_responses(400, 401, 403, 422),
)
def list_agreements(
    request: Request,
    response: Response,
    session: SessionDep,
    query: Annotated[AgreementQuery, QueryOf(AgreementQuery)],
    editorial: EditorialDep,
) -> Any:
    query = query.model_copy(update={"status": readable(query.status, editorial=editorial)})
    return paginate(
        request,
        response,
        query,
        service.list_agreements,
        session=session,
        model=AgreementPublic,
    )


@router.get(
    "/{agreement_id}",
    response_model=AgreementPublic,
    summary="Get an agreement",
    description="One agreement by id (the id of its fact). With `as_of`, as it was then. "
    "`Accept: application/ld+json` gives a schema.org Claim.",
    responses={200: JSON_LD_RESPONSE, **problem_responses(400, 401, 403, 404)},
)
def get_agreement(
    request: Request,
    response: Response,
    session: SessionDep,
    agreement_id: AgreementId,
    query: Annotated[ItemQuery, QueryOf(ItemQuery)],
    editorial: EditorialDep,
) -> Any:
    row = service.get_agreement_row(
        session, agreement_id=agreement_id, as_of=query.as_of, editorial=editorial
    )
    if wants(request, JSON_LD):  # after the lookup: a fact that is no agreement is a 404 here
        fact = public_facts([row])[0]
        source = get_source(session, source_id=fact.evidence.source_id)
        return jsonld_response(fact_jsonld(fact, source, base_url(request)))
    return AGREEMENT_VIEW.read(response, session, row)


@router.post(
    "",
    status_code=201,
    response_model=AgreementPublic,
    summary="Create an agreement",
    description="Add a published agreement (write key); it is also a fact of kind agreement.",
    responses=created_responses(AgreementPublic),
)
def create_agreement(
    request: Request,
    body: AgreementCreate,
    caller: WriterDep,
    session: WriteSessionDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def produce() -> JSONResponse:
        fact = service.create_agreement(session, body=body, actor=caller.name)
        return AGREEMENT_VIEW.answer(
            session, fact, status=201, location=f"/{API_VERSION}/agreements/{fact.id}"
        )

    return idempotent(request, session, caller.name, idempotency_key, body, produce)


@router.patch(
    "/{agreement_id}",
    response_model=AgreementPublic,
    summary="Correct an agreement",
    description="Change some fields with `If-Match`; makes a new revision of its fact.",
    responses=UPDATE_ERRORS,
)
def update_agreement(
    agreement_id: AgreementId,
    body: AgreementUpdate,
    caller: WriterDep,
    session: WriteSessionDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    current = service.get_agreement_row(session, agreement_id=agreement_id)
    AGREEMENT_VIEW.check_if_match(session, if_match, current)
    fact = service.update_agreement(session, current=current, body=body, actor=caller.name)
    return AGREEMENT_VIEW.answer(session, fact)


status_routes(
    router,
    AGREEMENT_VIEW,
    retract=" It is the same as retracting its fact through /v1/facts/{id}/retract.",
)


@router.get(
    "/{agreement_id}/revisions",
    response_model=list[Revision[AgreementPublic]],
    summary="List an agreement's revisions",
    description="Every revision, oldest first, with actor, reason and full snapshot.",
    responses=problem_responses(401, 403, 404),
)
def list_agreement_revisions(
    session: SessionDep, agreement_id: AgreementId, editorial: EditorialDep
) -> list[Revision[AgreementPublic]]:
    return service.agreement_revisions(session, agreement_id=agreement_id, editorial=editorial)


@router.get(
    "/{agreement_id}/revisions/{number}",
    response_model=Revision[AgreementPublic],
    summary="Get one revision of an agreement",
    description="One immutable revision by number.",
    responses=problem_responses(401, 403, 404),
)
def get_agreement_revision(
    session: SessionDep,
    agreement_id: AgreementId,
    number: Annotated[int, Path(ge=1)],
    editorial: EditorialDep,
) -> Revision[AgreementPublic]:
    return pick_revision(
        service.agreement_revisions(session, agreement_id=agreement_id, editorial=editorial),
        number,
        "agreement",
        agreement_id,
    )
