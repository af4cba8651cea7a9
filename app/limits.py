"""Request guards: body size (413) and media type (415) before any route runs, and the
rate limiter (429) that authentication consults.

Checked in ASGI middleware so that an oversized body is refused without being
read into memory, whatever the route.
"""

import logging
import math
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import InvalidParam, ProblemError, problem_response

if TYPE_CHECKING:
    from app.config import Settings

_log = logging.getLogger("econfacts.limits")

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
    minute's allowance and refills continuously (`per_minute / 60` tokens a second).

    With a Redis URL the buckets live in Redis (`SharedBuckets`), so every worker and
    replica using it draws from the same buckets and the limit holds in total. Without one,
    or while Redis cannot be reached, each process keeps its own buckets in memory.
    """

    MAX_CLIENTS = 100_000

    def __init__(
        self,
        *,
        per_address: int,
        per_key: int,
        redis_url: str | None = None,
        redis_prefix: str = "econfacts:",
    ) -> None:
        self.per_address = per_address
        self.per_key = per_key
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.lock = threading.Lock()
        self.shared = (
            SharedBuckets(redis_url, prefix=redis_prefix)
            if redis_url and (per_address or per_key)
            else None
        )

    @classmethod
    def from_settings(cls, settings: "Settings") -> "RateLimiter":
        return cls(
            per_address=settings.rate_limit_per_address,
            per_key=settings.rate_limit_per_key,
            redis_url=settings.redis_url,
            redis_prefix=settings.redis_prefix,
        )

    def _take(self, who: str, per_minute: int) -> float:
        """Take a token; return 0 if allowed, else the seconds until one is available."""
        if self.shared is not None:
            wait = self.shared.take(who, per_minute)
            if wait is not None:
                return wait
        return self._take_here(who, per_minute)

    def _take_here(self, who: str, per_minute: int) -> float:
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


# The same token bucket as RateLimiter._take_here, run atomically inside Redis: one hash per
# bucket (tokens, stamp), refilled from the time elapsed by Redis's own clock (so replicas'
# clocks do not matter), expiring once it would be full again anyway. Returns the seconds
# to wait as a string (Lua numbers become integers on the way out), "0" if a token was taken.
_TAKE_LUA = """
local capacity = tonumber(ARGV[1])
local rate = capacity / 60
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(bucket[1]) or capacity
local stamp = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""


class SharedBuckets:
    """Rate-limit buckets in Redis, shared by every process that uses the same Redis.

    One round trip per request (EVALSHA of `_TAKE_LUA`). If Redis fails or is slow
    (over TIMEOUT_S), `take` returns None and the caller uses its own in-memory bucket:
    an outage degrades the limit to per process, with a warning in the log, never to an
    error. After a failure Redis is left alone for RETRY_AFTER_S, then tried again.
    """

    TIMEOUT_S = 0.25
    RETRY_AFTER_S = 5.0

    def __init__(self, url: str, *, prefix: str = "econfacts:") -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.prefix = f"{prefix}ratelimit:"
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=self.TIMEOUT_S,
            socket_connect_timeout=self.TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
        self.script = self.client.register_script(_TAKE_LUA)
        self.down_until = 0.0
        self.down = False
        self.url = _without_password(url)

    def take(self, who: str, per_minute: int) -> float | None:
        now = time.monotonic()
        if now < self.down_until:
            return None
        try:
            wait = float(self.script(keys=[self.prefix + who], args=[per_minute]))
        except Exception as exc:  # any failure of Redis: degrade, never a 5xx
            self.down_until = now + self.RETRY_AFTER_S
            if not self.down:
                self.down = True
                _log.warning(
                    "rate limits: Redis at %s failed (%s: %s); each process limits on its "
                    "own until it answers again (retried every %.0f s)",
                    self.url,
                    type(exc).__name__,
                    exc,
                    self.RETRY_AFTER_S,
                )
            return None
        if self.down:
            self.down = False
            _log.warning("rate limits: Redis at %s answers again; limits are shared", self.url)
        return wait


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}"
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc))
    return url
