"""Conditional requests (RFC 9110 section 13): strong ETags on GET responses, 304 answers
to If-None-Match, and the If-Match precondition of writes.

An ETag is, in order of preference:
- a record's own (items of facts and agreements send the record's ETag, the same in both
  views: app.facts.views), which writes check If-Match against;
- for an anonymous GET under /v1/, a tag made of the data's version (app.db.version: the
  highest change-feed `seq`) and the request (host, path, query, Accept) with what else
  shapes an answer (the document shape, the API version, paging settings). Every answer to
  the same request at the same data version is the same, so a matching If-None-Match is a
  304 *before* the route runs: no query, no rendering;
- otherwise a hash of the bytes the client would receive.
Streaming responses (more than one body chunk) pass through untouched.
"""

import hashlib
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Header, Response
from pydantic import BaseModel
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ProblemError

if TYPE_CHECKING:
    from app.db.version import DataVersion


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


VERSION_READ = "econfacts.data_version"
"""The scope key where the response cache leaves the version it read for this request."""
VERSIONED_PREFIX = "/v1/"
"""The API paths whose anonymous GETs depend only on the data's version and the request."""


class ETagMiddleware:
    """Sets ETags (see the module docstring) and answers 304s; also sets Cache-Control on
    GETs that do not set their own: dashboards may reuse a response for `max_age` seconds,
    then revalidate cheaply with If-None-Match."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cache_control: str = "no-cache",
        version: "DataVersion | None" = None,
        salt: str = "",
    ) -> None:
        self.app = app
        self.cache_control = cache_control
        self.version = version
        self.salt = salt

    async def _version_tag(self, scope: Scope, headers: Headers) -> str | None:
        """The data-version ETag of this request, or None where it does not apply."""
        if (
            self.version is None
            or not scope["path"].startswith(VERSIONED_PREFIX)
            or "authorization" in headers  # a key may see drafts: its answers differ
        ):
            return None
        version = scope.get(VERSION_READ)
        if version is None:
            version = await self.version.read()
        if version is None:
            return None
        request = "\n".join(
            (
                self.salt,
                str(version),
                headers.get("host", ""),
                scope["path"],
                scope["query_string"].decode("latin-1"),
                headers.get("accept", ""),
            )
        )
        return '"v' + hashlib.sha256(request.encode()).hexdigest()[:31] + '"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        if_none_match = request_headers.get("if-none-match")
        version_tag = await self._version_tag(scope, request_headers)
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
                etag = headers.get("etag") or version_tag or strong_etag(body)
                headers["ETag"] = etag
                if etag_matches(if_none_match, etag):
                    await send(not_modified(start))
                    await send({"type": "http.response.body", "body": b""})
                    return
                await send(start)
                await send(message)
                return
            await send(message)

        if (
            version_tag is not None
            and if_none_match is not None
            and if_none_match.strip() != "*"  # "any representation": only the route knows
            and etag_matches(if_none_match, version_tag)
            and charge_address(scope)
        ):
            # What the route would answer is what the client holds: 304 without running it.
            start = {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"etag", version_tag.encode()),
                    (b"cache-control", self.cache_control.encode()),
                ],
            }
            await send(not_modified(start))
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, wrapped_send)


def charge_address(scope: Scope) -> bool:
    """An answer given without the route (a 304 here, a response-cache hit) is still a
    request: it counts against the caller's address. Over the limit, False: the request
    takes the normal path, whose authentication refuses it with the full 429 (a refused
    charge takes no token)."""
    client = scope.get("client") or ("-",)
    try:
        scope["app"].state.rate_limiter.charge_address(client[0])
    except ProblemError:
        return False
    return True


def not_modified(start: Message) -> Message:
    return {
        "type": "http.response.start",
        "status": 304,
        "headers": [
            (k, v)
            for k, v in start["headers"]
            if k.lower() not in (b"content-length", b"content-type")
        ],
    }
