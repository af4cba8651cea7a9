"""Source shapes and filters."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from app.entities.schemas import EntityRef
from app.pagination import ListQuery
from app.strict import Strict

SOURCE_EXAMPLE: dict[str, Any] = {
    "id": "trend-4036385",
    "outlet": {"id": "trend", "kind": "organization", "name": "Trend News Agency", "code": None},
    "url": "https://en.trend.az/azerbaijan/politics/4036385.html",
    "title": "Azerbaijani MPs describe growth of economic and political ties between Azerbaijan "
    "and China",
    "published": "2025-04-28",
    "dateline": "Baku",
    "language": "en",
    "sha256": "41ef39edef5ce4cbdb09d324137e49aabe6719667b181c1fd1753515c998bdf3",
    "created_at": "2025-04-28T00:00:00Z",
}


class SourceSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SOURCE_EXAMPLE]})

    id: str
    outlet: EntityRef
    url: str | None
    title: str
    published: date
    dateline: str | None
    language: str = Field(description="BCP 47 language tag.")
    sha256: str = Field(description="SHA-256 of the UTF-8 text, hex.")
    created_at: datetime


class SourcePublic(SourceSummary):
    text: str = Field(description="The full text; evidence offsets index into it (code points).")


class SourceQuery(ListQuery):
    """Filters for GET /v1/sources."""

    outlet: str | None = Field(None, description="Outlet entity id.", examples=["trend"])
    language: str | None = Field(None, examples=["en"])


class SourceCreate(Strict):
    """A new source article. Its text is stored exactly as sent and never changes afterwards:
    evidence offsets index into it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "outlet": "trend",
                    "url": "https://en.trend.az/business/example-0001.html",
                    "title": "Chinese investment in Azerbaijan reaches $942.3 million",
                    "published": "2025-06-02",
                    "dateline": "Baku",
                    "language": "en",
                    "text": "BAKU, Azerbaijan, June 2. Chinese companies have invested "
                    "$942.3 million in Azerbaijan's economy since 1995, the Ministry of "
                    "Economy said.",
                }
            ]
        },
    )

    outlet: str = Field(description="Entity id of the outlet (an organization).")
    url: HttpUrl | None = None
    title: str = Field(min_length=1, max_length=500)
    published: date = Field(description="Publication date; not in the future.")
    dateline: str | None = Field(None, max_length=200)
    language: str = Field("en", min_length=2, max_length=8, description="BCP 47 tag, e.g. en.")
    text: str = Field(min_length=1, description="The full article text.")

    @field_validator("text")
    @classmethod
    def _text(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the text is empty")
        if "\x00" in text:
            raise ValueError("the text contains a NUL character")
        return text


class SourceUpdate(Strict):
    """Metadata to change. The text cannot change: evidence offsets point into it."""

    outlet: str | None = None
    url: HttpUrl | None = None
    title: str | None = Field(None, min_length=1, max_length=500)
    published: date | None = None
    dateline: str | None = Field(None, max_length=200)
    language: str | None = Field(None, min_length=2, max_length=8)
