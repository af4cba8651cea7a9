"""The engine: SQLite pragmas, UTC timestamps, serialized writers and query time limits."""

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from app.config import Settings


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored and returned in UTC, aware, on every backend.

    SQLite keeps no time zone, so without this a timestamp read back from it
    would be naive and print without its `Z`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(settings: Settings) -> Engine:
    """Create the engine; SQLite gets the pragmas a multi-threaded server needs.

    WAL lets readers run while one writer writes, and the busy timeout makes a
    writer wait for the lock instead of failing with "database is locked".
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30)

    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
        pool_size=20,
        max_overflow=40,
    )
    busy_timeout = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that writers can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # A per-connection deadline (0 = none) that limit_query_time sets per request.
        deadline = [0.0]
        _record.info["deadline"] = deadline
        dbapi_connection.set_progress_handler(
            lambda: 1 if deadline[0] and time.monotonic() > deadline[0] else 0, 20_000
        )

    @event.listens_for(engine, "checkin")
    def _clear_deadline(_dbapi_connection: Any, record: Any) -> None:
        deadline = record.info.get("deadline")
        if deadline is not None:
            deadline[0] = 0.0

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        # A writer takes the write lock up front (waiting up to the busy timeout), so it
        # never fails half-way with "database is locked" after reading a stale snapshot.
        writing = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


WRITE_OPTION = "econfacts_write"
WRITE_LOCK_KEY = 7_421_001
"""PostgreSQL advisory lock every write transaction holds (see begin_write)."""


def begin_write(session: Session, *, timeout_ms: int | None = None) -> None:
    """Serialize writers: SQLite BEGIN IMMEDIATE, PostgreSQL a transaction advisory lock.

    One writer at a time is what makes the change feed gap-free (sequence numbers
    commit in order) and lets If-Match checks read the state they then change.
    Call it first in a write transaction, before any read. With timeout_ms, the query
    time limit applies from the start, so waiting for the PostgreSQL lock is bounded too.
    """
    connection = session.connection(execution_options={WRITE_OPTION: True})
    if timeout_ms is not None:
        limit_query_time(connection, timeout_ms)
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})


def limit_query_time(connection: Any, timeout_ms: int) -> None:
    """Bound how long this transaction's SQL may run (a pathological `q=` cannot hang).

    PostgreSQL: a transaction-local statement_timeout. SQLite: a deadline that the
    connection's progress handler checks, which interrupts the running statement.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
        return
    deadline = connection.connection.info.get("deadline")
    if deadline is not None:
        deadline[0] = time.monotonic() + timeout_ms / 1000 if timeout_ms else 0.0
