"""create_app(): the ASGI application with its middleware, error handlers and routes."""

import gc
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from sqlalchemy import text

from app import API_VERSION
from app.api.v1 import router as v1_router
from app.config import Settings, get_settings
from app.db import WriteGate, make_engine
from app.db.migrate import current_revision, head_revision
from app.db.version import DataVersion
from app.desk.router import router as desk_router
from app.errors import install_error_handlers, problem_response, problem_responses
from app.facts.shape import SHAPE, documents_current
from app.http.conditional import ETagMiddleware
from app.http.policy import ApiPolicyMiddleware, MethodMiddleware
from app.http.response_cache import ResponseCacheMiddleware
from app.limits import RateLimiter, RequestGuardMiddleware
from app.observability import Metrics, RequestContextMiddleware, configure_logging
from app.openapi import install_openapi
from app.web.router import router as web_router

DESCRIPTION = """
Curated, sourced and versioned facts about economic relations between countries:
investment totals and their direction, trade turnover, agreements and their dates,
partner rankings, and quotes with the person who said them.

Every fact carries the exact words it came from (`evidence`: offsets into the source
text), who claimed it, and how sure the wording is (`quantity.comparator` and `hedge`:
"nearly $1 billion" is not "$1 billion").

Reads are anonymous (unless the server requires keys for reads); a key of scope write or
admin also sees drafts and rejected records. Writes need a key (`Authorization: Bearer`).

Errors are RFC 9457 `application/problem+json`, with a stable `code` per kind of mistake
(`invalid_parameter`, `unknown_parameter`, `validation_failed`, `not_found`,
`precondition_failed`...). A method a path does not serve is a `405` with `Allow`
(`OPTIONS` on any path answers `204` with it); `429` and `503` carry `Retry-After`.

Lists page with an opaque `cursor` (`next` in the body, `Link: rel="next"` header). A CSV
list without `limit` is every matching row, streamed. Every GET carries an `ETag` (except
streamed answers: the NDJSON export and whole-list CSV); send it back in `If-None-Match`
for a `304`. Decimals are exact strings (`quantity.value`), except the chart-ready numbers
of `/v1/series` points (`value`, `low`, `high`; `exact` keeps the string).
"""

TAGS = [
    {"name": "facts", "description": "Sourced claims about a relationship between countries."},
    {"name": "quotes", "description": "Exact words, with speaker and evidence."},
    {"name": "agreements", "description": "Agreements: facts of kind `agreement`."},
    {"name": "entities", "description": "Countries, people, organizations, initiatives, events."},
    {"name": "sources", "description": "The articles behind every fact and quote."},
    {"name": "changes", "description": "The change feed, for syncing only what changed."},
    {"name": "relations", "description": "Dossiers and chart-ready series for dashboards."},
    {"name": "export", "description": "Bulk exports."},
    {"name": "meta", "description": "Index, health and readiness."},
]


APP_VERSION = "0.1.0"


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    schema_revision: str | None
    expected_revision: str | None


class UnsafeSettings(RuntimeError):
    """Production mode with a setting that must not be used there."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    problems = settings.production_problems()
    if problems:
        raise UnsafeSettings("refusing to start in production: " + "; ".join(problems))
    engine = make_engine(settings)
    metrics = Metrics(engine)
    # The data's version backs the response cache and data-version ETags, which are for
    # anonymous reads: with keys required for reads there are none.
    data_version = None if settings.require_key_for_reads else DataVersion(engine)
    caching = bool(settings.response_cache_mb) and data_version is not None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Reads are CPU-bound Python under one GIL: a few threads answer more requests,
        # sooner, than forty taking turns (bench: 57 vs 32 req/s on uncached lists at 32
        # connections). Writes have their own small limiter (WriteGate).
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        # What start-up allocated (country tables, schemas, routes) lives forever: keep
        # it out of the collector, whose full passes over it stalled requests.
        gc.collect()
        gc.freeze()
        yield
        engine.dispose()
        if data_version is not None:
            await data_version.close()

    app = FastAPIOffline(
        title="econfacts",
        version=APP_VERSION,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        redirect_slashes=False,
        # No OpenTelemetry here (Prometheus metrics instead): off, FastAPI's native
        # telemetry would still look for providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Offline: no call to swagger.io's online validator.
        swagger_ui_parameters={"validatorUrl": None},
        # Operation ids are the route names (list_facts, get_fact, update_fact...), so
        # generated clients get those names, not list_facts_v1_facts_get.
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.write_gate = WriteGate(timeout_s=30)
    app.state.rate_limiter = RateLimiter.from_settings(settings)
    configure_logging("debug" if settings.debug else settings.log_level, settings.log_format)

    install_error_handlers(app)
    app.add_middleware(
        ETagMiddleware,
        cache_control=(
            f"{'private' if settings.require_key_for_reads else 'public'}, "
            f"max-age={settings.cache_max_age}"
        ),
        version=data_version,
        salt=_representation_salt(settings),
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["*"],
        allow_credentials=settings.cors_allow_credentials,
        expose_headers=[
            "ETag",
            "Link",
            "API-Version",
            "Deprecation",
            "Sunset",
            "X-Request-ID",
            "Retry-After",
        ],
    )
    app.add_middleware(RequestGuardMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(MethodMiddleware)
    app.add_middleware(ApiPolicyMiddleware)
    if caching:
        assert data_version is not None
        app.add_middleware(
            ResponseCacheMiddleware,
            version=data_version,
            max_bytes=settings.response_cache_mb * 1_000_000,
            max_entry=2_000_000,
        )
    app.add_middleware(RequestContextMiddleware, metrics=metrics, log_requests=settings.access_log)
    app.include_router(v1_router, prefix=f"/{API_VERSION}")
    install_openapi(app)

    app.include_router(web_router)
    app.include_router(desk_router)

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        tags=["meta"],
        summary="Prometheus metrics",
        description="Requests by route and status, a latency histogram, 5xx errors and the "
        "database pool, in the Prometheus text format. With several workers, the sum over all "
        "workers of this server (prometheus-client multiprocess mode); scrape each replica "
        "separately.",
        responses={200: {"content": {"text/plain": {"example": "econfacts_requests_total 1"}}}},
    )
    def get_metrics() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(
            FAVICON, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
        )

    @app.get(
        "/healthz",
        response_model=Health,
        tags=["meta"],
        summary="Liveness",
        description="The process is up and serving. Does not touch the database.",
    )
    def healthz() -> Health:
        return Health(status="ok")

    @app.get(
        "/readyz",
        response_model=Readiness,
        tags=["meta"],
        summary="Readiness",
        description="The database answers and its schema is at the migration head this code "
        "expects. 503 (problem+json) otherwise.",
        responses=problem_responses(503),
    )
    def readyz(request: Request) -> Any:
        expected = head_revision()
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                current = current_revision(conn)
                documents = current == expected and documents_current(conn)
        except Exception as exc:
            logging.getLogger("econfacts").warning("readiness: database unreachable: %s", exc)
            return _not_ready(request, "the database is unreachable")
        if current != expected:
            return _not_ready(
                request,
                f"the database schema is at {current or 'no revision'}, expected {expected}; "
                "run `econfacts db upgrade`",
            )
        if not documents:
            return _not_ready(
                request,
                "the stored fact documents were made for another version of the code; run "
                "`econfacts db upgrade`, which makes them again",
            )
        return Readiness(
            status="ready", database="ok", schema_revision=current, expected_revision=expected
        )

    return app


def _representation_salt(settings: Settings) -> str:
    """What besides the data and the request shapes an answer, for data-version ETags: the
    code's document shape and version, paging defaults and the cursor secret (cursors in
    bodies are signed with it)."""
    secret = hashlib.sha256(settings.cursor_secret.encode()).hexdigest()[:16]
    return (
        f"{SHAPE}|{API_VERSION}|{APP_VERSION}|{settings.page_size_default}|"
        f"{settings.page_size_max}|{secret}"
    )


def _operation_id(route: APIRoute) -> str:
    return route.name


def _png(size: int = 32) -> bytes:
    """The favicon: a small blue square with a light bar chart, drawn here (no asset)."""
    import struct
    import zlib

    blue, light = b"\x24\x56\xb3\xff", b"\xf5\xf7\xfb\xff"
    bars = [(6, 12, 20), (13, 19, 12), (20, 26, 6)]  # x from, x to, top row
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")
        for x in range(size):
            inside = any(a <= x < b and top <= y < size - 5 for a, b, top in bars)
            row += light if inside else blue
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


FAVICON = _png()


def _not_ready(request: Request, detail: str) -> JSONResponse:
    return problem_response(request, 503, detail, code="not_ready")


__all__ = ["API_VERSION", "create_app"]
