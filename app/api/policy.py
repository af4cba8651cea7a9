"""How /v1 evolves: the API-Version header on every response, and real deprecations.

A deprecated operation is declared with `deprecated_operation(...)` in its route
decorator. It is marked deprecated in OpenAPI and, on every response, carries
`Deprecation` (RFC 9745: the date it was deprecated, as `@<unix time>`),
`Sunset` (RFC 8594: the HTTP-date after which it may stop working) and a
`Link` to its successor.
"""

from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import API_VERSION


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
    deprecated_on = _midnight(date.fromisoformat(extra["x-deprecated-on"]))
    sunset_on = _midnight(date.fromisoformat(extra["x-sunset"]))
    return {
        "Deprecation": f"@{int(deprecated_on.timestamp())}",
        "Sunset": format_datetime(sunset_on, usegmt=True),
        "Link": f'<{extra["x-successor"].format(**path_params)}>; rel="successor-version"',
    }


class ApiPolicyMiddleware:
    """Adds `API-Version` to every response, and the deprecation headers where they apply."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["API-Version"] = API_VERSION
                for name, value in deprecation_headers(
                    scope.get("route"), scope.get("path_params") or {}
                ).items():
                    if name == "Link" and "link" in headers:
                        headers["Link"] = f"{headers['link']}, {value}"
                    else:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, wrapped_send)
