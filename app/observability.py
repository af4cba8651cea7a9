"""Request ids, structured JSON logs and Prometheus metrics.

Every request gets an id (the client's `X-Request-ID` if it is a sane token,
otherwise a new one), echoed in the response and present on every log line of
that request. Access lines record method, route, status and duration; never
headers, bodies or keys. Lines are JSON objects, or plain lines for people when the
log stream is a terminal (ECONFACTS_LOG_FORMAT=auto|json|text).

Metrics: one process, an in-memory registry. Several workers (`econfacts serve
--workers N`): prometheus-client's multiprocess mode, switched on by the environment
variable PROMETHEUS_MULTIPROC_DIR, which `econfacts serve` sets to a fresh folder
before the workers start. Each worker then writes its samples to memory-mapped files
there, and whichever worker answers /metrics adds up every worker's files, so a
scrape shows the whole server, not one worker's share.
"""

import atexit
import contextlib
import logging
import os
import re
import sys
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("econfacts.access")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_JSON_ANSI = re.compile(r"\\u001b\[[0-9;]*[A-Za-z]")
_ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "client")


class JsonLines(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request id, process id and
    the record's extra fields. No terminal colour codes: uvicorn's `color_message` is
    dropped, and any escape sequence left in a message is removed."""

    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}{request_id}{process}",
            style="{",
            rename_fields={
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "process": "pid",
            },
        )

    def add_fields(
        self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record.pop("color_message", None)

    def format(self, record: logging.LogRecord) -> str:
        return _JSON_ANSI.sub("", super().format(record))


class TextLines(logging.Formatter):
    """Lines for people at a terminal: `14:02:25 INFO  econfacts.access  GET /v1/facts 200
    12.3 ms  [request id]`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s  %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        if record.name == "uvicorn.error":  # uvicorn's general logger, errors or not
            record.name = "uvicorn"
        text = super().format(record)
        if all(hasattr(record, name) for name in _ACCESS_FIELDS):
            method, path, status, ms, client = (getattr(record, n) for n in _ACCESS_FIELDS)
            text = (
                f"{self.formatTime(record, self.datefmt)} {record.levelname:<7} {record.name}  "
                f"{method} {path} {status} {ms} ms  {client}"
            )
        rid = getattr(record, "request_id", "-")
        if rid != "-":
            text += f"  [{rid}]"
        return _ANSI.sub("", text)


def log_format(requested: str | None = None) -> str:
    """`json` or `text`: as requested (argument, else ECONFACTS_LOG_FORMAT, which `econfacts
    serve --log-format` sets for its workers), and for `auto` text when stderr, where the
    logs go, is a terminal."""
    if requested is None or requested.lower() == "auto":
        requested = os.environ.get("ECONFACTS_LOG_FORMAT")
    chosen = (requested or "auto").lower()
    if chosen in ("json", "text"):
        return chosen
    try:
        return "text" if sys.stderr.isatty() else "json"
    except (AttributeError, ValueError):
        return "json"


def make_formatter(kind: str = "json") -> logging.Formatter:
    return TextLines() if log_format(kind) == "text" else JsonLines()


def configure_logging(level: str, fmt: str | None = None) -> None:
    """Log lines on stderr (JSON, or text at a terminal), each with its request id."""
    handler = logging.StreamHandler()
    handler.setFormatter(make_formatter(log_format(fmt)))
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our access line replaces uvicorn's, which knows neither route nor request id.
    logging.getLogger("uvicorn.access").disabled = True


def uvicorn_log_config(fmt: str, level: str) -> dict[str, Any]:
    """uvicorn's logging, in our format from the first line (the supervisor's lines, and a
    worker's before the app sets up its own logging)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "app.observability._RequestIdFilter"}},
        "formatters": {"lines": {"()": "app.observability.make_formatter", "kind": fmt}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "lines",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def multiprocess_dir() -> str | None:
    """The folder of prometheus-client's multiprocess mode, if it is on."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


@dataclass(frozen=True)
class _Collectors:
    registry: "CollectorRegistry"
    requests: "Counter"
    errors: "Counter"
    latency: "Histogram"
    checked_out: "Gauge"
    size: "Gauge"


class Metrics:
    """The service's Prometheus metrics, in a registry of their own.

    In one process, the registry and its metrics (and prometheus-client itself) are made
    with the first request counted or the first scrape, not at start-up: the first request
    is counted after its answer has gone, so none waits for them. In multiprocess mode they
    are made at once, so every worker's gauges are in the folder from its start."""

    def __init__(self, engine: Any) -> None:
        self.multiprocess = multiprocess_dir()
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}
        pool = engine.pool
        self._pool_checked_out = lambda: float(getattr(pool, "checkedout", lambda: 0)())
        self._pool_size = lambda: float(getattr(pool, "size", lambda: 0)())
        self._lock = threading.Lock()
        self._made: _Collectors | None = None
        if self.multiprocess:
            self._collectors()
            # A worker that exits takes its gauges with it (counters stay counted).
            atexit.register(_mark_dead, os.getpid())

    def _collectors(self) -> _Collectors:
        made = self._made
        if made is None:
            with self._lock:
                made = self._made
                if made is None:
                    made = self._made = self._make()
        return made

    def _make(self) -> _Collectors:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        registry = CollectorRegistry()
        made = _Collectors(
            registry=registry,
            requests=Counter(
                "econfacts_requests_total",
                "HTTP requests answered.",
                ["method", "route", "status"],
                registry=registry,
            ),
            errors=Counter(
                "econfacts_errors_total",
                "HTTP requests answered with a 5xx.",
                ["method", "route"],
                registry=registry,
            ),
            latency=Histogram(
                "econfacts_request_duration_seconds",
                "Time to answer, by route.",
                ["method", "route"],
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
                registry=registry,
            ),
            # Several workers: each keeps its gauges in its files, and a scrape sums the
            # live ones.
            checked_out=Gauge(
                "econfacts_db_pool_checked_out",
                "Database connections in use (all workers).",
                registry=registry,
                multiprocess_mode="livesum",
            ),
            size=Gauge(
                "econfacts_db_pool_size",
                "Database pool size (all workers).",
                registry=registry,
                multiprocess_mode="livesum",
            ),
        )
        if self.multiprocess:
            made.checked_out.set(self._pool_checked_out())
            made.size.set(self._pool_size())
        else:
            made.checked_out.set_function(self._pool_checked_out)
            made.size.set_function(self._pool_size)
        return made

    def _update_pool(self) -> None:
        made = self._collectors()
        made.checked_out.set(self._pool_checked_out())
        made.size.set(self._pool_size())

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request (label children memoized: routes are templates)."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            made = self._collectors()
            children = (
                made.requests.labels(method, route, str(status)),
                made.latency.labels(method, route),
                made.errors.labels(method, route) if status >= 500 else None,
            )
            self._children[key] = children
        requests, latency, errors = children
        requests.inc()
        latency.observe(seconds)
        if errors is not None:
            errors.inc()
        if self.multiprocess:
            self._update_pool()

    def render(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest

        if not self.multiprocess:
            return generate_latest(self._collectors().registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        self._update_pool()
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.multiprocess)
        return generate_latest(registry)


def _mark_dead(pid: int) -> None:
    from prometheus_client.multiprocess import mark_process_dead

    with contextlib.suppress(OSError):
        mark_process_dead(pid)


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
