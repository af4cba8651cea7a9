"""Entities: the countries, people, organizations, initiatives and events facts are about."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class EntityKind(StrEnum):
    country = "country"
    person = "person"
    organization = "organization"
    initiative = "initiative"
    event = "event"


class Entity(SQLModel, table=True):
    """Countries use their ISO 3166-1 alpha-3 code as id; other entities a stable slug."""

    id: str = Field(primary_key=True, max_length=80)
    kind: str = Field(index=True, max_length=20)
    name: str = Field(index=True, max_length=200)
    code: str | None = Field(default=None, unique=True, max_length=3)
    description: str | None = None
    aliases: list[str] = Field(default_factory=list, sa_type=JSON)
    date: str | None = Field(default=None, max_length=10, description="Events: reduced ISO date.")
    location: str | None = Field(default=None, max_length=200)
    revision: int = Field(default=1, description="+1 on every update.")
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Role(SQLModel, table=True):
    """A position a person held: title, organization and the time they held it."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="entity.id", index=True, max_length=80)
    organization_id: str | None = Field(default=None, foreign_key="entity.id", max_length=80)
    title: str = Field(max_length=200)
    text: str | None = Field(default=None, max_length=200, description="The role as printed.")
    start: str | None = Field(default=None, max_length=10)
    end: str | None = Field(default=None, max_length=10)
