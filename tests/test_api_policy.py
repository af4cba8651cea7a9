"""API policy: every response names its API version; a deprecated operation says so in its
headers and in OpenAPI; OpenAPI documents the auth scheme, the conditional and idempotency
headers, and the statuses they lead to."""

import re
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
SOURCE_TEXT = (ROOT / "app/seed/data/trend-4036385.txt").read_text(encoding="utf-8")
FACT = "aze-chn-investment-chn-to-aze-since-1995"
TEXT_PATH = "/v1/sources/trend-4036385/text"
SUCCESSOR = '</v1/sources/trend-4036385>; rel="successor-version"'
IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT"
)
METHODS = {"get", "post", "patch", "put", "delete"}
STATUS_ACTIONS = ("/retract", "/publish", "/reject")


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    schema = client.get("/openapi.json").json()
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def header_params(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def is_conditional_write(method: str, path: str) -> bool:
    return method == "patch" or (method == "post" and path.endswith(STATUS_ACTIONS))


def is_create(method: str, path: str) -> bool:
    return method == "post" and path.startswith("/v1/") and "{" not in path


def link_values(response: httpx.Response) -> list[str]:
    return [v.strip() for v in response.headers.get("link", "").split(",") if v.strip()]


# --- API-Version ----------------------------------------------------------------------------


def test_api_version_on_every_response(fresh_client: TestClient, write_key: str) -> None:
    """Success, 304, client errors and the docs all carry `API-Version: v1`."""
    auth = {"Authorization": f"Bearer {write_key}"}
    item = fresh_client.get(f"/v1/facts/{FACT}")
    responses = {
        "200": item,
        "304": fresh_client.get(
            f"/v1/facts/{FACT}", headers={"If-None-Match": item.headers["etag"]}
        ),
        "404 item": fresh_client.get("/v1/facts/no-such-fact"),
        "404 route": fresh_client.get("/v1/nothing-here"),
        "405": fresh_client.delete(f"/v1/facts/{FACT}"),
        "400": fresh_client.get("/v1/facts", params={"colour": "red"}),
        "401": fresh_client.post("/v1/facts", json={}),
        "415": fresh_client.post(
            "/v1/facts", content=b"x", headers={**auth, "Content-Type": "text/plain"}
        ),
        "422": fresh_client.post("/v1/facts", json={"kind": "gdp"}, headers=auth),
        "428": fresh_client.patch(f"/v1/facts/{FACT}", json={"statement": "x"}, headers=auth),
        "412": fresh_client.patch(
            f"/v1/facts/{FACT}", json={"statement": "x"}, headers={**auth, "If-Match": '"old"'}
        ),
        "201": fresh_client.post(
            "/v1/entities", json={"kind": "organization", "name": "Org"}, headers=auth
        ),
        "docs": fresh_client.get("/docs"),
        "openapi": fresh_client.get("/openapi.json"),
        "healthz": fresh_client.get("/healthz"),
        "readyz": fresh_client.get("/readyz"),
        "index": fresh_client.get("/v1"),
        "text": fresh_client.get(TEXT_PATH),
    }
    for name, response in responses.items():
        expected = name.split()[0]
        if expected.isdigit():
            assert response.status_code == int(expected), (name, response.text)
        else:
            assert response.status_code == 200, name
        assert response.headers.get("api-version") == "v1", name


# --- the deprecated operation ---------------------------------------------------------------


def test_deprecated_text_endpoint_still_works_and_says_so(client: TestClient) -> None:
    """GET /v1/sources/{id}/text is the source text as text/plain, with Deprecation (RFC 9745),
    Sunset (RFC 8594, an HTTP-date after the deprecation) and a Link to its successor."""
    response = client.get(TEXT_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == SOURCE_TEXT
    deprecation = response.headers["deprecation"]
    assert re.fullmatch(r"@\d+", deprecation), deprecation
    sunset = response.headers["sunset"]
    assert IMF_FIXDATE.fullmatch(sunset), sunset
    assert parsedate_to_datetime(sunset).timestamp() > int(deprecation[1:])
    assert SUCCESSOR in link_values(response)
    successor = client.get("/v1/sources/trend-4036385")
    assert successor.status_code == 200
    assert successor.json()["text"] == response.text
    not_modified = client.get(TEXT_PATH, headers={"If-None-Match": response.headers["etag"]})
    assert not_modified.status_code == 304
    assert not_modified.headers["deprecation"] == deprecation


def test_only_the_text_operation_is_deprecated_in_openapi(client: TestClient) -> None:
    """OpenAPI marks exactly the deprecated operation `deprecated: true`."""
    deprecated = [(method, path) for method, path, op in operations(client) if op.get("deprecated")]
    assert deprecated == [("get", "/v1/sources/{source_id}/text")]


@pytest.mark.parametrize(
    "path",
    [
        "/v1",
        "/v1/facts",
        f"/v1/facts/{FACT}",
        "/v1/facts?limit=2",
        "/v1/quotes",
        "/v1/sources",
        "/v1/sources/trend-4036385",
        "/v1/entities/AZE",
        "/v1/changes",
        "/healthz",
    ],
)
def test_other_routes_have_no_deprecation_headers(client: TestClient, path: str) -> None:
    """Deprecation, Sunset and a successor Link are only on the deprecated operation."""
    response = client.get(path)
    assert response.status_code == 200
    assert "deprecation" not in response.headers
    assert "sunset" not in response.headers
    assert not any("successor-version" in v for v in link_values(response))


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_documents_the_bearer_scheme_on_writes(client: TestClient) -> None:
    """The bearer scheme is declared, and every write operation requires it."""
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    bearer = [
        name for name, s in schemes.items() if (s["type"], s.get("scheme")) == ("http", "bearer")
    ]
    assert len(bearer) == 1
    writes = [(m, p, op) for m, p, op in operations(client) if m != "get"]
    assert writes
    for method, path, operation in writes:
        assert {bearer[0]: []} in operation.get("security", []), (method, path)


def test_openapi_documents_if_match_on_conditional_writes(client: TestClient) -> None:
    """PATCH and status changes take If-Match and document 412 and 428."""
    conditional = [(m, p, op) for m, p, op in operations(client) if is_conditional_write(m, p)]
    assert {p for _, p, _ in conditional} >= {
        "/v1/facts/{fact_id}",
        "/v1/facts/{fact_id}/retract",
        "/v1/quotes/{quote_id}",
        "/v1/quotes/{quote_id}/retract",
        "/v1/agreements/{agreement_id}",
        "/v1/agreements/{agreement_id}/retract",
        "/v1/entities/{entity_id}",
        "/v1/sources/{source_id}",
    }
    for method, path, operation in conditional:
        assert "If-Match" in header_params(operation), (method, path)
        assert {"412", "428"} <= set(operation["responses"]), (method, path)


def test_openapi_documents_if_none_match_and_304_on_reads(client: TestClient) -> None:
    """Every GET takes If-None-Match and documents 304 with its ETag, but the streamed
    NDJSON export, which sends no ETag (and so never a 304), and says so."""
    for method, path, operation in operations(client):
        if method != "get" or not path.startswith("/v1"):
            continue
        if path == "/v1/export/facts.ndjson":
            assert "If-None-Match" not in header_params(operation)
            assert "304" not in operation["responses"]
            assert "ETag" not in operation["responses"]["200"].get("headers", {})
            response = client.get(path)
            assert response.status_code == 200 and "etag" not in response.headers
            continue
        assert "If-None-Match" in header_params(operation), path
        assert "304" in operation["responses"], path
        assert "ETag" in operation["responses"]["200"].get("headers", {}), path


def test_openapi_documents_idempotency_key_on_creates(client: TestClient) -> None:
    """Every create takes Idempotency-Key; no conditional write or read does."""
    creates = {p for m, p, _ in operations(client) if is_create(m, p)}
    assert creates == {"/v1/facts", "/v1/quotes", "/v1/agreements", "/v1/entities", "/v1/sources"}
    for method, path, operation in operations(client):
        if is_create(method, path):
            assert "Idempotency-Key" in header_params(operation), path
            assert "201" in operation["responses"], path
        else:
            assert "Idempotency-Key" not in header_params(operation), (method, path)


def test_openapi_documents_401_and_403_on_writes(client: TestClient) -> None:
    """Every write can be refused for a missing or insufficient key."""
    for method, path, operation in operations(client):
        if method != "get":
            assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_openapi_documents_401_on_reads_and_no_403(client: TestClient) -> None:
    """Every /v1 read answers 401 to a key that is not valid (and, when reads need a key, to
    none), so each documents it; read is the lowest scope, so a read is never a 403."""
    wrong = [
        path
        for method, path, operation in operations(client)
        if method == "get"
        and path.startswith("/v1")
        and ("401" not in operation["responses"] or "403" in operation["responses"])
    ]
    assert wrong == []
    bad_key = client.get("/v1/facts", headers={"Authorization": "Bearer ef_nope_nope"})
    assert bad_key.status_code == 401
