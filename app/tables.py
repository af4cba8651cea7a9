"""Every table, imported once so SQLModel.metadata is complete (for Alembic and tests)."""

from sqlmodel import SQLModel

from app.auth.models import ApiKey
from app.desk.models import DeskSession
from app.entities.models import Entity, Role
from app.facts.models import DocumentShape, Fact
from app.idempotency import IdempotentRequest
from app.quotes.models import Quote, QuoteMention
from app.sources.models import Source
from app.versioning import Change

metadata = SQLModel.metadata

__all__ = [
    "ApiKey",
    "Change",
    "DeskSession",
    "DocumentShape",
    "Entity",
    "Fact",
    "IdempotentRequest",
    "Quote",
    "QuoteMention",
    "Role",
    "Source",
    "metadata",
]
