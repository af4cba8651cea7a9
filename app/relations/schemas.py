"""Relation dossiers and chart-ready series."""

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.agreements.schemas import AgreementPublic
from app.countries import PAIR_PATTERN, parse_pair
from app.entities.schemas import EntityRef
from app.facts.models import Comparator, Direction, FactKind
from app.facts.schemas import UNIT_PATTERN, AsOf, FactPublic, normalise_unit
from app.quotes.schemas import QuotePublic
from app.sources.schemas import SourceSummary

INDICATORS = (
    FactKind.investment,
    FactKind.financing,
    FactKind.trade_turnover,
    FactKind.exports,
    FactKind.trade_growth,
    FactKind.partner_rank,
)
DIRECTED = (FactKind.investment, FactKind.financing, FactKind.exports, FactKind.partner_rank)
"""Investment, financing and exports flow from subject to counterpart; a rank places the
subject among the counterpart's partners. Either way the order of the pair matters."""


class IndicatorSummary(BaseModel):
    """The latest figure of one indicator for the pair, and where its series is."""

    indicator: FactKind
    from_: EntityRef | None = Field(
        alias="from", description="Directed indicators: the investor, or the ranked partner."
    )
    to: EntityRef | None = Field(description="Directed indicators: the other side.")
    sector: str | None = Field(
        description="The part of the whole (`oil`) for a breakdown; null for the whole."
    )
    latest: FactPublic = Field(description="The reported figure covering the latest time.")
    facts: int = Field(description="How many published facts there are for this indicator.")
    series: str = Field(description="The URL of this indicator's series, ready to chart.")

    model_config = ConfigDict(populate_by_name=True)


class Conflict(BaseModel):
    """Published facts that disagree on the same indicator, pair, direction and time."""

    indicator: FactKind
    from_: EntityRef | None = Field(alias="from")
    to: EntityRef | None
    facts: list[FactPublic] = Field(
        description="Side by side, each with its own source; the latest 10 if there are more."
    )
    count: int = Field(description="How many facts disagree in this group.")

    model_config = ConfigDict(populate_by_name=True)


class RelationPublic(BaseModel):
    pair: list[EntityRef] = Field(description="The two countries, in code order.")
    indicators: list[IndicatorSummary]
    conflicts: list[Conflict]
    targets: list[FactPublic] = Field(
        description='Targets and forecasts for the pair ("raise trade to $10 billion by '
        '2030"), with who set them: kept apart from the reported figures above, which they '
        "never replace. Latest time first, at most 20."
    )
    agreements: list[AgreementPublic] = Field(
        description="Oldest first, undated last; at most 100 (all of them: "
        "/v1/agreements?country=A&counterpart=B)."
    )
    quotes: list[QuotePublic] = Field(
        description="Quotes that mention both countries, newest first, at most 20."
    )
    sources: list[SourceSummary] = Field(description="The 20 most recent, oldest first.")


class RelationQuery(AsOf):
    model_config = ConfigDict(extra="forbid")


class SeriesQuery(AsOf):
    """Parameters of GET /v1/series."""

    model_config = ConfigDict(extra="forbid")

    indicator: FactKind = Field(examples=["trade_turnover"])
    pair: str = Field(
        pattern=PAIR_PATTERN,
        description="Two ISO codes joined by '-'. For a directed indicator (investment, "
        "partner_rank) the order is the direction: CHN-AZE is China's investment in Azerbaijan.",
        examples=["AZE-CHN"],
    )
    unit: str | None = Field(
        None,
        pattern=UNIT_PATTERN,
        description="Keep only figures in this unit, any case: USD, usd, documents.",
        examples=["USD"],
    )
    format: Literal["json", "csv"] | None = Field(
        None,
        description="`csv` for the points as CSV, one row per point, with a header row (or "
        "send `Accept: text/csv`).",
    )
    sector: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="The figures of one part of a breakdown (e.g. `oil`); default: the whole.",
    )

    @field_validator("indicator")
    @classmethod
    def _charted(cls, value: FactKind) -> FactKind:
        if value not in INDICATORS:
            raise ValueError("a series is one of " + ", ".join(k.value for k in INDICATORS))
        return value

    _unit = field_validator("unit")(normalise_unit)

    @field_validator("pair")
    @classmethod
    def _valid_pair(cls, value: str) -> str:
        return "-".join(parse_pair(value))

    def countries(self) -> tuple[str, str]:
        return parse_pair(self.pair)


class Point(BaseModel):
    """One figure of a series. `value`, `low` and `high` are JSON numbers, ready to chart
    (a double: exact up to 15 significant digits, which every stored figure of a series so
    far is); `exact` is the figure as an exact decimal string, like `quantity.value` of
    the fact behind it."""

    fact_id: str
    first_day: dt.date = Field(description="Start of the time the figure covers (x axis).")
    last_day: dt.date = Field(description="End of that time.")
    label: str = Field(description="The time as the source gave it, e.g. 1995 – 2025-04-28.")
    value: float = Field(description="The figure, a JSON number (y axis).", examples=[1e9])
    low: float | None = Field(
        description="Lowest value the wording allows (error bar), a JSON number.",
        examples=[9e8],
    )
    high: float | None = Field(
        description="Highest value the wording allows; null = unbounded (more than...).",
        examples=[1e9],
    )
    exact: str = Field(
        description="The figure as an exact decimal string, as in the fact's quantity.value.",
        examples=["1000000000"],
    )
    comparator: Comparator
    hedge: str | None
    unit: str
    text: str | None = Field(description="The original words of the figure.")
    source_id: str


class SeriesPublic(BaseModel):
    indicator: FactKind
    pair: list[EntityRef]
    direction: Direction
    unit: str | None = Field(description="The unit of every point, or null if they differ.")
    points: list[Point]


class SeriesLink(BaseModel):
    indicator: FactKind
    pair: str = Field(
        description="The pair as the series takes it (for directed indicators, "
        "the direction: CHN-AZE is China's investment in Azerbaijan)."
    )
    unit: str = Field(description="The unit of its figures (one series per unit).")
    href: str = Field(description="The series, ready to chart.")


class RelationSummary(BaseModel):
    """One country pair the data knows, with where to read more."""

    pair: list[EntityRef] = Field(description="The two countries, in code order.")
    facts: int = Field(description="Published facts about the pair.")
    sources: int = Field(description="Sources those facts come from.")
    latest: dt.date | None = Field(
        description="The last day the most recent of those facts covers."
    )
    dossier: str = Field(description="The pair's dossier: GET it for the figures.")
    series: list[SeriesLink] = Field(description="A series per charted indicator.")
    page: str = Field(description="The pair's HTML page, for people.")


class RelationList(BaseModel):
    items: list[RelationSummary] = Field(
        description="Every pair with published facts, most facts first."
    )
