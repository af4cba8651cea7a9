"""Strong ETags on GET responses and 304 answers to If-None-Match.

A pure ASGI middleware: it hashes the bytes the client would receive, so the
ETag changes exactly when the representation does, whatever produced it.
Streaming responses (more than one body chunk) pass through untouched.
"""

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates


class ETagMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
                etag = strong_etag(body)
                headers = MutableHeaders(scope=start)
                headers["ETag"] = etag
                if etag_matches(if_none_match, etag):
                    not_modified = {
                        "type": "http.response.start",
                        "status": 304,
                        "headers": [
                            (k, v)
                            for k, v in start["headers"]
                            if k.lower() not in (b"content-length", b"content-type")
                        ],
                    }
                    await send(not_modified)
                    await send({"type": "http.response.body", "body": b""})
                    return
                await send(start)
                await send(message)
                return
            await send(message)

        await self.app(scope, receive, wrapped_send)
