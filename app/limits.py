"""Request guards: body size (413) and media type (415) before any route runs, and the
rate limiter (429) that authentication consults.

Checked in ASGI middleware so that an oversized body is refused without being
read into memory, whatever the route.
"""

import math
import threading
import time
from collections import OrderedDict
from urllib.parse import parse_qsl, unquote

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import InvalidParam, ProblemError, problem_response

JSON_TYPES = ("application/json", "application/merge-patch+json")


class RequestGuardMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "\x00" in scope["path"]:
            # No id contains a NUL, so nothing is there (and PostgreSQL cannot even look).
            response = problem_response(
                Request(scope),
                404,
                "Nothing here: a path cannot contain a NUL character.",
                code="not_found",
            )
            await response(scope, receive, send)
            return
        if scope["type"] == "http" and scope["query_string"]:
            nul = [k for k, v in parse_qsl(scope["query_string"].decode("latin-1")) if "\x00" in v]
            if nul or "\x00" in unquote(scope["query_string"].decode("latin-1")):
                names = sorted(set(nul)) or ["query"]
                response = problem_response(
                    Request(scope),
                    400,
                    f"A NUL character is not allowed in {', '.join(names)}.",
                    code="invalid_parameter",
                    invalid_params=[
                        InvalidParam(name=n, reason="contains a NUL character") for n in names
                    ],
                )
                await response(scope, receive, send)
                return
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request = Request(scope)
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await self._too_large(request, scope, receive, send)
            return
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in JSON_TYPES and (length is None or length != "0"):
            response = problem_response(
                request,
                415,
                f"Send the body as application/json (got {media_type or 'no Content-Type'}).",
                code="unsupported_media_type",
            )
            await response(scope, receive, send)
            return

        # Read the whole body (at most the limit) before the route sees any of it: a body
        # found too large half-way must not have been acted on already.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client went away
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body_bytes:
                await self._too_large(request, scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(
        self, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> None:
        response = problem_response(
            request,
            413,
            f"The request body is larger than {self.max_body_bytes} bytes "
            "(ECONFACTS_MAX_BODY_BYTES).",
            code="body_too_large",
        )
        await response(scope, receive, send)


class RateLimiter:
    """Token buckets: one per client address for requests without a valid key, one per API
    key for requests with one. 429 with Retry-After when a bucket is empty.

    It is consulted by authentication (app.auth.service), which is the first point that
    knows whether a key is real: a made-up key is charged to its address like no key at
    all, so rotating tokens does not escape the address limit. Each bucket holds a
    minute's allowance and refills continuously. Limits are per process.
    """

    MAX_CLIENTS = 100_000

    def __init__(self, *, per_address: int, per_key: int) -> None:
        self.per_address = per_address
        self.per_key = per_key
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.lock = threading.Lock()

    def _take(self, who: str, per_minute: int) -> float:
        """Take a token; return 0 if allowed, else the seconds until one is available."""
        with self.lock:
            now = time.monotonic()
            rate = per_minute / 60
            tokens, stamp = self.buckets.pop(who, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - stamp) * rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / rate
            self.buckets[who] = (tokens, now)
            if len(self.buckets) > self.MAX_CLIENTS:
                self.buckets.popitem(last=False)
            return wait

    def charge_address(self, address: str) -> None:
        if self.per_address:
            self._refuse(
                self._take(f"addr:{address}", self.per_address), self.per_address, "your address"
            )

    def charge_key(self, name: str) -> None:
        if self.per_key:
            self._refuse(self._take(f"key:{name}", self.per_key), self.per_key, "this API key")

    @staticmethod
    def _refuse(wait: float, limit: int, what: str) -> None:
        if wait:
            retry = max(1, math.ceil(wait))
            raise ProblemError(
                429,
                f"Too many requests from {what}: the limit is {limit} a minute. "
                f"Retry after {retry} s.",
                code="rate_limited",
                headers={"Retry-After": str(retry)},
            )
