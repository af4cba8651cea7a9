"""Database engine and the request-scoped session: the only place that commits."""

import asyncio
import functools
import inspect
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine
from starlette.concurrency import run_in_threadpool

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


class WriteGate:
    """One writer at a time in this process, queued without holding a thread or connection.

    Writers serialize anyway (begin_write). A write first takes one of SLOTS places in the
    event loop (queued in order, no thread held), then runs in a thread from its own small
    limiter and takes `lock` there, so the next writer is already waiting in a thread when
    the lock frees, and readers always find threads and connections.
    """

    SLOTS = 2

    def __init__(self, timeout_s: float) -> None:
        self.lock = threading.Lock()
        self.timeout_s = timeout_s
        # Per event loop: anyio primitives belong to the loop they are first used in.
        self._per_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[anyio.Semaphore, anyio.CapacityLimiter]
        ] = weakref.WeakKeyDictionary()

    def _busy(self) -> ProblemError:
        return ProblemError(
            503,
            "Too many writes at once; retry shortly.",
            code="write_busy",
            headers={"Retry-After": "1"},
        )

    def _loop_state(self) -> tuple[anyio.Semaphore, anyio.CapacityLimiter]:
        loop = asyncio.get_running_loop()
        state = self._per_loop.get(loop)
        if state is None:
            state = (anyio.Semaphore(self.SLOTS), anyio.CapacityLimiter(self.SLOTS))
            self._per_loop[loop] = state
        return state

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[anyio.CapacityLimiter]:
        """Wait (at most timeout_s) for a write slot; yields the thread limiter to run in."""
        slots, threads = self._loop_state()
        with anyio.move_on_after(self.timeout_s) as waited:
            await slots.acquire()
        if waited.cancelled_caught:
            raise self._busy()
        try:
            yield threads
        finally:
            slots.release()

    def acquire(self) -> None:
        if not self.lock.acquire(timeout=self.timeout_s):
            raise self._busy()

    def release(self) -> None:
        self.lock.release()


@dataclass(frozen=True)
class UnitOfWork:
    """What a route's session needs to run its transaction: kept in `session.info`."""

    write: bool
    timeout_ms: int
    gate: WriteGate


UNIT_OF_WORK = "econfacts_unit_of_work"


def _new_session(request: Request, *, write: bool) -> Session:
    # No I/O here: a Session takes a connection only when first used, in the route's thread.
    session = Session(request.app.state.engine, expire_on_commit=False)
    session.info[UNIT_OF_WORK] = UnitOfWork(
        write=write,
        timeout_ms=request.app.state.settings.query_timeout_ms,
        gate=request.app.state.write_gate,
    )
    return session


async def get_session(request: Request) -> Session:
    """A read session; TransactionRoute runs its transaction in the route's worker thread."""
    return _new_session(request, write=False)


async def get_write_session(request: Request) -> Session:
    """Like get_session, but the transaction holds the write lock from its start."""
    return _new_session(request, write=True)


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]


def _route_session(kwargs: dict[str, Any]) -> Session | None:
    """The SessionDep or WriteSessionDep among a route's arguments (at most one)."""
    sessions = [v for v in kwargs.values() if isinstance(v, Session) and UNIT_OF_WORK in v.info]
    if len(sessions) > 1:
        raise RuntimeError("a route takes at most one session")
    return sessions[0] if sessions else None


def _transaction(
    endpoint: Callable[..., Any], kwargs: dict[str, Any], session: Session | None
) -> Any:
    """Run a sync route with its session's whole transaction in this one worker thread.

    Begin, the route, commit (or roll back) and close happen here, so a connection is
    held only while this thread works on it, never while the request waits for the event
    loop, and a failed commit is an error response, never a 2xx for a lost write.
    """
    if session is None:
        return endpoint(**kwargs)
    work: UnitOfWork = session.info[UNIT_OF_WORK]
    if work.write:
        work.gate.acquire()
    try:
        with session:
            try:
                if work.write:
                    begin_write(session, timeout_ms=work.timeout_ms)
                else:
                    limit_query_time(session.connection(), work.timeout_ms)
                result = endpoint(**kwargs)
                session.commit()
                return result
            except BaseException:
                session.rollback()
                raise
    finally:
        if work.write:
            work.gate.release()


def in_one_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Make a sync route async with exactly one worker-thread hop for all its blocking work.

    FastAPI would otherwise hop threads for a sync dependency's enter and exit, the route
    and the response check. Writes first take one of a few write slots in the event loop,
    so writers queued behind the write lock hold neither a thread nor a connection.
    """
    if inspect.iscoroutinefunction(endpoint):
        sessions = {SessionDep, WriteSessionDep}
        if any(p.annotation in sessions for p in inspect.signature(endpoint).parameters.values()):
            # Nothing would commit or close its session: fail at start-up, not by losing writes.
            raise TypeError(f"{endpoint.__name__}: a route taking a session must be a plain def")
        return endpoint

    @functools.wraps(endpoint)
    async def run(**kwargs: Any) -> Any:
        session = _route_session(kwargs)
        work: UnitOfWork | None = session.info[UNIT_OF_WORK] if session is not None else None
        if work is None or not work.write:
            return await run_in_threadpool(_transaction, endpoint, kwargs, session)
        async with work.gate.slot() as threads:
            return await anyio.to_thread.run_sync(
                _transaction, endpoint, kwargs, session, limiter=threads
            )

    return run


class TransactionRoute(APIRoute):
    """The route class of every router: sync endpoints run through in_one_thread."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_one_thread(endpoint), **kwargs)
