"""Response policy: the API-Version header on every response, security headers, and real
deprecations.

A deprecated operation is declared with `deprecated_operation(...)` in its route
decorator. It is marked deprecated in OpenAPI and, on every response, carries
`Deprecation` (RFC 9745: the date it was deprecated, as `@<unix time>`),
`Sunset` (RFC 8594: the HTTP-date after which it may stop working) and a
`Link` to its successor.
"""

from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import API_VERSION
from app.errors import allowed_methods, problem_response

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HTML_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
"""Pages load only our own assets; the docs' small inline start-up scripts are allowed."""


def deprecated_operation(*, deprecated_on: date, sunset_on: date, successor: str) -> dict[str, Any]:
    """Keyword arguments for a route decorator that deprecate the operation."""
    return {
        "deprecated": True,
        "openapi_extra": {
            "x-deprecated-on": deprecated_on.isoformat(),
            "x-sunset": sunset_on.isoformat(),
            "x-successor": successor,
        },
    }


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def deprecation_headers(route: Any, path_params: dict[str, Any]) -> dict[str, str]:
    extra = getattr(route, "openapi_extra", None) or {}
    if not getattr(route, "deprecated", False) or "x-sunset" not in extra:
        return {}
    # Path values are percent-encoded: a header is Latin-1, an id may be anything.
    successor = extra["x-successor"].format(
        **{name: quote(str(value), safe="") for name, value in path_params.items()}
    )
    deprecated_on = _midnight(date.fromisoformat(extra["x-deprecated-on"]))
    sunset_on = _midnight(date.fromisoformat(extra["x-sunset"]))
    return {
        "Deprecation": f"@{int(deprecated_on.timestamp())}",
        "Sunset": format_datetime(sunset_on, usegmt=True),
        "Link": f'<{successor}>; rel="successor-version"',
    }


class ApiPolicyMiddleware:
    """Adds `API-Version` to every response, and the deprecation headers where they apply."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        keyed = any(name == b"authorization" for name, _ in scope.get("headers", []))

        async def wrapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["API-Version"] = API_VERSION
                if scope["path"].startswith(f"/{API_VERSION}"):
                    # JSON, CSV or JSON-LD by Accept: caches must key on it; and a write
                    # key also sees drafts, so the answer depends on Authorization too.
                    headers.add_vary_header("Accept")
                    headers.add_vary_header("Authorization")
                if keyed and "cache-control" in headers:
                    # What a key sees (drafts, for a write key) is for it alone: no shared
                    # cache may keep it and hand it to another client.
                    headers["Cache-Control"] = headers["cache-control"].replace("public", "private")
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", HTML_CSP)
                for name, value in deprecation_headers(
                    scope.get("route"), scope.get("path_params") or {}
                ).items():
                    if name == "Link" and "link" in headers:
                        headers["Link"] = f"{headers['link']}, {value}"
                    else:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, wrapped_send)


class MethodMiddleware:
    """Methods as they are, before any other guard looks at the body: `OPTIONS` on any
    route answers 204 with the full `Allow` (CORS preflights are the CORS layer's), and a
    method no route serves on the path is a 405 with that `Allow` (so `PUT /v1/facts` with
    a body is a 405, not a 415 about the body it was never going to take)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "POST", "PATCH"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in (
            request.headers
        )
        allowed = allowed_methods(scope["app"], scope)
        if preflight or not allowed:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            response: Response = Response(status_code=204, headers={"Allow": allowed})
        elif scope["method"] not in allowed.split(", "):
            response = problem_response(
                request,
                405,
                f"{scope['method']} is not allowed on {scope['path']}. Allowed: {allowed}.",
                code="method_not_allowed",
                headers={"Allow": allowed},
            )
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
