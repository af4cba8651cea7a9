"""Errors are RFC 9457 problem+json everywhere, caching works on every GET, and the OpenAPI
document keeps its promises: every operation documented, every 4xx declared as problem+json.
"""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

PROBLEM_JSON = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail"}

LIST_ENDPOINTS = ["/v1/facts", "/v1/quotes", "/v1/agreements", "/v1/entities", "/v1/sources"]
ITEM_ENDPOINTS = [
    "/v1/facts/aze-chn-investment-chn-to-aze-since-1995",
    "/v1/quotes/alizadeh-investment-belt-and-road",
    "/v1/agreements/aze-chn-agreement-beijing-forum-2019",
    "/v1/entities/AZE",
    "/v1/sources/trend-4036385",
]
ITEM_PATHS = [
    "/v1/facts/{fact_id}",
    "/v1/quotes/{quote_id}",
    "/v1/agreements/{agreement_id}",
    "/v1/entities/{entity_id}",
    "/v1/sources/{source_id}",
]
TIMED_LISTS = ["/v1/facts", "/v1/quotes", "/v1/agreements"]
COUNTRY_LISTS = ["/v1/facts", "/v1/quotes", "/v1/agreements"]


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The one error shape: status line, media type and the RFC 9457 members."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    problem = response.json()
    assert set(problem) >= PROBLEM_KEYS, problem
    assert problem["status"] == status
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    assert "Traceback" not in response.text
    return dict(problem)


def invalid_names(problem: dict[str, Any]) -> list[str]:
    return [p["name"] for p in problem.get("invalid_params") or []]


# --- 400: bad query input --------------------------------------------------------------------


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_unknown_query_parameter_is_a_400_naming_it(client: TestClient, path: str) -> None:
    """A typo such as `contry` must not silently return everything."""
    problem = assert_problem(client.get(path, params={"contry": "AZE"}), 400)
    assert problem["code"] == "unknown_parameter"
    assert invalid_names(problem) == ["contry"]
    assert "contry" in problem["detail"]


@pytest.mark.parametrize("path", ITEM_ENDPOINTS)
def test_unknown_query_parameter_on_an_item_is_a_400(client: TestClient, path: str) -> None:
    """DESIGN: unknown query parameters are a 400, not silently ignored — items included."""
    problem = assert_problem(client.get(path, params={"fields": "id"}), 400)
    assert problem["code"] == "unknown_parameter"
    assert invalid_names(problem) == ["fields"]


@pytest.mark.parametrize("path", COUNTRY_LISTS)
@pytest.mark.parametrize("code", ["XX", "ZZZ", "A", "Azerbaijan", "12"])
def test_invalid_country_code_is_a_400(client: TestClient, path: str, code: str) -> None:
    """Country codes must be ISO 3166-1; the problem names `country` and says why."""
    problem = assert_problem(client.get(path, params={"country": code}), 400)
    assert invalid_names(problem) == ["country"]
    assert "ISO 3166-1" in problem["invalid_params"][0]["reason"]


@pytest.mark.parametrize("path", ["/v1/facts", "/v1/agreements"])
def test_invalid_counterpart_is_a_400(client: TestClient, path: str) -> None:
    """The counterpart is a country code too."""
    problem = assert_problem(client.get(path, params={"counterpart": "XX"}), 400)
    assert invalid_names(problem) == ["counterpart"]


def test_invalid_entity_code_is_a_400(client: TestClient) -> None:
    """Entities' `code` filter checks the code the same way."""
    problem = assert_problem(client.get("/v1/entities", params={"code": "XX"}), 400)
    assert invalid_names(problem) == ["code"]


@pytest.mark.parametrize("path", TIMED_LISTS)
@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("from", "2019-13"),
        ("from", "yesterday"),
        ("from", "2019-02-30"),
        ("to", "19"),
        ("to", "2019/01/01"),
        ("to", "2019-1-1"),
    ],
)
def test_malformed_date_is_a_400(client: TestClient, path: str, param: str, value: str) -> None:
    """Dates are YYYY, YYYY-MM or YYYY-MM-DD and must exist; the problem names the parameter."""
    problem = assert_problem(client.get(path, params={param: value}), 400)
    assert invalid_names(problem) == [param]
    assert value in problem["invalid_params"][0]["reason"]


@pytest.mark.parametrize(
    ("path", "param", "value"),
    [
        ("/v1/facts", "direction", "sideways"),
        ("/v1/facts", "comparator", "roughly"),
        ("/v1/facts", "sort", "size"),
        ("/v1/quotes", "sort", "value"),
        ("/v1/agreements", "sort", "value"),
        ("/v1/facts", "value_min", "lots"),
        ("/v1/facts", "q", ""),
        ("/v1/facts", "q", "x" * 201),
        ("/v1/quotes", "q", ""),
    ],
)
def test_bad_single_value_is_a_400(client: TestClient, path: str, param: str, value: str) -> None:
    """Bad enum, number or length for a single-valued parameter: 400 naming it."""
    problem = assert_problem(client.get(path, params={param: value}), 400)
    assert invalid_names(problem) == [param]


@pytest.mark.parametrize(
    ("path", "param", "allowed"),
    [
        ("/v1/facts", "kind", "investment"),
        ("/v1/facts", "status", "published"),
        ("/v1/quotes", "status", "published"),
        ("/v1/agreements", "status", "published"),
        ("/v1/entities", "kind", "country"),
    ],
)
def test_bad_enum_in_a_repeatable_parameter_is_a_400(
    client: TestClient, path: str, param: str, allowed: str
) -> None:
    """kind=foo is refused, and the reason lists the allowed values."""
    problem = assert_problem(client.get(path, params=[(param, "foo")]), 400)
    assert len(problem["invalid_params"]) == 1
    assert invalid_names(problem)[0].split(".")[0] == param
    assert allowed in problem["invalid_params"][0]["reason"]


@pytest.mark.parametrize(
    ("path", "param", "valid"),
    [("/v1/facts", "kind", "investment"), ("/v1/entities", "kind", "person")],
)
def test_repeatable_parameter_error_names_the_parameter_itself(
    client: TestClient, path: str, param: str, valid: str
) -> None:
    """`invalid_params[].name` is the query parameter a client sent (`kind`), as it is for
    `country`; an internal list index (`kind.1`) is not a parameter name clients can match."""
    problem = assert_problem(client.get(path, params=[(param, valid), (param, "foo")]), 400)
    assert invalid_names(problem) == [param]


# --- 404, 405 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/v2/facts", "/v1/nothing", "/v1/facts/", "/favicon.png", "/v1/facts/x/y"]
)
def test_unknown_path_is_a_404_problem(client: TestClient, path: str) -> None:
    """Unrouted paths answer problem+json too, pointing at the docs."""
    problem = assert_problem(client.get(path), 404)
    assert problem["instance"] == path


@pytest.mark.parametrize("path", [f"{path}-missing" for path in ITEM_ENDPOINTS])
def test_missing_item_is_a_404_problem(client: TestClient, path: str) -> None:
    """Each item endpoint says which id was not found."""
    problem = assert_problem(client.get(path), 404)
    assert problem["code"] == "not_found"
    assert path.rsplit("/", 1)[1] in problem["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/v1/sources/x"),
        ("DELETE", "/v1/facts/aze-chn-investment-chn-to-aze-since-1995"),
        ("PUT", "/v1/quotes/alizadeh-investment-belt-and-road"),
        ("DELETE", "/v1"),
        ("POST", "/healthz"),
    ],
)
def test_wrong_method_is_a_405_problem_with_allow(
    client: TestClient, method: str, path: str
) -> None:
    """A method the route does not serve: 405, an Allow header, and problem+json. (Facts are
    retracted, never deleted, so DELETE on a fact stays a 405.)"""
    response = client.request(method, path)
    problem = assert_problem(response, 405)
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert "GET" in allowed
    assert method not in allowed
    assert method in problem["detail"]


# --- every error has the same shape ----------------------------------------------------------


def test_every_error_is_problem_json(client: TestClient) -> None:
    """One sweep over the kinds of client error this API produces."""
    cases = [
        ("GET", "/v1/facts?limit=0", 400),
        ("GET", "/v1/facts?limit=501", 400),
        ("GET", "/v1/facts?cursor=garbage", 400),
        ("GET", "/v1/facts?speaker=nobody", 400),
        ("GET", "/v1/facts?value_min=2&value_max=1", 400),
        ("GET", "/v1/quotes?from=never", 400),
        ("GET", "/v1/entities?kind=planet", 400),
        ("GET", "/v1/sources?page=2", 400),
        ("GET", "/v1/facts/missing", 404),
        ("GET", "/nowhere", 404),
        ("DELETE", "/v1/facts", 405),
    ]
    for method, path, status in cases:
        problem = assert_problem(client.request(method, path), status)
        assert problem["instance"] == path.split("?")[0]


# --- caching ---------------------------------------------------------------------------------

CACHEABLE = [
    *LIST_ENDPOINTS,
    *ITEM_ENDPOINTS,
    "/v1/facts?country=AZE&counterpart=CHN&sort=value&limit=3",
    "/v1",
    "/healthz",
    "/readyz",
    "/openapi.json",
]


@pytest.mark.parametrize("path", CACHEABLE)
def test_etag_and_if_none_match(client: TestClient, path: str) -> None:
    """Every GET has an ETag; sending it back gives 304 with an empty body."""
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert client.get(path).headers["etag"] == etag

    not_modified = client.get(path, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag

    also = client.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
    assert also.status_code == 304

    stale = client.get(path, headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == first.content


def test_etag_differs_between_representations(client: TestClient) -> None:
    """Different content, different ETag: a cached page is never served for another query."""
    a = client.get("/v1/facts", params={"kind": "investment"}).headers["etag"]
    b = client.get("/v1/facts", params={"kind": "agreement"}).headers["etag"]
    assert a != b
    assert (
        client.get(
            "/v1/facts", params={"kind": "agreement"}, headers={"If-None-Match": a}
        ).status_code
        == 200
    )


def test_errors_are_not_turned_into_304(client: TestClient) -> None:
    """Conditional requests never hide an error."""
    response = client.get("/v1/facts/missing", headers={"If-None-Match": "*"})
    assert_problem(response, 404)


# --- the OpenAPI contract --------------------------------------------------------------------


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    ops = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "patch", "head", "options"}
    ]
    assert ops
    return ops


def test_every_operation_is_documented(app: FastAPI) -> None:
    """Summary, description and tags on every operation, and unique operation ids."""
    missing = [
        f"{method.upper()} {path}: {field}"
        for path, method, op in operations(app)
        for field in ("summary", "description", "tags")
        if not op.get(field)
    ]
    assert missing == []
    op_ids = [op["operationId"] for _, _, op in operations(app)]
    assert len(op_ids) == len(set(op_ids))


def test_every_declared_error_is_problem_json(app: FastAPI) -> None:
    """Each 4xx/5xx an operation declares is documented as problem+json with the Problem schema."""
    wrong = []
    for path, method, op in operations(app):
        for status, response in op["responses"].items():
            if not str(status).startswith(("4", "5")):
                continue
            schema = response.get("content", {}).get(PROBLEM_JSON, {}).get("schema", {})
            if schema.get("$ref") != "#/components/schemas/Problem":
                wrong.append(f"{method.upper()} {path} {status}")
    assert wrong == []


def test_declared_errors_do_not_advertise_plain_json(app: FastAPI) -> None:
    """Errors are only ever sent as problem+json, so the spec must not offer application/json
    for them: generated clients would pick the wrong media type."""
    wrong = [
        f"{method.upper()} {path} {status}: {sorted(response.get('content', {}))}"
        for path, method, op in operations(app)
        for status, response in op["responses"].items()
        if str(status).startswith(("4", "5")) and set(response.get("content", {})) != {PROBLEM_JSON}
    ]
    assert wrong == []


def test_list_operations_declare_400(app: FastAPI) -> None:
    """Every list can answer 400 (unknown parameter, bad cursor), so each declares it."""
    spec = app.openapi()
    for path in LIST_ENDPOINTS:
        assert "400" in spec["paths"][path]["get"]["responses"], path


def test_item_operations_declare_404(app: FastAPI) -> None:
    """Every item endpoint can answer 404, so each declares it."""
    spec = app.openapi()
    for path in ITEM_PATHS:
        assert "404" in spec["paths"][path]["get"]["responses"], path


def test_problem_schema_is_published(app: FastAPI) -> None:
    """The Problem schema clients generate from has the RFC 9457 members."""
    schema = app.openapi()["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance"} <= set(schema["properties"])
