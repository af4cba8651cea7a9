"""The change feed's shapes."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.versioning import Action

Resource = Literal["fact", "quote", "entity", "source"]


class ChangePublic(BaseModel):
    resource: Resource
    id: str = Field(description="The changed record's id.")
    revision: int = Field(description="Its revision after the change.")
    action: Action
    actor: str = Field(description="The API key name that made the change.")
    at: datetime
    href: str = Field(description="Where to read the record now.")


class ChangePage(BaseModel):
    items: list[ChangePublic]
    next: str = Field(
        description="Cursor to pass as `since` next time: after the last change on this page, "
        "or the same position when there was nothing new. Store it; it never expires."
    )
    has_more: bool = Field(description="True if more changes are waiting right now.")


class ChangeQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: str | None = Field(
        None, description="The `next` of your last call; omit to start from the beginning."
    )
    limit: int | None = Field(None, ge=1, description="Page size; default 50, at most 500.")
    resource: list[Resource] = Field(
        default_factory=list, description="Only these kinds of record. Repeatable."
    )
