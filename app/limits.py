"""Request guards applied before any route runs: body size (413), media type (415) and
rate limits (429).

Checked in ASGI middleware so that an oversized body is refused without being
read into memory, whatever the route.
"""

import hashlib
import math
import time
from collections import OrderedDict
from urllib.parse import parse_qsl, unquote

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import InvalidParam, problem_response

JSON_TYPES = ("application/json", "application/merge-patch+json")


class RequestGuardMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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

        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # Stop reading: the route sees an empty, final chunk and whatever it
                    # answers is replaced by the 413 below.
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            if not too_large:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)
        if too_large:
            await self._too_large(request, scope, receive, send)

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


class RateLimitMiddleware:
    """Token buckets per API key and per client address; 429 with Retry-After when empty.

    A request with `Authorization: Bearer ...` counts against that key (identified by a
    hash, the key itself is never kept); one without, against its address. Each bucket
    holds a minute's allowance and refills continuously. Limits are per process: with
    several workers or instances the effective limit is that many times higher.
    """

    EXEMPT = ("/healthz", "/readyz", "/metrics")
    MAX_CLIENTS = 100_000

    def __init__(self, app: ASGIApp, *, per_address: int, per_key: int) -> None:
        self.app = app
        self.per_address = per_address
        self.per_key = per_key
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _take(self, who: str, per_minute: int) -> float:
        """Take a token; return 0 if allowed, else the seconds until one is available."""
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        authorization = Headers(scope=scope).get("authorization", "")
        if authorization.lower().startswith("bearer ") and self.per_key:
            digest = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()[:24]
            who, limit, what = f"key:{digest}", self.per_key, "this API key"
        elif self.per_address:
            who, limit = f"addr:{(scope.get('client') or ('-',))[0]}", self.per_address
            what = "your address"
        else:
            await self.app(scope, receive, send)
            return
        wait = self._take(who, limit)
        if wait:
            retry = max(1, math.ceil(wait))
            response = problem_response(
                Request(scope),
                429,
                f"Too many requests from {what}: the limit is {limit} a minute. "
                f"Retry after {retry} s.",
                code="rate_limited",
                headers={"Retry-After": str(retry)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
