"""Quotes: a speaker's exact words, where they were published and what they support."""

from datetime import date

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field, SQLModel

from app.versioning import Versioned, current_revision_unique


class Quote(Versioned, table=True):
    """One revision of a quote; see app.versioning."""

    __table_args__ = (current_revision_unique("quote"), Index("ix_quote_status", "status"))

    id: str = Field(primary_key=True, max_length=80)
    text: str = Field(sa_type=Text, description="The exact words, without quotation marks.")
    speaker_id: str = Field(foreign_key="entity.id", index=True, max_length=80)
    speaker_role: str | None = Field(default=None, max_length=200)
    said_to_id: str | None = Field(default=None, foreign_key="entity.id", max_length=80)
    said_on: date | None = Field(default=None, index=True)
    said_on_precision: str | None = Field(default=None, max_length=10)
    source_id: str = Field(foreign_key="source.id", index=True, max_length=80)
    evidence_start: int
    evidence_end: int
    supports: list[str] = Field(
        default_factory=list, sa_type=JSON, description="Ids of the facts this quote supports."
    )
    status: str = Field(default="published", max_length=20)
    confidence: float | None = Field(
        default=None, description="Extraction candidates: how sure the extractor is (0-1)."
    )


class QuoteMention(SQLModel, table=True):
    """Entities a quote revision mentions; a table (not JSON) so `country=` can use an index."""

    __tablename__ = "quote_mention"

    quote_id: str = Field(primary_key=True, max_length=80)
    revision: int = Field(primary_key=True)
    entity_id: str = Field(foreign_key="entity.id", primary_key=True, index=True, max_length=80)
