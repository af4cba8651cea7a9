"""The data's version: the highest change-feed `seq`, which every write advances. The
response cache and the data-version ETags (app.http) rest on it."""

import asyncio
import contextlib
import weakref
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    import psycopg


class DataVersion:
    """The data's version (the highest change `seq`), read for every cacheable GET.

    On a connection of its own, never the request pool, in autocommit so that each read
    sees the latest commit; readers are not blocked by writers in WAL mode or MVCC.
    SQLite, or a request answered alone: read in place on the bare driver connection
    (some microseconds on SQLite; the pool's wrapper cost more than the read).
    PostgreSQL under concurrency: a network round trip, so it is awaited, not blocking
    the event loop, and shared: a read serves every request that arrived before it
    started, and requests arriving meanwhile share the next one. Either way each request
    gets a version read after it arrived (read-your-writes across instances), at one
    round trip per burst rather than per request.
    """

    def __init__(self, engine: Engine) -> None:
        self.url = engine.url
        self.sql = VERSION_SQL
        self.sqlite = engine.dialect.name == "sqlite"
        connect_args: dict[str, Any] = (
            {"check_same_thread": False, "isolation_level": None}
            if self.sqlite
            else {"autocommit": True}
        )
        self.engine = create_engine(engine.url, poolclass=StaticPool, connect_args=connect_args)
        self.connection: Any = None
        self._shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SharedRead] = (
            weakref.WeakKeyDictionary()
        )

    async def read(self, *, alone: bool = True) -> int | None:
        """The version, or None if the database cannot be asked (no caching then).

        `alone`: no other request is being answered, so a blocking read costs nobody
        anything and is quicker than the awaited one (fewer event-loop turns).
        """
        if self.sqlite or alone:
            return self._read_now()
        loop = asyncio.get_running_loop()
        shared = self._shared.get(loop)
        if shared is None:
            shared = self._shared[loop] = _SharedRead(
                self.url.set(drivername="postgresql"), self.sql
            )
        return await shared.read()

    def _read_now(self) -> int | None:
        try:
            if self.connection is None:
                self.connection = self.engine.raw_connection()
            row = self.connection.driver_connection.execute(self.sql).fetchone()
        except Exception:
            if self.connection is not None:
                with contextlib.suppress(Exception):
                    self.connection.invalidate()
            self.connection = None
            return None
        return int(row[0] or 0)

    async def close(self) -> None:
        self.engine.dispose()
        shared = self._shared.pop(asyncio.get_running_loop(), None)
        if shared is not None:
            await shared.close()


class _SharedRead:
    """PostgreSQL version reads on one event loop: one in flight, the next one shared."""

    def __init__(self, url: Any, sql: str) -> None:
        self.conninfo = url.render_as_string(hide_password=False)
        self.sql = sql
        self.connection: psycopg.AsyncConnection[Any] | None = None
        self.running: asyncio.Future[int | None] | None = None
        self.queued: asyncio.Future[int | None] | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def read(self) -> int | None:
        loop = asyncio.get_running_loop()
        if self.running is None:
            self.running = loop.create_future()
            self._start(self.running)
            waiting = self.running
        else:
            # The read in flight may have started before this request arrived.
            if self.queued is None:
                self.queued = loop.create_future()
            waiting = self.queued
        # Shielded: a request that goes away must not cancel the read others wait for.
        return await asyncio.shield(waiting)

    def _start(self, result: "asyncio.Future[int | None]") -> None:
        task = asyncio.get_running_loop().create_task(self._run(result))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, result: "asyncio.Future[int | None]") -> None:
        version: int | None = None
        try:
            if self.connection is None or self.connection.closed:
                import psycopg  # only PostgreSQL deployments need it

                self.connection = await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                )
            cursor = await self.connection.execute(self.sql)
            row = await cursor.fetchone()
            version = int(row[0] or 0) if row is not None else 0
        except Exception:  # the requests go on uncached; the next read reconnects
            await self.close()
        finally:
            result.set_result(version)
            self.running, self.queued = self.queued, None
            if self.running is not None:
                self._start(self.running)

    async def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()


VERSION_SQL = "SELECT max(seq) FROM change"
"""The change feed's highest seq (app.versioning.Change), as plain SQL: the database layer
reads it without importing the models above it."""
