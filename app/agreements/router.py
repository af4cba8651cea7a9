"""/v1/agreements: agreements are facts of kind agreement, shown agreement-first."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from app import API_VERSION
from app.agreements import service
from app.agreements.schemas import (
    AgreementCreate,
    AgreementPublic,
    AgreementQuery,
    AgreementUpdate,
)
from app.api.responses import UPDATE_ERRORS, created_responses, item_json
from app.auth.service import WriterDep
from app.caching import IfMatch, require_if_match, with_etag
from app.db import SessionDep, TransactionRoute, WriteSessionDep
from app.errors import problem_responses
from app.exports import JSON_LD, JSON_LD_RESPONSE, base_url, fact_jsonld, jsonld_response, wants
from app.facts.schemas import ItemQuery, ReasonIn
from app.facts.service import get_fact
from app.idempotency import IdempotencyKey, idempotent
from app.pagination import Page, paginate
from app.sources.service import get_source
from app.versioning import Action, Revision, change_status, pick_revision

router = APIRouter(route_class=TransactionRoute, prefix="/agreements", tags=["agreements"])
AgreementId = Annotated[str, Path(examples=["aze-chn-agreement-beijing-forum-2019"])]


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
    query: Annotated[AgreementQuery, Query()],
) -> Any:
    return paginate(
        request,
        response,
        query,
        lambda limit, after: service.list_agreements(
            session, query=query, limit=limit, after=after
        ),
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
    query: Annotated[ItemQuery, Query()],
) -> Any:
    if wants(request, JSON_LD):
        fact = get_fact(session, fact_id=agreement_id, as_of=query.as_of)
        source = get_source(session, source_id=fact.evidence.source_id)
        return jsonld_response(fact_jsonld(fact, source, base_url(request)))
    agreement = service.get_agreement(session, agreement_id=agreement_id, as_of=query.as_of)
    return with_etag(response, agreement)


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
        public = service.render_agreements(session, [fact])[0]
        return item_json(public, status=201, location=f"/{API_VERSION}/agreements/{fact.id}")

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
    require_if_match(if_match, service.render_agreements(session, [current])[0])
    fact = service.update_agreement(session, current=current, body=body, actor=caller.name)
    return item_json(service.render_agreements(session, [fact])[0])


@router.post(
    "/{agreement_id}/retract",
    response_model=AgreementPublic,
    summary="Retract an agreement",
    description="Withdraw it with a reason; it stays readable by id and in its history. "
    "Needs `If-Match`.",
    responses=UPDATE_ERRORS,
)
def retract_agreement(
    agreement_id: AgreementId,
    body: ReasonIn,
    caller: WriterDep,
    session: WriteSessionDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    current = service.get_agreement_row(session, agreement_id=agreement_id)
    require_if_match(if_match, service.render_agreements(session, [current])[0])
    fact = change_status(
        session,
        current,
        resource="fact",  # an agreement is a fact: the feed and history say so
        action=Action.retract,
        actor=caller.name,
        reason=body.reason,
    )
    return item_json(service.render_agreements(session, [fact])[0])


@router.get(
    "/{agreement_id}/revisions",
    response_model=list[Revision[AgreementPublic]],
    summary="List an agreement's revisions",
    description="Every revision, oldest first, with actor, reason and full snapshot.",
    responses=problem_responses(401, 403, 404),
)
def list_agreement_revisions(
    session: SessionDep, agreement_id: AgreementId
) -> list[Revision[AgreementPublic]]:
    return service.agreement_revisions(session, agreement_id=agreement_id)


@router.get(
    "/{agreement_id}/revisions/{number}",
    response_model=Revision[AgreementPublic],
    summary="Get one revision of an agreement",
    description="One immutable revision by number.",
    responses=problem_responses(401, 403, 404),
)
def get_agreement_revision(
    session: SessionDep, agreement_id: AgreementId, number: Annotated[int, Path(ge=1)]
) -> Revision[AgreementPublic]:
    return pick_revision(
        service.agreement_revisions(session, agreement_id=agreement_id),
        number,
        "agreement",
        agreement_id,
    )
