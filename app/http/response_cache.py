"""The response cache: repeated identical anonymous GETs served from memory while the data
has not changed (its version is app.db.version's)."""

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db.version import DataVersion
from app.http.conditional import VERSION_READ, charge_address, etag_matches, not_modified


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
        self, app: ASGIApp, *, version: DataVersion, max_bytes: int, max_entry: int
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
        scope[VERSION_READ] = version  # the ETag middleware's, so it is read once
        hit = self.entries.get(key)
        if hit is not None and hit.version == version:
            if not charge_address(scope):  # a hit is still a request
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
                await send(not_modified(start))
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
