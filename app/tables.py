"""Every table, imported once so SQLModel.metadata is complete (for Alembic and tests)."""

from sqlmodel import SQLModel

from app.entities.models import Entity, Role
from app.facts.models import Fact, FactMention
from app.quotes.models import Quote, QuoteMention, QuoteSupport
from app.sources.models import Source

metadata = SQLModel.metadata

__all__ = [
    "Entity",
    "Fact",
    "FactMention",
    "Quote",
    "QuoteMention",
    "QuoteSupport",
    "Role",
    "Source",
    "metadata",
]
