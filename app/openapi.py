"""OpenAPI additions for behaviour that middleware gives every operation.

ETag/If-None-Match (http.conditional.ETagMiddleware) and the API-Version header
(http.policy.ApiPolicyMiddleware) apply to every GET and every response; this
documents them on each operation rather than leaving clients to guess.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app import API_VERSION
from app.errors import PROBLEM_JSON, Problem
from app.http.query import document_query_models
from app.http.responses import IF_MATCH_PATTERN

_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        document_query_models(schema, app.routes)
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem.pop("$defs", {}))
        schemas["Problem"] = problem
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        headers = components.setdefault("headers", {})
        headers["ETag"] = {
            "description": "Strong validator of this representation; send it back in "
            "If-None-Match (304 if unchanged) or, for writes, If-Match. A fact read from "
            "/v1/facts/{id} or, as an agreement, from /v1/agreements/{id} has the same ETag "
            "in both, good for the writes of both. Not sent on streamed answers (the NDJSON "
            "export, and a CSV list asked for without `limit`).",
            "schema": {"type": "string"},
        }
        headers.update(EXTRA_HEADERS)
        headers["API-Version"] = {
            "description": "The API version that answered.",
            "schema": {"type": "string", "example": API_VERSION},
        }
        settings = app.state.settings
        _document_security(schema, settings.require_key_for_reads)
        _document_statuses(schema, settings.require_key_for_reads)
        _document_bounds(schema, page_size_max=settings.page_size_max)
        _name_enum_members(schema)
        _document_if_match(schema)
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                for status, response in operation.get("responses", {}).items():
                    if status.startswith(("4", "5")):
                        # FastAPI's default 422 says application/json; we always send problems.
                        response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM}}
                        if status == "422":
                            response["description"] = "Unprocessable: invalid input."
                    response.setdefault("headers", {})["API-Version"] = {
                        "$ref": "#/components/headers/API-Version"
                    }
                if method != "get":
                    continue
                ok = operation["responses"].get("200")
                if ok is not None and any(
                    p.get("name") == "format" for p in operation.get("parameters", [])
                ):
                    ok.setdefault("content", {})["text/csv"] = {
                        "schema": {"type": "string"},
                        "example": "id,kind,statement,...\r\naze-chn-...,investment,...\r\n",
                    }
                if operation.get("operationId") in STREAMED:
                    continue  # streamed: no ETag, so never a 304 either
                operation.setdefault("parameters", []).append(
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "description": "An ETag you hold; 304 Not Modified if it still matches.",
                        "schema": {"type": "string"},
                    }
                )
                if ok is not None:
                    ok["headers"]["ETag"] = {"$ref": "#/components/headers/ETag"}
                operation["responses"]["304"] = {
                    "description": "Not Modified: your copy (If-None-Match) is current.",
                    "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
                }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


READ_KEY_NOTE = (
    "\n\nAn API key is optional here: with a key of scope write or admin the answer also "
    "includes drafts and rejected records (editorial material); without one, or with a read "
    "key, only published and retracted ones."
)


EDITORIAL_PATHS = tuple(
    f"/{API_VERSION}/{name}" for name in ("facts", "quotes", "agreements", "changes", "export")
)


def _document_security(schema: dict[str, Any], require_key_for_reads: bool) -> None:
    """Security as it is: writes need a key; reads are anonymous unless the server requires
    keys for reads (ECONFACTS_REQUIRE_KEY_FOR_READS), and then the document says so too.

    An anonymous read declares no `security` at all (rather than the optional `[{}, ...]`),
    so generated clients let a plain, unauthenticated client call it."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not path.startswith(f"/{API_VERSION}"):
                operation.pop("security", None)
                continue
            if method not in ("get", "head") or require_key_for_reads:
                operation["security"] = [{"ApiKey": []}]
            else:
                operation.pop("security", None)
                if path.startswith(EDITORIAL_PATHS):
                    operation["description"] = operation.get("description", "") + READ_KEY_NOTE


STREAMED = frozenset({"export_facts"})
"""Operations whose 200 is streamed: no ETag, so no 304."""

EXTRA_HEADERS: dict[str, Any] = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Link": {
        "description": 'RFC 8288: `<url>; rel="next"` when there is a next page.',
        "schema": {"type": "string"},
    },
    "WWW-Authenticate": {
        "description": "How to authenticate: `Bearer`.",
        "schema": {"type": "string"},
    },
}


def _problem(description: str, *headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": _PROBLEM}},
    }
    if headers:
        response["headers"] = {h: {"$ref": f"#/components/headers/{h}"} for h in headers}
    return response


def _document_statuses(schema: dict[str, Any], require_key_for_reads: bool) -> None:
    """Every status the server can send on each /v1 operation, with its headers: what the
    middleware and the dependencies add (rate limits, keys, timeouts, body guards) is not
    visible to FastAPI, so it is written here, once, for all of them."""
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(f"/{API_VERSION}"):
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            write = method not in ("get", "head")
            if any(p.get("in") in ("query", "path") for p in parameters) or write:
                responses.setdefault(
                    "400", _problem("Bad Request: an unknown or invalid parameter.")
                )
            responses["401"] = _problem(
                "Unauthorized: the API key is missing (where one is needed) or not valid."
                if write or require_key_for_reads
                else "Unauthorized: an API key was sent and is not valid (unknown, malformed "
                "or revoked). Reads need no key.",
                "WWW-Authenticate",
            )
            if write:
                responses["403"] = _problem("Forbidden: the key's scope does not allow this.")
                responses["413"] = _problem("Content Too Large: the body is over the limit.")
                responses["415"] = _problem("Unsupported Media Type: send application/json.")
                responses.setdefault("422", _problem("Unprocessable: invalid input."))
            else:
                responses.pop("403", None)  # read is the lowest scope: never too low
                responses.pop("422", None)  # a bad query is a 400; reads take no body
            if any(p.get("in") == "path" for p in parameters):
                responses.setdefault("404", _problem("Not Found: no record with this id."))
            responses["429"] = _problem(
                "Too Many Requests: the rate limit for your address or key is spent; wait "
                "`Retry-After` seconds.",
                "Retry-After",
            )
            responses["503"] = _problem(
                "Service Unavailable: the query took too long or the database is busy (or, "
                "for a write, the write queue is full); retry after `Retry-After` seconds.",
                "Retry-After",
            )
            ok = responses.get("200")
            if ok is not None and any(p.get("name") == "cursor" for p in parameters):
                ok.setdefault("headers", {})["Link"] = {"$ref": "#/components/headers/Link"}


def _document_bounds(schema: dict[str, Any], *, page_size_max: int) -> None:
    """Bounds the server enforces at run time, from its settings: the page size."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("name") != "limit" or parameter.get("in") != "query":
                    continue
                for branch in [parameter["schema"], *parameter["schema"].get("anyOf", [])]:
                    if branch.get("type") == "integer":
                        branch["maximum"] = page_size_max


def _enum_name(value: str) -> str:
    """`-date` -> DATE_DESC, `date` -> DATE_ASC (sort orders); other values upper-cased."""
    stem = value.lstrip("-").upper().replace("-", "_").replace(".", "_")
    return f"{stem}_DESC" if value.startswith("-") else f"{stem}_ASC"


def _name_enum_members(node: Any) -> None:
    """`x-enum-varnames` on the sort enums, so generated clients get `DATE_DESC` for
    `-date` rather than `VALUE_1`."""
    if isinstance(node, dict):
        values = node.get("enum")
        if (
            isinstance(values, list)
            and values
            and all(isinstance(v, str) for v in values)
            and any(v.startswith("-") for v in values)
        ):
            node["x-enum-varnames"] = [_enum_name(v) for v in values]
        for value in node.values():
            _name_enum_members(value)
    elif isinstance(node, list):
        for item in node:
            _name_enum_members(item)


def _document_if_match(schema: dict[str, Any]) -> None:
    """If-Match is required on every conditional write (428 without it): say so, and what
    it looks like (RFC 9110: `*` or entity tags; 400 otherwise)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "header" and parameter.get("name") == "If-Match":
                    parameter["required"] = True
                    parameter["schema"] = {
                        "type": "string",
                        "pattern": IF_MATCH_PATTERN,
                        "examples": ['"0123456789abcdef0123456789abcdef"'],
                    }
