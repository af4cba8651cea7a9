"""Fact shapes: what clients receive and the filters they may send."""

import datetime as dt
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from app.countries import CountryCode, normalise_country_code
from app.entities.schemas import EntityRef
from app.facts.models import Comparator, Direction, FactKind, Modality, Status, TimeType
from app.pagination import ListQuery
from app.search import check_words
from app.strict import Strict, not_null
from app.timeframes import Precision, ReducedDate, ReducedDateText, TimeWindow

MAX_FIGURE = Decimal(10) ** 24
"""The largest figure a fact can hold (Numeric(30, 6))."""

NON_CURRENCY_UNITS = frozenset({"documents", "rank", "ratio", "years", "percent", "count"})
UNIT_PATTERN = r"^\s*[A-Za-z]{3,9}\s*$"
"""A unit's shape, any case: an ISO 4217 code (it must also exist) or one of
NON_CURRENCY_UNITS (documents is the longest)."""
DECIMAL_PATTERN = r"^\s*-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"
DECIMAL_SCHEMA = WithJsonSchema(
    {"anyOf": [{"type": "number"}, {"type": "string", "pattern": DECIMAL_PATTERN}]}
)
"""Decimals come as JSON numbers or as decimal strings (exact): `"942300000"`."""
FIGURE_SCHEMA = WithJsonSchema(
    {
        "anyOf": [
            {"type": "number", "minimum": -1e24, "maximum": 1e24},
            {"type": "string", "pattern": r"^\s*-?\d{1,24}(\.\d{1,6})?\s*$"},
        ],
        "description": "Not negative, except a percent change (a fall of 7.1% is -7.1). At "
        "most 24 digits before the point and 6 after; an exact decimal string is best.",
    }
)
"""A stored figure (Numeric(30, 6)): what the schema can say of its bounds."""


def normalise_unit(unit: str | None) -> str | None:
    """Units as stored, whatever the case a filter is typed in: currencies upper case
    (`usd` -> USD), the others lower case (`Documents` -> documents)."""
    if unit is None:
        return None
    cleaned = unit.strip()
    if not cleaned:
        return unit  # matches nothing (and the pattern refuses it where there is one)
    return cleaned.lower() if cleaned.lower() in NON_CURRENCY_UNITS else cleaned.upper()


class Quantity(BaseModel):
    value: Decimal = Field(description="The figure as a decimal string, in full units.")
    unit: str = Field(description="ISO 4217 currency code, or documents, rank, ratio, years.")
    comparator: Comparator
    hedge: str | None = Field(description="The hedge word as printed, e.g. `nearly`.")
    low: Decimal | None = Field(description="Lowest value the wording allows (see value_min).")
    high: Decimal | None = Field(description="Highest value the wording allows; null = unbounded.")
    text: str | None = Field(description="The original words, e.g. `nearly $1 billion`.")


class FactTime(BaseModel):
    """A date ("in 2019") or a period ("since 1995"), as precise as the source was."""

    type: TimeType
    date: str | None = Field(None, description="type=date: reduced ISO date (2019, 2024-07).")
    precision: Precision | None = Field(None, description="type=date: year, month or day.")
    start: str | None = Field(None, description="type=period: start, reduced ISO date.")
    start_precision: Precision | None = None
    end: str | None = Field(None, description="type=period: end, reduced ISO date.")
    end_precision: Precision | None = None
    text: str | None = Field(description="The original words; null when only implied.")
    first_day: dt.date = Field(description="First day covered, for overlap filters (`from`/`to`).")
    last_day: dt.date = Field(description="Last day covered.")


class ClaimedBy(BaseModel):
    id: str
    name: str
    role: str | None = Field(description="The speaker's role as printed then, e.g. `MP`.")


class Evidence(BaseModel):
    source_id: str
    start: int = Field(
        description="Offset of the first character in the source text (code points)."
    )
    end: int = Field(description="Offset after the last character.")
    text: str = Field(description="Exactly `source.text[start:end]`.")


class AgreementDetails(BaseModel):
    title: str
    parties: list[EntityRef]
    event: EntityRef | None
    documents: int | None = Field(description="How many documents were signed, if stated.")
    sectors: list[str]


FACT_EXAMPLE: dict[str, Any] = {
    "id": "aze-chn-investment-chn-to-aze-since-1995",
    "kind": "investment",
    "statement": "Chinese companies have invested nearly $1 billion in Azerbaijan's economy "
    "since 1995.",
    "subject": {"id": "CHN", "kind": "country", "name": "China", "code": "CHN"},
    "counterpart": {"id": "AZE", "kind": "country", "name": "Azerbaijan", "code": "AZE"},
    "direction": "subject_to_counterpart",
    "quantity": {
        "value": "1000000000",
        "unit": "USD",
        "comparator": "approx",
        "hedge": "nearly",
        "low": "900000000",
        "high": "1000000000",
        "text": "nearly $1 billion",
    },
    "time": {
        "type": "period",
        "date": None,
        "precision": None,
        "start": "1995",
        "start_precision": "year",
        "end": "2025-04-28",
        "end_precision": "day",
        "text": "since 1995",
        "first_day": "1995-01-01",
        "last_day": "2025-04-28",
    },
    "claimed_by": {"id": "arzukhan-alizadeh", "name": "Arzukhan Alizadeh", "role": "MP"},
    "evidence": {
        "source_id": "trend-4036385",
        "start": 374,
        "end": 459,
        "text": "since 1995, Chinese companies have invested nearly $1 billion in "
        "Azerbaijan’s economy",
    },
    "modality": "reported",
    "sector": None,
    "mentions": [],
    "agreement": None,
    "status": "published",
    "confidence": None,
    "revision": 1,
    "created_at": "2025-04-28T00:00:00Z",
    "updated_at": "2025-04-28T00:00:00Z",
}


MODALITY_HELP = (
    '`reported`: stated as having happened; `target`: a goal someone set ("raise trade to '
    '$10 billion by 2030"; its time is the year it is for); `forecast`: an expectation '
    '("will reach"). Dossiers, series and conflicts read reported facts only.'
)
SECTOR_HELP = "The part of the whole a figure covers (`oil` in a breakdown); null for the whole."


class FactPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [FACT_EXAMPLE]})

    id: str
    kind: FactKind
    statement: str = Field(description="The claim in one plain sentence.")
    subject: EntityRef
    counterpart: EntityRef | None
    direction: Direction = Field(
        description="`subject_to_counterpart` for flows (investment: subject invested in "
        "counterpart); `bilateral` otherwise."
    )
    quantity: Quantity | None
    time: FactTime | None
    modality: Modality = Field(description=MODALITY_HELP)
    sector: str | None = Field(description=SECTOR_HELP)
    claimed_by: ClaimedBy | None
    evidence: Evidence
    mentions: list[EntityRef]
    agreement: AgreementDetails | None = Field(description="Only for kind=agreement.")
    status: Status
    confidence: float | None = Field(
        description="For extraction candidates, the extractor's confidence (0-1); null for "
        "curated facts."
    )
    revision: int
    created_at: datetime
    updated_at: datetime


FactSort = Literal["date", "-date", "value", "-value", "id", "-id"]


def _country_list(values: list[str]) -> list[str]:
    return [normalise_country_code(v) for v in values]


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NAIVE_TIME_PATTERN = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d"
    r"(:[0-5]\d(\.\d{1,6})?)?$"
)
_MOMENT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})?$"
)


def as_of_moment(value: Any) -> Any:
    """`2025-05-01` means the end of that day in UTC (everything written that day counts);
    a time without an offset is UTC. Only those two and RFC 3339 times are taken: not
    numbers (which the datetime parser would read as Unix seconds)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _DAY.match(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{value}' is not a calendar date") from None
        return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
    wrong = (
        f"'{value}' is not a time: use RFC 3339 (2025-05-01T12:00:00Z), a time without "
        "offset (UTC) or a date (the end of that day, UTC)"
    )
    if not _MOMENT.match(text):
        raise ValueError(wrong)
    try:
        return dt.datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise ValueError(wrong + " that exists on the calendar") from None


AS_OF_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
        {"type": "string", "pattern": NAIVE_TIME_PATTERN},
    ],
}


class AsOf(BaseModel):
    """`as_of`: read the data exactly as it was at that time."""

    as_of: dt.datetime | None = Field(
        None,
        description="The moment to answer as of: the revisions that were current then "
        "(retracted-later facts included, corrections made later excluded). An RFC 3339 "
        "time (`2025-05-01T12:00:00Z`, any offset); a time without an offset "
        "(`2025-05-01T12:00:00`) is UTC; a date alone (`2025-05-01`) means the end of that "
        "day, UTC.",
        json_schema_extra=AS_OF_SCHEMA,
    )

    _moment = field_validator("as_of", mode="before")(as_of_moment)

    @field_validator("as_of")
    @classmethod
    def _in_range(cls, value: dt.datetime | None) -> dt.datetime | None:
        """Any offset is fine, as long as the moment exists in UTC (year 1 to 9999)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError("as_of is outside the years 1 to 9999 in UTC") from None


class ItemQuery(AsOf):
    """Query parameters of an item GET: only `as_of`; anything else is a 400."""

    model_config = ConfigDict(extra="forbid")


class RecordFilters(TimeWindow, AsOf):
    """The filters of every list of sourced records: /v1/facts and its facets, and
    /v1/agreements (facts of kind agreement), which adds nothing of its own."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    country: list[CountryCode] = Field(
        default_factory=list,
        description="ISO 3166-1 code on either side (subject or counterpart). Repeatable: "
        "any of them.",
        examples=[["AZE"]],
    )
    counterpart: CountryCode | None = Field(
        None,
        description="The other side of the pair. With `country`, the pair filter is "
        "order-insensitive unless `direction=subject_to_counterpart` is given, which then "
        "means `country` -> `counterpart`.",
        examples=["CHN"],
    )
    speaker: str | None = Field(
        None,
        description="Entity id of the person who claimed the fact.",
        examples=["arzukhan-alizadeh"],
    )
    source: str | None = Field(None, description="Source id.", examples=["trend-4036385"])
    status: list[Status] = Field(
        default_factory=lambda: [Status.published],
        description="Repeatable; default `published`.",
    )
    q: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Words that must all appear in the statement or the evidence "
        "(case-insensitive).",
        examples=["investment"],
    )

    _words = field_validator("q")(check_words)

    @field_validator("country")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        return _country_list(value)

    @field_validator("counterpart")
    @classmethod
    def _counterpart(cls, value: str | None) -> str | None:
        return None if value is None else normalise_country_code(value)


class FactFilters(RecordFilters):
    """Filters for GET /v1/facts and its facets: the record filters, and the fact's own
    (kind, direction, figure, modality)."""

    direction: Direction | None = None
    kind: list[FactKind] = Field(default_factory=list, description="Repeatable: any of them.")
    value_min: Annotated[Decimal, DECIMAL_SCHEMA] | None = Field(
        None,
        description="Keep facts whose implied interval reaches this value: `more than $3.5 "
        "billion` matches value_min=3000000000. Facts without a figure are left out.",
        examples=["3000000000"],
        allow_inf_nan=False,
    )
    value_max: Annotated[Decimal, DECIMAL_SCHEMA] | None = Field(
        None,
        description="Keep facts whose implied interval starts at or below this value: "
        "`nearly $1 billion` matches value_max=1000000000.",
        allow_inf_nan=False,
    )
    unit: str | None = Field(
        None,
        pattern=UNIT_PATTERN,
        description="Unit of the figure, any case: USD (or usd), documents, rank...",
        examples=["USD"],
    )
    comparator: Comparator | None = None
    modality: list[Modality] = Field(
        default_factory=list,
        description="Repeatable: any of them; default all. `modality=reported` leaves out "
        "targets and forecasts.",
    )

    _unit = field_validator("unit")(normalise_unit)

    @field_validator("value_min", "value_max")
    @classmethod
    def _within_storable(cls, value: Decimal | None) -> Decimal | None:
        """No stored figure exceeds MAX_FIGURE, so a larger bound selects the same facts;
        clamping it keeps the database from overflowing on 1e999999."""
        if value is None:
            return None
        return max(-MAX_FIGURE, min(MAX_FIGURE, value))


class FactQuery(ListQuery, FactFilters):
    """GET /v1/facts: the filters, a sort order and paging."""

    sort: FactSort = Field(
        "-date",
        description="Order: date (when the fact's time starts; undated facts count as the "
        "oldest), value (facts without a figure last) or id; `-` for descending.",
    )


class Count(BaseModel):
    value: str = Field(description="The kind, entity id, source id or year.")
    label: str | None = Field(None, description="A readable name, where there is one.")
    count: int


class FactFacets(BaseModel):
    """Counts over the facts that match the filters, for filter menus and overviews."""

    total: int
    kind: list[Count]
    country: list[Count] = Field(description="Either side of the pair.")
    speaker: list[Count]
    source: list[Count]
    year: list[Count] = Field(description="Year the fact's time starts.")


# --- writes -----------------------------------------------------------------------------


class QuantityIn(Strict):
    unit: str = Field(
        json_schema_extra={"pattern": UNIT_PATTERN},
        description="ISO 4217 currency code (USD, EUR, AZN...) or one of: "
        + ", ".join(sorted(NON_CURRENCY_UNITS))
        + ".",
    )
    value: Annotated[Decimal, FIGURE_SCHEMA] = Field(
        allow_inf_nan=False,
        max_digits=30,
        decimal_places=6,
        description="Not negative, except a percent change (a fall of 7.1% is -7.1).",
    )
    comparator: Comparator
    hedge: str | None = Field(None, max_length=60, examples=["nearly"])
    text: str | None = Field(
        None, max_length=500, description="The original words; must occur in the evidence."
    )

    @field_validator("unit")
    @classmethod
    def _unit(cls, unit: str) -> str:
        import pycountry

        unit = unit.strip()
        if unit in NON_CURRENCY_UNITS:
            return unit
        if pycountry.currencies.get(alpha_3=unit.upper()) is not None:
            return unit.upper()
        raise ValueError(
            f"'{unit}' is neither an ISO 4217 currency code nor one of "
            f"{', '.join(sorted(NON_CURRENCY_UNITS))}"
        )

    @field_validator("value")
    @classmethod
    def _sign(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        """Declared after `unit`, so the unit is known here and the error names `value`."""
        if value < 0 and info.data.get("unit") != "percent":
            raise ValueError("only a percent change can be negative (a fall of 7.1% is -7.1)")
        return value


class TimeIn(Strict):
    type: TimeType
    date: ReducedDateText | None = Field(
        None, description="type=date: YYYY, YYYY-MM or YYYY-MM-DD."
    )
    start: ReducedDateText | None = Field(None, description="type=period: reduced ISO date.")
    end: ReducedDateText | None = Field(None, description="type=period: reduced ISO date.")
    text: str | None = Field(
        None, max_length=500, description="The original words; must occur in the evidence."
    )

    @model_validator(mode="after")
    def _shape(self) -> "TimeIn":
        if self.type is TimeType.date:
            if self.date is None or self.start is not None or self.end is not None:
                raise ValueError("type=date takes `date` (and no start/end)")
            ReducedDate.parse(self.date)
        else:
            if self.start is None or self.end is None or self.date is not None:
                raise ValueError("type=period takes `start` and `end` (and no date)")
            if ReducedDate.parse(self.start).first_day > ReducedDate.parse(self.end).last_day:
                raise ValueError("the period starts after it ends")
        return self


class EvidenceIn(Strict):
    source_id: str = Field(examples=["trend-4036385"])
    start: int = Field(ge=0)
    end: int = Field(ge=1)
    text: str = Field(min_length=1, description="Must equal the source text[start:end].")


class AgreementIn(Strict):
    title: str = Field(min_length=1, max_length=500)
    parties: list[str] = Field(min_length=1, description="Entity ids (country codes).")
    event: str | None = Field(None, description="Entity id of the event where it was signed.")
    documents: int | None = Field(None, ge=0, le=1_000_000)
    sectors: list[str] = Field(default_factory=list)


FACT_CREATE_EXAMPLE: dict[str, Any] = {
    "kind": "trade_turnover",
    "statement": "Trade turnover between Azerbaijan and China has surpassed $3.5 billion over "
    "the last five years.",
    "subject": "AZE",
    "counterpart": "CHN",
    "direction": "bilateral",
    "quantity": {
        "value": "3500000000",
        "unit": "USD",
        "comparator": "more_than",
        "hedge": "surpassing",
        "text": "surpassing $3.5 billion",
    },
    "time": {
        "type": "period",
        "start": "2020",
        "end": "2025-04-28",
        "text": "over the last five years",
    },
    "claimed_by": "arzukhan-alizadeh",
    "claimed_role": "MP",
    "evidence": {
        "source_id": "trend-4036385",
        "start": 1244,
        "end": 1360,
        "text": "over the last five years, trade turnover between Azerbaijan and China has more "
        "than doubled, surpassing $3.5 billion",
    },
    "mentions": [],
}


class FactCreate(Strict):
    """A new fact. The server sets id, revision, status (published) and timestamps."""

    model_config = ConfigDict(json_schema_extra={"examples": [FACT_CREATE_EXAMPLE]})

    kind: FactKind
    statement: str = Field(min_length=1, max_length=2000)
    subject: str = Field(description="Entity id; a country by its ISO 3166-1 code.")
    counterpart: str | None = Field(None, description="Entity id; a country by its code.")
    direction: Direction = Direction.bilateral
    quantity: QuantityIn | None = None
    time: TimeIn | None = None
    modality: Modality = Field(Modality.reported, description=MODALITY_HELP)
    sector: str | None = Field(None, min_length=1, max_length=100, description=SECTOR_HELP)
    claimed_by: str | None = Field(None, description="Entity id of the person claiming it.")
    claimed_role: str | None = Field(None, max_length=200)
    evidence: EvidenceIn
    mentions: list[str] = Field(default_factory=list, description="Other entity ids named.")
    agreement: AgreementIn | None = Field(None, description="Required for kind=agreement only.")

    @model_validator(mode="after")
    def _agreement_only_for_agreements(self) -> "FactCreate":
        if (self.kind is FactKind.agreement) != (self.agreement is not None):
            raise ValueError("`agreement` is required for kind=agreement and allowed for no other")
        return self


class FactUpdate(Strict):
    """Fields to change; omitted fields keep their value, null clears an optional one."""

    model_config = ConfigDict(
        json_schema_extra=not_null(
            "kind",
            "statement",
            "subject",
            "direction",
            "modality",
            "evidence",
            "mentions",
            examples=[
                {
                    "quantity": {
                        "value": "942300000",
                        "unit": "USD",
                        "comparator": "exact",
                        "hedge": None,
                        "text": None,
                    },
                    "reason": "Corrected to the exact figure reported later.",
                }
            ],
        )
    )

    kind: FactKind | None = None
    statement: str | None = Field(None, min_length=1, max_length=2000)
    subject: str | None = None
    counterpart: str | None = None
    direction: Direction | None = None
    quantity: QuantityIn | None = None
    time: TimeIn | None = None
    modality: Modality | None = None
    sector: str | None = Field(None, min_length=1, max_length=100)
    claimed_by: str | None = None
    claimed_role: str | None = Field(None, max_length=200)
    evidence: EvidenceIn | None = None
    mentions: list[str] | None = None
    agreement: AgreementIn | None = None
    reason: str | None = Field(None, max_length=2000, description="Why; kept in the revision.")


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=2000, examples=["Superseded by a newer figure."])
