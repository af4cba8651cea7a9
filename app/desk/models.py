"""Desk sessions: an API key exchanged for a server-side session, kept in the database so
every worker and replica sees the same sessions.

The cookie carries a random token; the table keeps only its SHA-256 (as for API keys, the
token has 256 bits of randomness, so a fast hash is right). The CSRF secret is per session
and is sent back by the pages in `X-CSRF-Token` on every state-changing request.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class DeskSession(SQLModel, table=True):
    __tablename__ = "desk_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64, description="SHA-256 of the token, hex.")
    key_id: int = Field(foreign_key="api_key.id", index=True)
    csrf_secret: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    signed_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
