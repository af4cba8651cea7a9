"""RFC 9457 problem details: one error type that carries its status, one renderer.

Every error a client can see, from a missing id to an unexpected crash, leaves
through here as `application/problem+json`, so clients parse one shape.
"""

import logging
from html import escape
from http import HTTPStatus
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app import API_VERSION

log = logging.getLogger("econfacts.errors")

PROBLEM_JSON = "application/problem+json"


class InvalidParam(BaseModel):
    name: str = Field(
        description="The parameter or body field at fault, e.g. `country` or `body.quantity.value`."
    )
    reason: str = Field(description="What is wrong and what is allowed.")


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field("about:blank", description="A URI reference identifying the problem type.")
    title: str = Field(description="Short summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(None, description="What went wrong in this case, for a person.")
    instance: str | None = Field(None, description="The request path that produced the problem.")
    code: str | None = Field(
        None, description="A stable machine-readable code, e.g. `unknown_parameter`."
    )
    invalid_params: list[InvalidParam] | None = Field(
        None, description="For validation problems: each parameter at fault and why."
    )


class ProblemError(Exception):
    """An error that knows its HTTP status; raise it anywhere, the handler renders it."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        invalid_params: list[InvalidParam] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.invalid_params = invalid_params
        self.headers = headers


def not_found(resource: str, ident: str) -> ProblemError:
    return ProblemError(404, f"No {resource} with id '{ident}'.", code="not_found")


def bad_param(name: str, reason: str, status: int = 400) -> ProblemError:
    return ProblemError(
        status,
        f"Invalid value for '{name}': {reason}",
        code="invalid_parameter",
        invalid_params=[InvalidParam(name=name, reason=reason)],
    )


def bad_body(field: str, reason: str) -> ProblemError:
    """A request body that parses but breaks a rule (an unknown id, evidence that mismatches)."""
    name = f"body.{field}"
    return ProblemError(
        422,
        f"{name}: {reason}",
        code="validation_failed",
        invalid_params=[InvalidParam(name=name, reason=reason)],
    )


M = TypeVar("M", bound=BaseModel)


def revalidate(model: type[M], data: dict[str, Any]) -> M:
    """Validate a stored record merged with a PATCH; a rule it breaks is a 422 on the body."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise bad_body(where, reason) from None


def problem_response(
    request: Request,
    status: int,
    detail: str | None,
    *,
    code: str | None = None,
    invalid_params: list[InvalidParam] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        code=code,
        invalid_params=invalid_params,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _location_name(loc: tuple[Any, ...]) -> str:
    """('query', 'country') -> 'country'; ('body', 'quantity', 'value') -> 'body.quantity.value'."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"query", "path", "header", "cookie"}:
        parts = parts[1:]
        # kind=foo fails as ('query', 'kind', 0): the parameter is `kind`, not `kind.0`
        parts = [p for p in parts if not p.isdigit()]
    return ".".join(parts) or "request"


def allowed_methods(app: Any, scope: Any) -> str:
    """Every method some route serves on this path (`Allow`, RFC 9110): HEAD with GET, and
    OPTIONS; empty if no route has the path. Asks each route whether it would take the
    request with that method, so included routers are searched like the router does."""
    routes = getattr(app, "routes", [])
    methods = [
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)
    ]
    if not methods:
        return ""
    if "GET" in methods:
        methods.insert(1, "HEAD")
    return ", ".join([*methods, "OPTIONS"])


def wants_html_page(request: Request) -> bool:
    """A person's browser (it asks for text/html) gets errors outside the API as an HTML
    page: the pages (`/`, `/pairs/...`, `/sources/...`), and any path no route has; the
    desk's pages always do. The API (and the desk's `/desk/api/`), the OpenAPI document and
    the probes always answer problem+json, and so does everything else for a client that
    does not ask for HTML (curl, scripts, tests: `Accept: */*`)."""
    path = request.url.path
    if path == f"/{API_VERSION}" or path.startswith(
        (f"/{API_VERSION}/", "/openapi.json", "/metrics", "/healthz", "/readyz", "/desk/api/")
    ):
        return False
    if path == "/desk" or path.startswith("/desk/"):
        return True  # the desk's pages are for people, whatever a browser sends as Accept
    return "text/html" in request.headers.get("accept", "")


def html_error(
    request: Request, status: int, detail: str | None, headers: dict[str, str] | None = None
) -> HTMLResponse:
    title = HTTPStatus(status).phrase
    body = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{status} {escape(title)} · econfacts</title>\n"
        '<link rel="icon" href="/favicon.ico">\n'
        "<style>body{font:16px/1.5 system-ui,sans-serif;margin:3rem auto;max-width:40rem;"
        "color:#1d2330;padding:0 1rem}a{color:#2456b3}</style>\n</head>\n<body>\n"
        f"<h1>{status} {escape(title)}</h1>\n<p>{escape(detail or title)}</p>\n"
        '<p><a href="/">The country pairs</a> · <a href="/docs">The API</a></p>\n'
        "</body>\n</html>\n"
    )
    return HTMLResponse(body, status_code=status, headers=headers)


def _answer(
    request: Request,
    status: int,
    detail: str | None,
    *,
    code: str | None = None,
    invalid_params: list[InvalidParam] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """problem+json, or an HTML page for the HTML routes."""
    if wants_html_page(request):
        return html_error(request, status, detail, headers)
    return problem_response(
        request, status, detail, code=code, invalid_params=invalid_params, headers=headers
    )


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    params: list[InvalidParam] = []
    only_query = True
    unknown: list[str] = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        if not loc or loc[0] not in {"query", "path", "header"}:
            only_query = False
        name = _location_name(loc)
        if err.get("type") == "extra_forbidden" and loc and loc[0] == "query":
            unknown.append(name)
            params.append(InvalidParam(name=name, reason="unknown query parameter"))
            continue
        reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        params.append(InvalidParam(name=name, reason=reason))
    if unknown and len(unknown) == len(params):
        allowed = sorted(_declared_query_params(request))
        detail = f"Unknown query parameter(s): {', '.join(unknown)}."
        detail += (
            f" Allowed here: {', '.join(allowed)}."
            if allowed
            else " This operation takes no query parameters."
        )
        return _answer(request, 400, detail, code="unknown_parameter", invalid_params=params)
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        return _answer(
            request,
            400,
            "The request body is not valid JSON.",
            code="malformed_json",
            invalid_params=[InvalidParam(name="body", reason="not valid JSON")],
        )
    detail = "; ".join(f"{p.name}: {p.reason}" for p in params)
    if only_query:
        # The same mistake gets the same code everywhere: a bad query or path value is
        # `invalid_parameter` whether the model or a route's own check found it.
        return _answer(request, 400, detail, code="invalid_parameter", invalid_params=params)
    return _answer(request, 422, detail, code="validation_failed", invalid_params=params)


def _declared_query_params(request: Request) -> set[str]:
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    names: set[str] = set()
    stack = [dependant] if dependant is not None else []
    while stack:
        dep = stack.pop()
        model = getattr(dep.call, "model", None)  # a query model read by app.http.query
        if isinstance(model, type) and issubclass(model, BaseModel):
            names.update(f.alias or n for n, f in model.model_fields.items())
        for param in dep.query_params:
            annotation = getattr(param.field_info, "annotation", None)
            fields = getattr(annotation, "model_fields", None)
            if fields is not None:
                names.update(f.alias or n for n, f in fields.items())
            else:
                names.add(param.alias)
        stack.extend(dep.dependencies)
    return names


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return _answer(
        request,
        exc.status,
        exc.detail,
        code=exc.code,
        invalid_params=exc.invalid_params,
        headers=exc.headers,
    )


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.url.path}. See /docs for the API."
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        allowed = allowed_methods(request.app, request.scope) or (exc.headers or {}).get(
            "Allow", ""
        )
        headers = {**(headers or {}), "Allow": allowed}
        detail = f"{request.method} is not allowed on {request.url.path}. Allowed: {allowed}."
    return _answer(
        request, exc.status_code, detail, code=_HTTP_CODES.get(exc.status_code), headers=headers
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


async def _unexpected_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _answer(
        request,
        500,
        "The server failed to handle this request; it has been logged.",
        code="internal_error",
    )


async def _database_handler(request: Request, exc: Exception) -> Response:
    """The database was busy or a query ran too long: a 503 the client may retry, not a 500."""
    message = str(exc).lower()
    if "interrupted" in message or "statement timeout" in message:
        detail = "The query took too long and was stopped; narrow the filters and retry."
        code = "query_timeout"
    else:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        detail = "The database is busy or unreachable; retry shortly."
        code = "database_unavailable"
    return _answer(request, 503, detail, code=code, headers={"Retry-After": "1"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(ProblemError, _problem_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(OperationalError, _database_handler)
    app.add_exception_handler(Exception, _unexpected_handler)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries declaring problem+json for the given statuses."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
