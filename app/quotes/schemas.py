"""Quote shapes and filters."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.countries import CountryCode, normalise_country_code
from app.entities.schemas import EntityRef
from app.facts.models import Status
from app.facts.schemas import AsOf, ClaimedBy, Evidence, EvidenceIn, Strict
from app.pagination import ListQuery
from app.search import check_words
from app.strict import not_null
from app.timeframes import ReducedDate, ReducedDateText, TimeWindow

QUOTE_EXAMPLE: dict[str, Any] = {
    "id": "alizadeh-investment-belt-and-road",
    "text": "In parallel, Azerbaijan has invested around $2 billion into China’s economy over "
    "these years. ...",
    "speaker": {"id": "arzukhan-alizadeh", "name": "Arzukhan Alizadeh", "role": "MP"},
    "said_to": {"id": "trend", "kind": "organization", "name": "Trend News Agency", "code": None},
    "date": "2025-04-28",
    "evidence": {
        "source_id": "trend-4036385",
        "start": 463,
        "end": 952,
        "text": "In parallel, ...",
    },
    "mentions": [{"id": "AZE", "kind": "country", "name": "Azerbaijan", "code": "AZE"}],
    "supports": ["aze-chn-investment-aze-to-chn"],
    "status": "published",
    "confidence": None,
    "revision": 1,
    "created_at": "2025-04-28T00:00:00Z",
    "updated_at": "2025-04-28T00:00:00Z",
}


class QuotePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [QUOTE_EXAMPLE]})

    id: str
    text: str = Field(description="The exact words, without the quotation marks.")
    speaker: ClaimedBy
    said_to: EntityRef | None = Field(description="The outlet the words were said to.")
    date: str | None = Field(description="When the words were published (reduced ISO date).")
    evidence: Evidence
    mentions: list[EntityRef]
    supports: list[str] = Field(description="Ids of the facts this quote is evidence for.")
    status: Status
    confidence: float | None = Field(
        description="For extraction candidates, the speaker attribution's confidence (0-1)."
    )
    revision: int
    created_at: datetime
    updated_at: datetime


class QuoteQuery(ListQuery, TimeWindow, AsOf):
    """Filters for GET /v1/quotes."""

    speaker: str | None = Field(
        None, description="Speaker entity id.", examples=["azer-allahveranov"]
    )
    source: str | None = Field(None, description="Source id.", examples=["trend-4036385"])
    country: list[CountryCode] = Field(
        default_factory=list,
        description="ISO 3166-1 code of a country the quote mentions. Repeatable: any of them.",
        examples=[["CHN"]],
    )
    q: str | None = Field(
        None, min_length=1, max_length=200, description="Words that must all appear in the quote."
    )

    _words = field_validator("q")(check_words)
    status: list[Status] = Field(
        default_factory=lambda: [Status.published], description="Repeatable; default published."
    )
    sort: Literal["date", "-date", "id", "-id"] = "-date"

    @field_validator("country")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        return [normalise_country_code(v) for v in value]


def _reduced_date(value: str | None) -> str | None:
    if value is not None:
        ReducedDate.parse(value)
    return value


class QuoteCreate(Strict):
    """A new quote: the words are the evidence text, exactly as in the source."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "speaker": "arzukhan-alizadeh",
                    "speaker_role": "MP",
                    "said_to": "trend",
                    "date": "2025-04-28",
                    "evidence": {
                        "source_id": "trend-4036385",
                        "start": 1069,
                        "end": 1229,
                        "text": "Notably, in 2019, at the Beijing International Forum, ten "
                        "documents covering the economy, industry, and investment sectors were "
                        "signed between the two countries",
                    },
                    "mentions": ["AZE", "CHN", "beijing-forum-2019"],
                    "supports": ["aze-chn-agreement-beijing-forum-2019"],
                }
            ]
        }
    )

    speaker: str = Field(description="Entity id of the person speaking.")
    speaker_role: str | None = Field(None, max_length=200, description="Role as printed.")
    said_to: str | None = Field(None, description="Entity id of the outlet.")
    date: ReducedDateText | None = Field(None, description="YYYY, YYYY-MM or YYYY-MM-DD.")
    evidence: EvidenceIn
    mentions: list[str] = Field(default_factory=list)
    supports: list[str] = Field(default_factory=list, description="Fact ids.")

    _date = field_validator("date")(_reduced_date)


class QuoteUpdate(Strict):
    """Fields to change; omitted fields keep their value."""

    model_config = ConfigDict(
        json_schema_extra=not_null("speaker", "evidence", "mentions", "supports")
    )

    speaker: str | None = None
    speaker_role: str | None = Field(None, max_length=200)
    said_to: str | None = None
    date: str | None = None
    evidence: EvidenceIn | None = None
    mentions: list[str] | None = None
    supports: list[str] | None = None
    reason: str | None = Field(None, max_length=2000)

    _date = field_validator("date")(_reduced_date)
