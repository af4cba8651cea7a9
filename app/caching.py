"""Strong ETags on GET responses and 304 answers to If-None-Match.

A pure ASGI middleware: it hashes the bytes the client would receive, so the
ETag changes exactly when the representation does, whatever produced it.
Streaming responses (more than one body chunk) pass through untouched.
"""

import contextlib
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header, Response
from pydantic import BaseModel
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.pool import StaticPool
from sqlmodel import col
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ProblemError
from app.versioning import Change


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


def require_if_match(if_match: str | None, current: BaseModel) -> None:
    """Optimistic concurrency for PATCH and status changes (RFC 9110 section 13.1.1).

    Without If-Match the write is refused with 428 (we will not guess that the
    client saw the latest revision); with a stale one, 412.
    """
    if if_match is None:
        raise ProblemError(
            428,
            "This write needs an If-Match header with the ETag of the record as you last "
            "read it, so that no one else's change is overwritten. GET it for its ETag.",
            code="precondition_required",
        )
    etag = etag_of(current)
    tags = {tag.strip() for tag in if_match.split(",")}
    if "*" not in tags and etag not in tags:
        raise ProblemError(
            412,
            "The record changed since you read it (If-Match does not match its ETag "
            f"{etag}). GET it again, reapply your change and retry.",
            code="precondition_failed",
        )


def with_etag(response: Response, representation: BaseModel) -> Any:
    """Set the item's ETag on the response and return the representation."""
    response.headers["ETag"] = etag_of(representation)
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

    def __init__(self, app: ASGIApp, *, engine: Engine, max_bytes: int, max_entry: int) -> None:
        """`engine` is a data_version_engine: one connection, only for the version read."""
        self.app = app
        self.engine = engine
        self.version_sql = str(_VERSION.compile(dialect=engine.dialect))
        self.connection: Any = None
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self.entries: OrderedDict[tuple[str, bytes, bytes], _Entry] = OrderedDict()
        self.size = 0

    def _version(self) -> int | None:
        """The data version, or None if the database cannot be asked (no caching then)."""
        try:
            if self.connection is None:
                self.connection = self.engine.raw_connection()
            # The driver's own connection (sqlite3 and psycopg both have execute()): the
            # pool's wrapper costs more than the read.
            row = self.connection.driver_connection.execute(self.version_sql).fetchone()
        except Exception:
            self._reconnect()
            return None
        return int(row[0] or 0)

    def _reconnect(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.invalidate()
            self.connection = None

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
        version = self._version()
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


def data_version_engine(engine: Engine) -> Engine:
    """One connection of its own for the cache's version read, in autocommit.

    The version is read on the event loop, so it must never wait for the request pool.
    Readers are not blocked by writers in WAL mode (SQLite) or MVCC (PostgreSQL), so the
    read is a fraction of a millisecond; it runs on the bare DB-API connection since on
    a cache hit it is most of the work left. Autocommit: each read sees the latest commit.
    """
    if engine.dialect.name == "sqlite":
        connect_args: dict[str, Any] = {"check_same_thread": False, "isolation_level": None}
    else:
        connect_args = {"autocommit": True}
    return create_engine(engine.url, poolclass=StaticPool, connect_args=connect_args)


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
