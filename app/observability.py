"""Request ids, structured JSON logs and Prometheus metrics.

Every request gets an id (the client's `X-Request-ID` if it is a sane token,
otherwise a new one), echoed in the response and present on every log line of
that request. Access lines record method, route, status and duration; never
headers, bodies or keys. Metrics are per process (run one scrape target per
worker, or one worker per container).
"""

import logging
import os
import re
import time
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("econfacts.access")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure_logging(level: str) -> None:
    """JSON lines on stderr, each with the request id of the request that wrote it."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our access line replaces uvicorn's, which knows neither route nor request id.
    logging.getLogger("uvicorn.access").disabled = True


class Metrics:
    """The service's Prometheus metrics, in a registry of their own."""

    def __init__(self, engine: Any) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}
        self.requests = Counter(
            "econfacts_requests_total",
            "HTTP requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "econfacts_errors_total",
            "HTTP requests answered with a 5xx.",
            ["method", "route"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "econfacts_request_duration_seconds",
            "Time to answer, by route.",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        pool = engine.pool
        checked_out = Gauge(
            "econfacts_db_pool_checked_out", "Database connections in use.", registry=self.registry
        )
        checked_out.set_function(lambda: float(getattr(pool, "checkedout", lambda: 0)()))
        size = Gauge("econfacts_db_pool_size", "Database pool size.", registry=self.registry)
        size.set_function(lambda: float(getattr(pool, "size", lambda: 0)()))

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request (label children memoized: routes are templates)."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
                self.errors.labels(method, route) if status >= 500 else None,
            )
            self._children[key] = children
        requests, latency, errors = children
        requests.inc()
        latency.observe(seconds)
        if errors is not None:
            errors.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_template(scope: Scope) -> str:
    """The full route, e.g. /v1/sources/{source_id}: the path with its parameters put back.

    (A route object of an included router knows only its own part of the path.)
    """
    if scope.get("route") is None:
        return "unmatched"
    values = {str(v): k for k, v in (scope.get("path_params") or {}).items()}
    return "/".join(
        f"{{{values[unquote(part)]}}}" if unquote(part) in values else part
        for part in scope["path"].split("/")
    )


class RequestContextMiddleware:
    """Request id in and out, one JSON access line, and the request metrics."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, log_requests: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _VALID_ID.match(incoming) else os.urandom(16).hex()
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def wrapped_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Appended, not set: nothing inside adds this header.
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, wrapped_send)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope["method"]
            self.metrics.record(method, route, status, elapsed)
            if self.log_requests:
                access_log.info(
                    "request",
                    extra={
                        "method": method,
                        "route": route,
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client": (scope.get("client") or ("-",))[0],
                    },
                )
            request_id.reset(token)
