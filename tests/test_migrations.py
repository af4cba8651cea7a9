"""Alembic migrations on a real, empty database of each backend: up, down to nothing, up again,
and a schema that matches the models exactly.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import yaml
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import Database, make_settings
from fastapi.testclient import TestClient
from sqlalchemy import Connection, inspect
from sqlmodel import Session

from app.db import make_engine
from app.db.migrate import current_revision, downgrade, head_revision, upgrade
from app.main import create_app
from app.seed.loader import DATA_DIR, load_seed
from app.tables import metadata

OUR_TABLES = set(metadata.tables)
SEED = yaml.safe_load((DATA_DIR / "trend-4036385.yaml").read_text(encoding="utf-8"))


@contextmanager
def connect(url: str) -> Iterator[Connection]:
    engine = make_engine(make_settings(url))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    with connect(url) as conn:
        return set(inspect(conn).get_table_names())


def readiness(url: str) -> tuple[int, dict[str, object]]:
    application = create_app(make_settings(url))
    try:
        with TestClient(application) as client:
            response = client.get("/readyz")
    finally:
        application.state.engine.dispose()
    return response.status_code, response.json()


def test_upgrade_creates_every_table(empty_db: Database) -> None:
    """From nothing to head: every model table exists and the revision is recorded."""
    assert tables(empty_db.url) & OUR_TABLES == set()
    upgrade(empty_db.url)
    assert tables(empty_db.url) == OUR_TABLES | {"alembic_version"}
    with connect(empty_db.url) as conn:
        assert current_revision(conn) == head_revision()


def test_migrated_schema_matches_the_models(empty_db: Database) -> None:
    """Autogenerate finds nothing to do: no column, type, index or constraint drifted."""
    upgrade(empty_db.url)
    with connect(empty_db.url) as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_downgrade_to_base_removes_every_table(empty_db: Database) -> None:
    """Down to base leaves none of our tables and no recorded revision."""
    upgrade(empty_db.url)
    downgrade(empty_db.url, "base")
    assert tables(empty_db.url) & OUR_TABLES == set()
    with connect(empty_db.url) as conn:
        assert current_revision(conn) is None


def test_upgrade_again_after_downgrade(empty_db: Database) -> None:
    """Up, down, up: the second upgrade works and the result can be seeded and served."""
    upgrade(empty_db.url)
    downgrade(empty_db.url, "base")
    upgrade(empty_db.url)
    assert tables(empty_db.url) == OUR_TABLES | {"alembic_version"}
    engine = make_engine(make_settings(empty_db.url))
    try:
        with Session(engine) as session:
            report = load_seed(session)
            session.commit()
    finally:
        engine.dispose()
    assert report.created["facts"] == len(SEED["facts"])
    assert report.created["quotes"] == len(SEED["quotes"])


def test_readiness_follows_the_schema(empty_db: Database) -> None:
    """/readyz: 503 before migrating, 200 at head, 503 after a downgrade, 200 once back up."""
    status, body = readiness(empty_db.url)
    assert status == 503
    assert body["code"] == "not_ready"

    upgrade(empty_db.url)
    status, body = readiness(empty_db.url)
    assert status == 200
    assert body["status"] == "ready"
    assert body["schema_revision"] == head_revision()

    downgrade(empty_db.url, "base")
    assert readiness(empty_db.url)[0] == 503

    upgrade(empty_db.url)
    status, body = readiness(empty_db.url)
    assert (status, body["schema_revision"]) == (200, head_revision())


def test_upgrade_is_idempotent(empty_db: Database) -> None:
    """Running `db upgrade` on a database already at head is a no-op, not an error."""
    upgrade(empty_db.url)
    upgrade(empty_db.url)
    with connect(empty_db.url) as conn:
        assert current_revision(conn) == head_revision()
