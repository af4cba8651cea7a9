"""OpenAPI additions for behaviour that middleware gives every operation.

ETag/If-None-Match (caching.ETagMiddleware) and the API-Version header
(api.policy.ApiPolicyMiddleware) apply to every GET and every response; this
documents them on each operation rather than leaving clients to guess.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app import API_VERSION
from app.errors import PROBLEM_JSON, Problem

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
            "in both, good for the writes of both.",
            "schema": {"type": "string"},
        }
        headers["API-Version"] = {
            "description": "The API version that answered.",
            "schema": {"type": "string", "example": API_VERSION},
        }
        for path, operations in schema.get("paths", {}).items():
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
                operation.setdefault("parameters", []).append(
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "description": "An ETag you hold; 304 Not Modified if it still matches.",
                        "schema": {"type": "string"},
                    }
                )
                ok = operation["responses"].get("200")
                if ok is not None and any(
                    p.get("name") == "format" for p in operation.get("parameters", [])
                ):
                    ok.setdefault("content", {})["text/csv"] = {
                        "schema": {"type": "string"},
                        "example": "id,kind,statement,...\r\naze-chn-...,investment,...\r\n",
                    }
                if ok is not None:
                    ok["headers"]["ETag"] = {"$ref": "#/components/headers/ETag"}
                operation["responses"]["304"] = {
                    "description": "Not Modified: your copy (If-None-Match) is current.",
                    "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
                }
                if path.startswith(f"/{API_VERSION}"):
                    for status, text in (
                        ("400", "Bad Request: an unknown or invalid query parameter."),
                        ("401", "Unauthorized: when reads require a key, no or a bad key."),
                        ("403", "Forbidden: the key's scope does not allow this."),
                    ):
                        operation["responses"].setdefault(
                            status,
                            {"description": text, "content": {PROBLEM_JSON: {"schema": _PROBLEM}}},
                        )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
