"""Source shapes and filters."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.entities.schemas import EntityRef
from app.pagination import ListQuery

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
