"""fact documents

Every fact revision stores its public JSON (`document`), which reads send as it is, and
`document_shape` records which shape the stored documents were made for. The documents
themselves are made by `econfacts db upgrade` right after the migrations
(app.facts.shape.refresh_documents): it renders with the code's current models, which a
migration must not import (a later migration may add columns this one does not know).

Revision ID: b5e81f0c2a47
Revises: d35c5e551a10
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b5e81f0c2a47"
down_revision: str | None = "d35c5e551a10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fact") as batch_op:
        batch_op.add_column(sa.Column("document", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "document_shape",
        sa.Column("resource", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("resource"),
    )


def downgrade() -> None:
    op.drop_table("document_shape")
    with op.batch_alter_table("fact") as batch_op:
        batch_op.drop_column("document")
