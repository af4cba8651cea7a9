"""Idempotency-Key for POST: a retried request returns the first result, creates nothing.

The stored response is written in the same transaction as the write it
describes, so either both exist or neither does; writers are serialized, so two
concurrent retries cannot both create. Keys are scoped to the API key that sent
them and kept for `ECONFACTS_IDEMPOTENCY_TTL_HOURS` (default 24).
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete
from sqlmodel import JSON, Field, Session, SQLModel, col, select

from app.db import UTCDateTime, utcnow
from app.errors import ProblemError

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Any unique string (a UUID is ideal). Retrying a POST with the same key and "
        "body returns the first response and creates nothing new; the same key with another "
        "body is refused (422).",
    ),
]


class IdempotentRequest(SQLModel, table=True):
    __tablename__ = "idempotent_request"

    owner: str = Field(primary_key=True, max_length=120, description="API key name.")
    key: str = Field(primary_key=True, max_length=200)
    fingerprint: str = Field(max_length=64, description="SHA-256 of method, path and body.")
    status: int
    body: str
    headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)


def fingerprint(request: Request, body: Any) -> str:
    payload = body.model_dump(mode="json") if hasattr(body, "model_dump") else body
    canonical = json.dumps(
        [request.method, request.url.path, payload], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(
    request: Request,
    session: Session,
    owner: str,
    key: str | None,
    body: Any,
    produce: Callable[[], JSONResponse],
) -> JSONResponse:
    """Run `produce` once per (owner, key); replay its stored response on a retry."""
    if key is None:
        return produce()
    ttl_hours = request.app.state.settings.idempotency_ttl_hours
    print_ = fingerprint(request, body)
    session.execute(
        delete(IdempotentRequest).where(
            col(IdempotentRequest.created_at) < utcnow() - timedelta(hours=ttl_hours)
        )
    )
    stored = session.exec(
        select(IdempotentRequest).where(
            col(IdempotentRequest.owner) == owner, col(IdempotentRequest.key) == key
        )
    ).first()
    if stored is not None:
        if stored.fingerprint != print_:
            raise ProblemError(
                422,
                "This Idempotency-Key was already used with a different request; use a new "
                "key for a new request.",
                code="idempotency_key_reused",
            )
        return JSONResponse(
            json.loads(stored.body),
            status_code=stored.status,
            headers={**stored.headers, "Idempotent-Replayed": "true"},
        )
    response = produce()
    headers = {k: v for k, v in response.headers.items() if k.lower() in {"location", "etag"}}
    session.add(
        IdempotentRequest(
            owner=owner,
            key=key,
            fingerprint=print_,
            status=response.status_code,
            body=bytes(response.body).decode(),
            headers=headers,
            created_at=utcnow(),
        )
    )
    return response
