"""fact modality and sector

Every existing fact was stated as happened, so modality backfills to `reported`; sector
stays null (the whole, not a part).

Revision ID: a7c3e2d91b40
Revises: f16be89e6106
Create Date: 2026-11-30 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a7c3e2d91b40"
down_revision: str | None = "f16be89e6106"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fact") as batch_op:
        batch_op.add_column(
            sa.Column(
                "modality",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default="reported",
            )
        )
        batch_op.add_column(
            sa.Column("sector", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("fact") as batch_op:
        batch_op.drop_column("sector")
        batch_op.drop_column("modality")
