"""desk sessions

The editor's desk exchanges an API key for a server-side session: a hashed random token,
the key it was opened with, its CSRF secret, and when it was made, expires and was
signed out.

Revision ID: d35c5e551a10
Revises: a7c3e2d91b40
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "d35c5e551a10"
down_revision: str | None = "a7c3e2d91b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("csrf_secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["key_id"], ["api_key.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("desk_session") as batch_op:
        batch_op.create_index(batch_op.f("ix_desk_session_key_id"), ["key_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("desk_session") as batch_op:
        batch_op.drop_index(batch_op.f("ix_desk_session_key_id"))
    op.drop_table("desk_session")
