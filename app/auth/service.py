"""Issuing and checking API keys, and the dependencies routes use to require a scope.

A key looks like `ef_<prefix>_<secret>`. The prefix finds the row; the SHA-256 of
the whole key is compared with `hmac.compare_digest`. Keys carry 256 bits of
randomness, so a fast hash is the right tool (a slow password hash protects
low-entropy secrets, which these are not).
"""

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, col, select

from app.auth.models import ApiKey, Scope
from app.db import utcnow
from app.errors import ProblemError

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `econfacts keys create`, sent as `Authorization: Bearer KEY`. "
    "Reads are public unless the server requires keys; writes need scope write or admin.",
)


@dataclass(frozen=True)
class Caller:
    """Who is making the request: the key's name (the actor in revisions) and scope."""

    name: str
    scope: Scope


ANONYMOUS = Caller(name="anonymous", scope=Scope.read)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, *, name: str, scope: Scope) -> str:
    """Store a new key and return it; this is the only time the key is visible."""
    if session.exec(select(ApiKey).where(ApiKey.name == name)).first() is not None:
        raise ValueError(f"a key named {name!r} exists already")
    prefix = secrets.token_hex(6)
    key = f"ef_{prefix}_{secrets.token_urlsafe(32)}"
    session.add(
        ApiKey(name=name, prefix=prefix, hash=_digest(key), scope=scope.value, created_at=utcnow())
    )
    return key


def list_keys(session: Session) -> Sequence[ApiKey]:
    return session.exec(select(ApiKey).order_by(col(ApiKey.id))).all()


def revoke_key(session: Session, *, name: str) -> bool:
    key = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
    if key is None or key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    session.add(key)
    return True


def verify_key(session: Session, key: str) -> Caller | None:
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "ef":
        return None
    row = session.exec(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.hash, _digest(key)):
        return None
    return Caller(name=row.name, scope=Scope(row.scope))


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401, detail, code="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="econfacts"'}
    )


def _lookup(engine: Any, key: str) -> Caller | None:
    with Session(engine) as session:
        return verify_key(session, key)


def require_scope(needed: Scope) -> Callable[..., Awaitable[Caller]]:
    """A dependency that authenticates the caller and checks their scope."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        # Async, so an anonymous read costs no trip through the thread pool; only a key
        # lookup (a database read) goes there.
        settings = request.app.state.settings
        request.state.caller = ANONYMOUS
        limiter = request.app.state.rate_limiter
        # Routes may check a scope twice (the router's read check, then write): charge once.
        charge = not getattr(request.state, "rate_charged", False)
        request.state.rate_charged = True
        address = request.client.host if request.client else "-"
        if credentials is None:
            if charge:
                limiter.charge_address(address)
            if needed is Scope.read and not settings.require_key_for_reads:
                return ANONYMOUS
            raise _unauthorized(
                "This operation needs an API key: send `Authorization: Bearer KEY` "
                f"with a key of scope {needed.value} or higher."
            )
        caller = await run_in_threadpool(_lookup, request.app.state.engine, credentials.credentials)
        if caller is None:
            if charge:
                limiter.charge_address(address)
            raise _unauthorized("The API key is not valid (unknown, malformed or revoked).")
        if charge:
            limiter.charge_key(caller.name)
        request.state.caller = caller
        if caller.scope.level < needed.level:
            raise ProblemError(
                403,
                f"The key '{caller.name}' has scope {caller.scope.value}; this operation needs "
                f"{needed.value}.",
                code="forbidden",
            )
        return caller

    return dependency


WriterDep = Annotated[Caller, Depends(require_scope(Scope.write))]


def caller_of(request: Request) -> Caller:
    """Who made this request (set by the router's read check); anonymous if nobody said."""
    caller = getattr(request.state, "caller", None)
    return caller if isinstance(caller, Caller) else ANONYMOUS


async def sees_editorial(request: Request) -> bool:
    """Drafts and rejected records are editorial material: only keys that may write see
    them. Anonymous callers and read keys see published (and retracted) records. (Async:
    a sync dependency would cost a trip to the thread pool.)"""
    return caller_of(request).scope.level >= Scope.write.level


EditorialDep = Annotated[bool, Depends(sees_editorial)]
"""True when the caller may see drafts and rejected records."""
