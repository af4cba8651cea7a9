"""GET /v1/agreements and /v1/agreements/{id}."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.agreements import service
from app.agreements.schemas import AgreementPublic, AgreementQuery
from app.db import SessionDep
from app.errors import problem_responses
from app.pagination import Page, paginate

router = APIRouter(prefix="/agreements", tags=["agreements"])


@router.get(
    "",
    response_model=Page[AgreementPublic],
    summary="List agreements",
    description="What was signed, when (as precisely as the source says), between whom, "
    "where and how many documents. Agreements are facts of kind `agreement`, so they also "
    "appear in /v1/facts with the same id.",
    responses=problem_responses(400, 422),
)
def list_agreements(
    request: Request,
    response: Response,
    session: SessionDep,
    query: Annotated[AgreementQuery, Query()],
) -> Page[AgreementPublic]:
    return paginate(
        request,
        response,
        query,
        lambda limit, after: service.list_agreements(
            session, query=query, limit=limit, after=after
        ),
    )


@router.get(
    "/{agreement_id}",
    response_model=AgreementPublic,
    summary="Get an agreement",
    description="One agreement by id (the id of its fact).",
    responses=problem_responses(404),
)
def get_agreement(
    session: SessionDep,
    agreement_id: Annotated[str, Path(examples=["aze-chn-agreement-beijing-forum-2019"])],
) -> AgreementPublic:
    return service.get_agreement(session, agreement_id=agreement_id)
