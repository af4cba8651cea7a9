"""Strong ETags on GET responses and 304 answers to If-None-Match.

A pure ASGI middleware: it hashes the bytes the client would receive, so the
ETag changes exactly when the representation does, whatever produced it.
Streaming responses (more than one body chunk) pass through untouched. A route
may set its own ETag instead, which the middleware keeps: item GETs of facts and
agreements send the record's ETag, the same in both views (app.facts.views).
"""

import asyncio
import contextlib
import hashlib
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Header, Response
from pydantic import BaseModel
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.pool import StaticPool
from sqlmodel import col
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ProblemError
from app.versioning import Change

if TYPE_CHECKING:
    import psycopg


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates


def etag_of(representation: BaseModel) -> str:
    """The ETag of an item: GET sends it, If-Match is checked against it."""
    return strong_etag(representation.model_dump_json().encode())


def require_if_match(
    if_match: str | None, current: BaseModel | None = None, *, etag: str | None = None
) -> None:
    """Optimistic concurrency for PATCH and status changes (RFC 9110 section 13.1.1).

    Without If-Match the write is refused with 428 (we will not guess that the
    client saw the latest revision); with a stale one, 412. The record's ETag is
    `etag` if given (see app.facts.views), else that of `current`.
    """
    if if_match is None:
        raise ProblemError(
            428,
            "This write needs an If-Match header with the ETag of the record as you last "
            "read it, so that no one else's change is overwritten. GET it for its ETag.",
            code="precondition_required",
        )
    if etag is None:
        assert current is not None, "give the current representation or its ETag"
        etag = etag_of(current)
    tags = {tag.strip() for tag in if_match.split(",")}
    if "*" not in tags and etag not in tags:
        raise ProblemError(
            412,
            "The record changed since you read it (If-Match does not match its ETag "
            f"{etag}). GET it again, reapply your change and retry.",
            code="precondition_failed",
        )


def with_etag(response: Response, representation: BaseModel, *, etag: str | None = None) -> Any:
    """Set the item's ETag (`etag`, or that of the representation) on the response and
    return the representation."""
    response.headers["ETag"] = etag or etag_of(representation)
    return representation


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag from your last GET of this record. Required: 428 without it, "
        "412 if the record changed since.",
    ),
]


class ETagMiddleware:
    """Also sets Cache-Control on GETs that do not set their own: dashboards may reuse a
    response for `max_age` seconds, then revalidate cheaply with If-None-Match."""

    def __init__(self, app: ASGIApp, *, cache_control: str = "no-cache") -> None:
        self.app = app
        self.cache_control = cache_control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if_none_match = Headers(scope=scope).get("if-none-match")
        start: Message | None = None
        passthrough = False

        async def wrapped_send(message: Message) -> None:
            nonlocal start, passthrough
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                if message["status"] != 200:
                    passthrough = True
                    await send(message)
                    return
                start = message
                return
            if message["type"] == "http.response.body" and start is not None:
                if message.get("more_body", False):
                    passthrough = True
                    await send(start)
                    await send(message)
                    return
                body = message.get("body", b"")
                headers = MutableHeaders(scope=start)
                headers.setdefault("Cache-Control", self.cache_control)
                etag = headers.get("etag") or strong_etag(body)
                headers["ETag"] = etag
                if etag_matches(if_none_match, etag):
                    await send(_not_modified(start))
                    await send({"type": "http.response.body", "body": b""})
                    return
                await send(start)
                await send(message)
                return
            await send(message)

        await self.app(scope, receive, wrapped_send)


class ResponseCacheMiddleware:
    """Serve repeated identical GETs from memory while the data has not changed.

    Every write appends to the `change` table, so its highest `seq` is a version of
    all the data. A cached response is reused only if it was made at the current
    version: one indexed `max(seq)` read replaces the whole query, render and
    serialization, and a matching If-None-Match becomes a 304 at that cost. It is
    correct across processes and instances, since the version lives in the database.
    Off when reads need a key (responses would have to be cached per caller).

    It sits outside the policy, guard and CORS middleware, so a stored response keeps
    the headers they added and a hit skips them; only the request id, metrics and
    access log (RequestContextMiddleware) wrap it.
    """

    def __init__(
        self, app: ASGIApp, *, version: "DataVersion", max_bytes: int, max_entry: int
    ) -> None:
        self.app = app
        self.version = version
        self.active = 0  # cacheable requests being answered now (see DataVersion.read)
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self.entries: OrderedDict[tuple[str, bytes, bytes], _Entry] = OrderedDict()
        self.size = 0

    def _store(self, key: tuple[str, bytes, bytes], entry: "_Entry") -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self.entries[key] = entry
        self.size += len(entry.body)
        while self.size > self.max_bytes and self.entries:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped.body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(CACHED_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:  # one pass; names are lower case in ASGI
            if name in _REQUEST_HEADERS:
                headers.setdefault(name, value)
        if b"authorization" in headers:
            # A request with a key goes through authentication: a bad key must get its 401.
            await self.app(scope, receive, send)
            return
        # Host is part of the key: Link headers carry absolute URLs; Origin, because the
        # stored headers include CORS's answer to it.
        key = (
            f"{headers.get(b'host', b'').decode('latin-1')}{scope['path']}",
            scope["query_string"],
            b"%s\n%s" % (headers.get(b"accept", b""), headers.get(b"origin", b"")),
        )
        self.active += 1
        try:
            await self._answer(scope, receive, send, key, headers)
        finally:
            self.active -= 1

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: tuple[str, bytes, bytes],
        headers: dict[bytes, bytes],
    ) -> None:
        version = await self.version.read(alone=self.active == 1)
        if version is None:
            await self.app(scope, receive, send)
            return
        hit = self.entries.get(key)
        if hit is not None and hit.version == version:
            # A cache hit is still a request: anonymous ones count against their address.
            # Over the limit, the request takes the normal path, whose authentication
            # refuses it with the full 429 (a refused charge takes no token).
            client = scope.get("client") or ("-",)
            try:
                scope["app"].state.rate_limiter.charge_address(client[0])
            except ProblemError:
                await self.app(scope, receive, send)
                return
            self.entries.move_to_end(key)
            start, body = hit.start, hit.body
            # What routing would have set, so logs and metrics name the route.
            scope["route"], scope["path_params"] = hit.route, hit.path_params
            if_none_match = headers.get(b"if-none-match")
            if (
                hit.etag
                and if_none_match is not None
                and etag_matches(if_none_match.decode("latin-1"), hit.etag)
            ):
                await send(_not_modified(start))
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**start, "headers": list(start["headers"])})
            await send({"type": "http.response.body", "body": body})
            return

        captured: Message | None = None
        chunks: list[bytes] = []
        cacheable = True

        async def capture(message: Message) -> None:
            nonlocal captured, cacheable
            if message["type"] == "http.response.start":
                # A copy: outer middleware edits the headers of the message it is sent.
                captured = {**message, "headers": list(message["headers"])}
                cacheable = message["status"] == 200
            elif message["type"] == "http.response.body":
                if message.get("more_body", False):
                    cacheable = False
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if cacheable and captured is not None and len(body) <= self.max_entry:
            etag = MutableHeaders(raw=captured["headers"]).get("etag")
            entry = _Entry(
                version, captured, body, etag, scope.get("route"), scope.get("path_params")
            )
            self._store(key, entry)


@dataclass(frozen=True)
class _Entry:
    version: int
    start: Message
    body: bytes
    etag: str | None
    route: Any
    path_params: Any


CACHED_PREFIX = "/v1/"
_REQUEST_HEADERS = frozenset({b"authorization", b"host", b"accept", b"origin", b"if-none-match"})


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
        self.sql = str(_VERSION.compile(dialect=engine.dialect))
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


_VERSION = select(func.max(col(Change.seq)))


def _not_modified(start: Message) -> Message:
    return {
        "type": "http.response.start",
        "status": 304,
        "headers": [
            (k, v)
            for k, v in start["headers"]
            if k.lower() not in (b"content-length", b"content-type")
        ],
    }
