"""Facts: one sourced claim about a relationship between two entities.

Agreements are facts of kind `agreement` whose extra attributes (title,
parties, event, sectors) live in `attributes`; /v1/agreements is a view on
them, so one table, one evidence rule and one history serve both.
"""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Numeric, Text
from sqlmodel import Field, SQLModel

from app.versioning import Versioned, current_index, current_revision_unique

MONEY = Numeric(30, 6)
"""Decimal, never float: 24 integer digits and 6 decimals hold any figure we print."""


class FactKind(StrEnum):
    investment = "investment"
    trade_turnover = "trade_turnover"
    trade_growth = "trade_growth"
    partner_rank = "partner_rank"
    agreement = "agreement"
    diplomatic_event = "diplomatic_event"
    relationship_status = "relationship_status"
    exports = "exports"
    financing = "financing"


class Modality(StrEnum):
    """Whether a figure happened. Officials put targets ("raise trade to $10 billion by
    2030") and forecasts ("will reach") next to actual figures; served as reported, a target
    would become a pair's headline figure, so latest figures, series and conflicts read
    `reported` facts only."""

    reported = "reported"
    target = "target"
    forecast = "forecast"


class Direction(StrEnum):
    subject_to_counterpart = "subject_to_counterpart"
    bilateral = "bilateral"


class Comparator(StrEnum):
    exact = "exact"
    approx = "approx"
    more_than = "more_than"
    at_least = "at_least"
    less_than = "less_than"
    at_most = "at_most"


class Status(StrEnum):
    draft = "draft"
    published = "published"
    retracted = "retracted"
    rejected = "rejected"


class TimeType(StrEnum):
    date = "date"
    period = "period"


class Fact(Versioned, table=True):
    """One revision of a fact; see app.versioning for how revisions work."""

    __table_args__ = (
        current_revision_unique("fact"),
        # Current rows, by the filters lists offer, each ending in the default order, so a
        # filtered page is one index range read in order (no sort, deep pages as cheap).
        current_index("fact", "pair", "pair_key", "kind", "status", "sort_date", "id"),
        current_index("fact", "kind", "kind", "status", "sort_date", "id"),
        current_index("fact", "date", "status", "sort_date", "id"),
        current_index("fact", "subject", "subject_id", "status", "sort_date", "id"),
        current_index("fact", "counterpart", "counterpart_id", "status", "sort_date", "id"),
        current_index("fact", "speaker", "claimed_by_id", "status", "sort_date", "id"),
        current_index("fact", "source", "source_id", "status", "sort_date", "id"),
        current_index("fact", "value", "value_low", "value_high"),
        # as_of reads walk the history of a pair or kind.
        Index("ix_fact_history_pair", "pair_key", "kind", "sort_date"),
        Index("ix_fact_history_kind", "kind", "sort_date"),
    )

    id: str = Field(primary_key=True, max_length=80)
    kind: str = Field(max_length=40)
    statement: str = Field(sa_type=Text)
    subject_id: str = Field(foreign_key="entity.id", max_length=80)
    counterpart_id: str | None = Field(default=None, foreign_key="entity.id", max_length=80)
    direction: str = Field(max_length=40)
    pair_key: str = Field(
        max_length=170, description="The pair in code order (AZE-CHN), for order-free lookups."
    )

    value: Decimal | None = Field(default=None, sa_type=MONEY)
    unit: str | None = Field(default=None, max_length=20)
    comparator: str | None = Field(default=None, max_length=20)
    hedge: str | None = Field(default=None, max_length=60)
    value_low: Decimal | None = Field(default=None, sa_type=MONEY)
    value_high: Decimal | None = Field(default=None, sa_type=MONEY)
    quantity_text: str | None = Field(default=None, max_length=500)

    time_type: str | None = Field(default=None, max_length=10)
    time_start: date | None = None
    time_start_precision: str | None = Field(default=None, max_length=10)
    time_end: date | None = None
    time_end_precision: str | None = Field(default=None, max_length=10)
    time_text: str | None = Field(default=None, max_length=500)
    sort_date: date = Field(description="time_start, or 0001-01-01 when undated: the sort key.")

    claimed_by_id: str | None = Field(default=None, foreign_key="entity.id", max_length=80)
    claimed_role: str | None = Field(default=None, max_length=200)

    source_id: str = Field(foreign_key="source.id", max_length=80)
    evidence_start: int
    evidence_end: int
    evidence_text: str = Field(sa_type=Text)

    modality: str = Field(default=Modality.reported, max_length=20)
    sector: str | None = Field(
        default=None,
        max_length=100,
        description="A part of the whole, e.g. `oil` in a breakdown; null for the whole.",
    )

    mentions: list[str] = Field(default_factory=list, sa_type=JSON)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=Status.published, max_length=20)
    confidence: float | None = Field(
        default=None, description="Extraction candidates: how sure the extractor is (0-1)."
    )
    document: str = Field(
        default="",
        sa_type=Text,
        description="This revision's public JSON (FactPublic), made when it is inserted: "
        "what reads send (app.facts.shape).",
    )


class DocumentShape(SQLModel, table=True):
    """Which shape the stored documents of a resource were made for (app.facts.shape.SHAPE):
    `econfacts db upgrade` makes them again when the code's shape differs."""

    __tablename__ = "document_shape"

    resource: str = Field(primary_key=True, max_length=20)
    digest: str = Field(max_length=64)


UNDATED = date(1, 1, 1)
"""The sort_date of a fact without a time: it sorts as the oldest."""


def pair_key(subject: str, counterpart: str | None) -> str:
    """AZE-CHN for either order: the pair filter is one equality, served by an index."""
    return "-".join(sorted(filter(None, (subject, counterpart))))
