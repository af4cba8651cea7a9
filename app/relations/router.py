"""GET /v1/relations/{a}/{b} and GET /v1/series: one call per dashboard widget."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.caching import with_etag
from app.countries import normalise_country_code
from app.db import SessionDep, TransactionRoute
from app.errors import bad_param, problem_responses
from app.relations import service
from app.relations.schemas import RelationPublic, RelationQuery, SeriesPublic, SeriesQuery

router = APIRouter(route_class=TransactionRoute, tags=["relations"])
Country = Annotated[str, Path(min_length=2, max_length=3, examples=["AZE"])]


def _code(name: str, value: str) -> str:
    try:
        return normalise_country_code(value)
    except ValueError as exc:
        raise bad_param(name, str(exc)) from None


@router.get(
    "/relations/{a}/{b}",
    response_model=RelationPublic,
    summary="Dossier of a country pair",
    description="Everything known about a pair, in either order: the latest figure per "
    "indicator and direction (investment each way, trade turnover, growth, partner rank) "
    "with its hedge and source; **conflicts**, where published facts give different figures "
    "for the same indicator, direction and overlapping time, side by side (never merged); "
    "the agreements timeline; recent quotes with their speakers; and the sources. `as_of` "
    "gives the dossier as it stood then.",
    responses=problem_responses(400, 404),
)
def get_relation(
    response: Response,
    session: SessionDep,
    a: Country,
    b: Annotated[str, Path(min_length=2, max_length=3, examples=["CHN"])],
    query: Annotated[RelationQuery, Query()],
) -> RelationPublic:
    first, second = _code("a", a), _code("b", b)
    if first == second:
        raise bad_param("b", "a pair needs two different countries")
    return with_etag(response, service.dossier(session, a=first, b=second, as_of=query.as_of))


@router.get(
    "/series",
    response_model=SeriesPublic,
    summary="A chart-ready series",
    description="The figures of one indicator for one pair, ordered by time: each point has "
    "its value, comparator and implied low/high (for error bars), the time it covers, the "
    "words it came from and the fact behind it. For investment and partner_rank the pair's "
    "order is the direction (`pair=CHN-AZE`: China's investment in Azerbaijan). Supports "
    "`as_of`.",
    responses=problem_responses(400),
)
def get_series(
    response: Response, session: SessionDep, query: Annotated[SeriesQuery, Query()]
) -> SeriesPublic:
    return with_etag(response, service.series(session, query=query))
