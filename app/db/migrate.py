"""Alembic, driven from code: `econfacts db upgrade`, readiness checks and tests share it.

Alembic is imported where it is used, not here: it brings Mako and Pygments (0.2 s),
which the server does not need until its first readiness check.
"""

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@lru_cache
def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(database_url: str, revision: str = "head") -> int:
    """Migrate, then (at the head) make the stored fact documents again if this code's
    shape differs from theirs (app.facts.shape). Returns how many documents were made."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)
    if revision != "head":
        return 0
    from sqlalchemy import create_engine

    from app.facts.shape import refresh_documents

    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            return refresh_documents(connection)
    finally:
        engine.dispose()


def downgrade(database_url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)
