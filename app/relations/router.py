"""GET /v1/relations/{a}/{b} and GET /v1/series: one call per dashboard widget."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from app.countries import COUNTRY_CODE_PATTERN, normalise_country_code
from app.db import SessionDep, TransactionRoute
from app.errors import bad_param, problem_responses
from app.http.conditional import with_etag
from app.http.formats import CSV, csv_response, wants
from app.http.query import QueryOf
from app.pagination import NoQuery
from app.relations import service
from app.relations.schemas import (
    Point,
    RelationList,
    RelationPublic,
    RelationQuery,
    SeriesPublic,
    SeriesQuery,
)

router = APIRouter(route_class=TransactionRoute, tags=["relations"])
COUNTRY_PATTERN = COUNTRY_CODE_PATTERN  # checked by _code, in words
Country = Annotated[
    str,
    Path(
        json_schema_extra={"pattern": COUNTRY_PATTERN},
        description="ISO 3166-1 alpha-3 (or alpha-2) code, any case.",
        examples=["AZE"],
    ),
]


def _code(name: str, value: str) -> str:
    try:
        return normalise_country_code(value)
    except ValueError as exc:
        raise bad_param(name, str(exc)) from None


@router.get(
    "/relations",
    response_model=RelationList,
    summary="List the country pairs",
    description="Every pair of countries the data has published facts about, most facts "
    "first: how many facts and sources, the last day the latest fact covers, and links to "
    "the pair's dossier, to the series of each indicator it has figures for, and to its "
    "HTML page. Not paged: one entry per pair.",
    responses=problem_responses(400),
)
def list_relations(
    response: Response, session: SessionDep, _query: Annotated[NoQuery, QueryOf(NoQuery)]
) -> RelationList:
    return with_etag(response, RelationList(items=service.pair_summaries(session)))


@router.get(
    "/relations/{a}/{b}",
    response_model=RelationPublic,
    summary="Dossier of a country pair",
    description="Everything known about a pair, in either order: the latest figure per "
    "indicator and direction (investment each way, trade turnover, growth, partner rank) "
    "with its hedge and source; **conflicts**, where published facts give different figures "
    "for the same indicator, direction and overlapping time, side by side (never merged); "
    "the agreements timeline; recent quotes with their speakers; and the sources. `as_of` "
    "gives the dossier as it stood then. A valid pair nothing is known about yet answers "
    "200 with empty lists.",
    responses=problem_responses(400),
)
def get_relation(
    response: Response,
    session: SessionDep,
    a: Country,
    b: Annotated[
        str,
        Path(
            json_schema_extra={"pattern": COUNTRY_PATTERN},
            description="The other country's ISO 3166-1 code.",
            examples=["CHN"],
        ),
    ],
    query: Annotated[RelationQuery, QueryOf(RelationQuery)],
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
    "`as_of`. `value`, `low` and `high` are JSON numbers, ready to chart; `exact` keeps the "
    "figure as an exact decimal string. A valid pair without figures answers 200 with no "
    "points. `format=csv` (or `Accept: text/csv`) gives the points as CSV.",
    responses=problem_responses(400),
)
def get_series(
    request: Request,
    response: Response,
    session: SessionDep,
    query: Annotated[SeriesQuery, QueryOf(SeriesQuery)],
) -> Any:
    found = service.series(session, query=query)
    if wants(request, CSV, query.format):
        return csv_response(Point, found.points, {})
    return with_etag(response, found)
