"""API keys, stored as SHA-256 hashes: the database never holds a usable key."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class Scope(StrEnum):
    """Ordered: each scope can do everything the ones before it can."""

    read = "read"
    write = "write"
    admin = "admin"

    @property
    def level(self) -> int:
        return list(Scope).index(self)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=120, description="Also the actor in revisions.")
    prefix: str = Field(unique=True, max_length=16, description="Public part, to find the key.")
    hash: str = Field(max_length=64, description="SHA-256 of the whole key, hex.")
    scope: str = Field(max_length=10)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
