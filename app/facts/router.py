"""GET /v1/facts and /v1/facts/{id}."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.db import SessionDep
from app.errors import problem_responses
from app.facts import service
from app.facts.schemas import FactPublic, FactQuery
from app.pagination import Page, paginate

router = APIRouter(prefix="/facts", tags=["facts"])


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
        "least: [v, ∞); less than/at most: (−∞, v]) and a value filter keeps the facts whose "
        "interval overlaps it. Pages follow the `next` cursor (also in the `Link` header)."
    ),
    responses=problem_responses(400, 422),
)
def list_facts(
    request: Request,
    response: Response,
    session: SessionDep,
    query: Annotated[FactQuery, Query()],
) -> Page[FactPublic]:
    return paginate(
        request,
        response,
        query,
        lambda limit, after: service.list_facts(session, query=query, limit=limit, after=after),
    )


@router.get(
    "/{fact_id}",
    response_model=FactPublic,
    summary="Get a fact",
    description="One fact by id, with its figure, hedge, time, claimant and evidence span. "
    "Retracted facts stay readable here.",
    responses=problem_responses(404),
)
def get_fact(
    session: SessionDep,
    fact_id: Annotated[str, Path(examples=["aze-chn-investment-chn-to-aze-since-1995"])],
) -> FactPublic:
    return service.get_fact(session, fact_id=fact_id)
