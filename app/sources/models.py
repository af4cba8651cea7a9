"""Sources: the articles facts and quotes are traced to, with their full text."""

from datetime import date, datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class Source(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=80)
    outlet_id: str = Field(foreign_key="entity.id", index=True, max_length=80)
    url: str | None = Field(default=None, unique=True, max_length=2000)
    title: str = Field(max_length=500)
    published: date = Field(index=True)
    dateline: str | None = Field(default=None, max_length=200)
    language: str = Field(max_length=8)
    text: str = Field(sa_type=Text)
    sha256: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revision: int = Field(default=1, description="+1 on every update.")
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
