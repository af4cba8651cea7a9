"""Database engine and the request-scoped session: the only place that commits."""

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from app.config import Settings
from app.errors import ProblemError


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


def begin_write(session: Session) -> None:
    """Serialize writers: SQLite BEGIN IMMEDIATE, PostgreSQL a transaction advisory lock.

    One writer at a time is what makes the change feed gap-free (sequence numbers
    commit in order) and lets If-Match checks read the state they then change.
    Call it first in a write transaction, before any read.
    """
    connection = session.connection(execution_options={WRITE_OPTION: True})
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})


def limit_query_time(session: Session, timeout_ms: int) -> None:
    """Bound how long this transaction's SQL may run (a pathological `q=` cannot hang).

    PostgreSQL: a transaction-local statement_timeout. SQLite: a deadline that the
    connection's progress handler checks, which interrupts the running statement.
    Applied when the session first takes a connection, not before: a request waiting
    for a worker thread must not sit on a pooled connection.
    """

    @event.listens_for(session, "after_begin")
    def _limit(_session: Any, _transaction: Any, connection: Any) -> None:
        _apply_limit(connection, timeout_ms)


def _apply_limit(connection: Any, timeout_ms: int) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
        return
    deadline = connection.connection.info.get("deadline")
    if deadline is not None:
        deadline[0] = time.monotonic() + timeout_ms / 1000 if timeout_ms else 0.0


class WriteGate:
    """One writer at a time in this process, queued without holding a connection.

    Writers serialize anyway (begin_write); waiting here rather than in the database
    keeps waiting writers from holding pool connections, so readers and the writer
    that holds the lock always find one.
    """

    def __init__(self, timeout_s: float) -> None:
        self.lock = threading.Lock()
        self.timeout_s = timeout_s

    def acquire(self) -> None:
        if not self.lock.acquire(timeout=self.timeout_s):
            raise ProblemError(
                503,
                "Too many writes at once; retry shortly.",
                code="write_busy",
                headers={"Retry-After": "1"},
            )

    def release(self) -> None:
        self.lock.release()


def _session(request: Request, *, write: bool) -> Iterator[Session]:
    timeout_ms = request.app.state.settings.query_timeout_ms
    gate: WriteGate | None = request.app.state.write_gate if write else None
    if gate is not None:
        gate.acquire()
    try:
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            try:
                limit_query_time(session, timeout_ms)
                if write:
                    begin_write(session)
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        if gate is not None:
            gate.release()


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; commit on success, roll back on any error."""
    yield from _session(request, write=False)


def get_write_session(request: Request) -> Iterator[Session]:
    """Like get_session, but the transaction holds the write lock from its start."""
    yield from _session(request, write=True)


# scope="function": commit before the response is sent, so a failed commit is an
# error response, never a 2xx for a write that did not happen.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]
