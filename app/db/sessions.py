"""The request's unit of work: its session, its one transaction in one worker thread, and
the write gate. The only place that commits."""

import asyncio
import functools
import inspect
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.db.engine import begin_write, limit_query_time
from app.errors import ProblemError


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
