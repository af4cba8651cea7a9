"""Quotes: a speaker's exact words, where they were published and what they support."""

from datetime import date, datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class Quote(SQLModel, table=True):
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
    status: str = Field(default="published", index=True, max_length=20)
    revision: int = Field(default=1)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class QuoteMention(SQLModel, table=True):
    __tablename__ = "quote_mention"

    quote_id: str = Field(foreign_key="quote.id", primary_key=True, max_length=80)
    entity_id: str = Field(foreign_key="entity.id", primary_key=True, index=True, max_length=80)


class QuoteSupport(SQLModel, table=True):
    """Which facts a quote is the evidence for."""

    __tablename__ = "quote_support"

    quote_id: str = Field(foreign_key="quote.id", primary_key=True, max_length=80)
    fact_id: str = Field(foreign_key="fact.id", primary_key=True, index=True, max_length=80)
