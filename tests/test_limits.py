"""Limits that keep one client from hurting the service: the request body size (413) and
media type (415), the page-size cap, pathological search text, the per-request query time
bound (503 query_timeout), and rate limits per address and per API key (429).

Every test runs on each backend. Where "answers at all" matters (a hang is the failure),
the test talks to a real uvicorn process through httpx with a generous timeout.
"""

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from conftest import LiveServer, create_api_key, make_settings, seeded_copy
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings
from app.db import begin_write, make_engine
from app.facts import service as fact_service
from app.facts.models import Fact
from app.facts.schemas import FactCreate
from app.main import create_app

PROBLEM = "application/problem+json"
# Generous guards: "the server answered at all", never a performance bound.
ANSWER_TIMEOUT = httpx.Timeout(10.0)
SLOW_ANSWER_TIMEOUT = httpx.Timeout(30.0)
SMALL_LIMIT = 1024
FACT = "aze-chn-investment-chn-to-aze-since-1995"
LISTS = ["/v1/facts", "/v1/quotes", "/v1/agreements", "/v1/entities", "/v1/sources", "/v1/changes"]
SEARCHES = [
    ("/v1/facts", "q"),
    ("/v1/facts/facets", "q"),
    ("/v1/quotes", "q"),
    ("/v1/agreements", "q"),
    ("/v1/entities", "name"),
]


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if code is not None:
        assert body.get("code") == code, body
    return body


@pytest.fixture(scope="module")
def shared_db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One seeded database for the module's real servers (their tests write nothing that
    another reads)."""
    db = seeded_copy(backend, tmp_path_factory.mktemp("limits"), tmp_path_factory)
    yield db.url
    db.drop()


@pytest.fixture(scope="module")
def shared_key(shared_db_url: str) -> str:
    return create_api_key(shared_db_url, "limits-desk", "write")


@pytest.fixture(scope="module")
def default_server(shared_db_url: str) -> Iterator[LiveServer]:
    """A real server with the default limits."""
    server = LiveServer(shared_db_url)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def small_body_server(shared_db_url: str) -> Iterator[LiveServer]:
    """A real server that takes bodies of at most SMALL_LIMIT bytes."""
    server = LiveServer(shared_db_url, ECONFACTS_MAX_BODY_BYTES=str(SMALL_LIMIT))
    yield server
    server.stop()


def entity_body(name: str, padding: int = 0) -> bytes:
    """A valid entity create, padded with JSON whitespace to the size wanted."""
    return b'{"kind": "organization", "name": "' + name.encode() + b'"' + b" " * padding + b"}"


@pytest.fixture
def api(app: FastAPI) -> TestClient:
    """The shared seeded app; a 5xx is a response to look at, not an exception."""
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def writer_api(fresh_db_url: str, write_key: str) -> Iterator[TestClient]:
    application = create_app(make_settings(fresh_db_url))
    yield TestClient(
        application,
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {write_key}"},
    )
    application.state.engine.dispose()


@pytest.fixture
def small_body_app(fresh_db_url: str) -> Iterator[TestClient]:
    application = create_app(make_settings(fresh_db_url, max_body_bytes=SMALL_LIMIT))
    with TestClient(application, raise_server_exceptions=False) as test_client:
        yield test_client
    application.state.engine.dispose()


# --- 413: request bodies over ECONFACTS_MAX_BODY_BYTES ----------------------------------------


def test_body_over_the_limit_with_content_length_is_413(
    small_body_app: TestClient, write_key: str
) -> None:
    auth = {"Authorization": f"Bearer {write_key}", "Content-Type": "application/json"}
    at_limit = entity_body("At The Limit")
    at_limit += b" " * (SMALL_LIMIT - len(at_limit))
    assert len(at_limit) == SMALL_LIMIT
    accepted = small_body_app.post("/v1/entities", content=at_limit, headers=auth)
    assert accepted.status_code == 201, accepted.text

    over = entity_body("Over The Limit", padding=SMALL_LIMIT)
    for method, path in [
        ("POST", "/v1/entities"),
        ("POST", "/v1/facts"),
        ("POST", "/v1/sources"),
        ("PATCH", f"/v1/facts/{FACT}"),
        ("POST", f"/v1/facts/{FACT}/retract"),
    ]:
        response = small_body_app.request(method, path, content=over, headers=auth)
        body = assert_problem(response, 413, "body_too_large")
        assert str(SMALL_LIMIT) in body["detail"]
    assert small_body_app.get("/v1/entities/over-the-limit").status_code == 404


def test_default_limit_refuses_a_two_megabyte_article(writer_api: TestClient) -> None:
    """The documented default (2,000,000 bytes) on the route that takes large bodies."""
    article = {
        "outlet": "trend",
        "title": "Too long",
        "published": "2025-01-01",
        "text": "x" * 2_000_001,
    }
    assert_problem(writer_api.post("/v1/sources", json=article), 413, "body_too_large")


def test_huge_content_length_is_refused_before_the_body_is_sent(
    default_server: LiveServer, shared_key: str
) -> None:
    """A client announcing 1 TB gets its 413 at once: the server does not wait for it."""
    server, write_key = default_server, shared_key
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/entities HTTP/1.1\r\nHost: test\r\n"
            b"Authorization: Bearer " + write_key.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{"
        )
        head = sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert PROBLEM.encode() in head


def chunks(*parts: bytes, pause: float = 0.0) -> Iterator[bytes]:
    """A body without Content-Length, sent as chunked transfer encoding, part by part (with a
    pause between parts, so the server receives them as separate messages)."""
    for part in parts:
        yield part
        if pause:
            time.sleep(pause)


def test_streamed_body_over_the_limit_is_413(
    small_body_server: LiveServer, shared_key: str
) -> None:
    """Without Content-Length (chunked transfer encoding) the size is counted as it arrives."""
    server, write_key = small_body_server, shared_key
    headers = {"Authorization": f"Bearer {write_key}", "Content-Type": "application/json"}
    with httpx.Client(base_url=server.base_url, timeout=ANSWER_TIMEOUT) as http:
        junk = http.post("/v1/entities", content=chunks(*[b"x" * 300] * 10), headers=headers)
        small = http.post(
            "/v1/entities", content=chunks(entity_body("Small Streamed")), headers=headers
        )
    assert junk.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in junk.request.headers
    assert_problem(junk, 413, "body_too_large")
    assert small.status_code == 201, small.text


def test_refused_streamed_body_writes_nothing(
    small_body_server: LiveServer, shared_key: str
) -> None:
    """A body refused with 413 must not have been acted on. Here the first chunks are a
    complete, valid create and the rest is trailing JSON whitespace: the client is told 413,
    so the entity must not exist (else a retry duplicates it, or the client believes a write
    failed that did not)."""
    server, write_key = small_body_server, shared_key
    headers = {"Authorization": f"Bearer {write_key}", "Content-Type": "application/json"}
    body = chunks(b'{"kind": "organization", "name": "Padded Org"}', *[b" " * 300] * 10, pause=0.2)
    with httpx.Client(base_url=server.base_url, timeout=ANSWER_TIMEOUT) as http:
        refused = http.post("/v1/entities", content=body, headers=headers)
        after = http.get("/v1/entities/padded-org")
        changes = http.get("/v1/changes", params={"limit": 500, "resource": "entity"})
    assert_problem(refused, 413, "body_too_large")
    assert after.status_code == 404, f"a refused (413) request created {after.text}"
    assert all(c["id"] != "padded-org" for c in changes.json()["items"])


# --- 415: bodies that are not JSON ----------------------------------------------------------


def test_write_bodies_must_be_json(writer_api: TestClient) -> None:
    body = entity_body("Typed Org")
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/xml"]:
        response = writer_api.post(
            "/v1/entities", content=body, headers={"Content-Type": content_type}
        )
        assert_problem(response, 415, "unsupported_media_type")
    no_type = writer_api.post("/v1/entities", content=body, headers={"Content-Type": ""})
    assert_problem(no_type, 415, "unsupported_media_type")
    assert writer_api.get("/v1/entities/typed-org").status_code == 404
    charset = writer_api.post(
        "/v1/entities", content=body, headers={"Content-Type": "Application/JSON; charset=utf-8"}
    )
    assert charset.status_code == 201, charset.text


# --- page-size cap --------------------------------------------------------------------------


@pytest.mark.parametrize("path", LISTS)
def test_page_size_is_capped_at_500(api: TestClient, path: str) -> None:
    largest = api.get(path, params={"limit": 500})
    assert largest.status_code == 200, largest.text
    assert len(largest.json()["items"]) <= 500
    if path != "/v1/changes":
        assert largest.json()["limit"] == 500
    for too_many in ["501", "100000", str(10**30)]:
        body = assert_problem(api.get(path, params={"limit": too_many}), 400)
        assert [p["name"] for p in body["invalid_params"]] == ["limit"], body
    for nonsense in ["0", "-1", "1.5", "ten", ""]:
        body = assert_problem(api.get(path, params={"limit": nonsense}), 400)
        assert [p["name"] for p in body["invalid_params"]] == ["limit"], body


def test_page_size_cap_follows_the_setting(fresh_db_url: str) -> None:
    application = create_app(make_settings(fresh_db_url, page_size_max=3))
    with TestClient(application, raise_server_exceptions=False) as test_client:
        ok = test_client.get("/v1/facts", params={"limit": 3})
        too_many = test_client.get("/v1/facts", params={"limit": 4})
    application.state.engine.dispose()
    assert ok.status_code == 200
    assert len(ok.json()["items"]) == 3
    assert "3" in assert_problem(too_many, 400)["detail"]


# --- pathological search text ----------------------------------------------------------------

PATHOLOGICAL_Q = [
    "%" * 200,
    "_" * 200,
    "%_" * 100,
    "_%" * 100,
    "\\" * 200,
    "\\%\\_" * 50,
    "%\\" * 100,
    " ".join(["%_%_%_%_%_%_%_%_%_%"] * 10),
    " ".join(["a" * 19] * 10),
    " ".join(["%a%b%c%d%e%f%g%h%i"] * 10),
    "(a+)+$" * 30,
    ".*" * 100,
    "[a-z]*" * 30,
    "^(?:(?:a|aa)+)+$ " * 10,
    "*?[]" * 50,
    'a & b | !c <-> d:* NEAR(a b) "quoted phrase" -minus +plus',
    "' OR '1'='1' -- ",
    "%' OR 1=1; DROP TABLE fact; --",
    '" OR ""="',
    "ǅ İ ß ﬃ ẞ Σ ς",
    "\u200b" * 200,
    " " * 200,
]


def test_pathological_search_text_answers_promptly(default_server: LiveServer) -> None:
    """Every hostile `q` (LIKE wildcards, escapes, regex and full-text syntax, SQL, the most
    words and characters allowed) is answered within the timeout: 200, or a 400 problem."""
    server = default_server
    failures = []
    with httpx.Client(base_url=server.base_url, timeout=ANSWER_TIMEOUT) as http:
        for path, name in SEARCHES:
            for text in PATHOLOGICAL_Q:
                assert len(text) <= 200
                try:
                    response = http.get(path, params={name: text})
                except httpx.TimeoutException:
                    failures.append(f"{path}?{name}={text[:40]!r}: no answer in 10 s")
                    continue
                if response.status_code != 200 and not (
                    response.status_code == 400
                    and response.headers["content-type"].startswith(PROBLEM)
                ):
                    failures.append(
                        f"{path}?{name}={text[:40]!r}: {response.status_code} {response.text[:200]}"
                    )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("path", "name"), SEARCHES)
def test_search_text_over_200_characters_is_400(api: TestClient, path: str, name: str) -> None:
    """Search text is bounded (200 characters) on every search, so its cost is bounded."""
    assert api.get(path, params={name: "a" * 200}).status_code == 200
    body = assert_problem(api.get(path, params={name: "a" * 201}), 400)
    assert [p["name"] for p in body["invalid_params"]] == [name], body


def _contains_all(q: str, *texts: str) -> bool:
    words = q.lower().split() or [q.lower()]
    return all(any(w in t.lower() for t in texts) for w in words)


def _search_cases(api: TestClient) -> dict[str, tuple[str, dict[str, tuple[str, ...]]]]:
    """Per search: the parameter and every record's searchable texts (read without `q`)."""
    facts = api.get("/v1/facts", params={"limit": 500}).json()["items"]
    quotes = api.get("/v1/quotes", params={"limit": 500}).json()["items"]
    agreements = api.get("/v1/agreements", params={"limit": 500}).json()["items"]
    entities = api.get("/v1/entities", params={"limit": 500}).json()["items"]
    return {
        "/v1/facts": ("q", {f["id"]: (f["statement"], f["evidence"]["text"]) for f in facts}),
        "/v1/quotes": ("q", {q["id"]: (q["text"],) for q in quotes}),
        "/v1/agreements": (
            "q",
            {a["id"]: (a["statement"], a["evidence"]["text"]) for a in agreements},
        ),
        "/v1/entities": ("name", {e["id"]: (e["name"], *e["aliases"]) for e in entities}),
    }


LITERAL_Q = [
    "%",
    "_",
    "%%",
    "\\",
    "\\%",
    "a%n",
    "a_e",
    "c_i_a",
    "%china%",
    "chin_",
    "[",
    "]",
    '"',
    '", "',
    "{",
    "'",
    "''",
    "' OR '1'='1",
    "*",
    "billion",
    "China",
    "cHiNa aZeRbAiJaN",
    "AZE",
]


@pytest.mark.parametrize("path", ["/v1/facts", "/v1/quotes", "/v1/agreements", "/v1/entities"])
def test_search_text_is_matched_literally(api: TestClient, path: str) -> None:
    """`q` (and the entity `name`) match the words as plain text, case-insensitively, in the
    documented fields: wildcards, escapes and syntax characters are characters, and no other
    text (e.g. the JSON an alias list is stored as) leaks into the match."""
    name, records = _search_cases(api)[path]
    wrong = []
    for text in LITERAL_Q:
        response = api.get(path, params={name: text, "limit": 500})
        assert response.status_code == 200, (text, response.text)
        got = {item["id"] for item in response.json()["items"]}
        expected = {ident for ident, texts in records.items() if _contains_all(text, *texts)}
        if got != expected:
            wrong.append(
                f"{name}={text!r}: extra {sorted(got - expected)}, missing {sorted(expected - got)}"
            )
    assert not wrong, "\n".join(wrong)


def test_eleventh_search_word_is_not_silently_dropped(api: TestClient) -> None:
    """q takes at most 10 words. An 11th must not be ignored: either 400 naming `q`, or every
    result really contains all 11 words (the documented meaning of q)."""
    fact = api.get(f"/v1/facts/{FACT}").json()
    ten = fact["statement"].split()[:10]
    assert len(ten) == 10
    words = [*ten, "zzzunmatchedzzz"]
    response = api.get("/v1/facts", params={"q": " ".join(words)})
    if response.status_code == 400:
        body = assert_problem(response, 400)
        assert [p["name"] for p in body["invalid_params"]] == ["q"]
        return
    assert response.status_code == 200, response.text
    ids = [item["id"] for item in response.json()["items"]]
    assert ids == [], f"results without the 11th word: {ids}"


# --- the query time bound --------------------------------------------------------------------


def add_facts(database_url: str, count: int) -> None:
    """`count` published facts: one made by the service layer, the rest copies of its row."""
    engine = make_engine(Settings(database_url=database_url))
    with Session(engine) as session:
        template = fact_service.create_fact(
            session,
            body=FactCreate.model_validate(
                {
                    "kind": "trade_turnover",
                    "statement": "Bulk trade fact between Azerbaijan and China.",
                    "subject": "AZE",
                    "counterpart": "CHN",
                    "quantity": {"value": "1000", "unit": "USD", "comparator": "exact"},
                    "time": {"type": "date", "date": "2020"},
                    "evidence": {
                        "source_id": "trend-4036385",
                        "start": 0,
                        "end": 4,
                        "text": "BAKU",
                    },
                }
            ),
            actor="bulk",
        )
        row = template.model_dump()
        session.add_all(
            Fact(**{**row, "id": f"bulk-{i:05d}", "statement": f"Bulk trade fact number {i}."})
            for i in range(count - 1)
        )
        session.commit()
    engine.dispose()


def test_costly_query_is_cut_off_with_503_query_timeout(fresh_db_url: str) -> None:
    add_facts(fresh_db_url, 2000)
    server = LiveServer(fresh_db_url, ECONFACTS_QUERY_TIMEOUT_MS="1")
    try:
        with httpx.Client(base_url=server.base_url, timeout=SLOW_ANSWER_TIMEOUT) as http:
            # (A page of 500, once costly, is now a read of stored documents: too quick for
            # the bound to show.)
            costly = [
                http.get("/v1/facts", params={"q": "bulk trade fact number azerbaijan x"}),
                http.get("/v1/facts/facets"),
            ]
            alive = http.get("/readyz")
    finally:
        server.stop()
    for response in costly:
        assert_problem(response, 503, "query_timeout")
        retry_after = response.headers.get("retry-after", "")
        assert retry_after.isdigit() and int(retry_after) >= 1, response.headers
    assert alive.status_code == 200, alive.text


def test_the_same_queries_succeed_within_the_default_bound(fresh_db_url: str) -> None:
    """The 503 above is the bound at work, not a broken query."""
    add_facts(fresh_db_url, 2000)
    application = create_app(make_settings(fresh_db_url))
    with TestClient(application, raise_server_exceptions=False) as test_client:
        page = test_client.get("/v1/facts", params={"limit": 500})
        facets = test_client.get("/v1/facts/facets")
    application.state.engine.dispose()
    assert page.status_code == 200
    assert len(page.json()["items"]) == 500
    assert facets.json()["total"] >= 2000


# --- rate limits -----------------------------------------------------------------------------


@contextmanager
def limited_client(url: str, **limits: int) -> Iterator[TestClient]:
    application = create_app(make_settings(url, **limits))
    with TestClient(application, raise_server_exceptions=False) as test_client:
        yield test_client
    application.state.engine.dispose()


def assert_rate_limited(response: httpx.Response, who: str) -> None:
    body = assert_problem(response, 429, "rate_limited")
    retry_after = response.headers.get("retry-after", "")
    assert retry_after.isdigit(), f"Retry-After must be whole seconds, got {retry_after!r}"
    assert int(retry_after) >= 1
    assert who in body["detail"], body


def test_sixth_request_in_a_minute_from_an_address_gets_429(fresh_db_url: str) -> None:
    with limited_client(fresh_db_url, rate_limit_per_address=5) as http:
        answers = [http.get("/v1/facts", params={"limit": 1}) for _ in range(5)]
        sixth = http.get("/v1/entities")
    assert [r.status_code for r in answers] == [200] * 5
    assert_rate_limited(sixth, "your address")


def test_health_endpoints_are_exempt(fresh_db_url: str) -> None:
    with limited_client(fresh_db_url, rate_limit_per_address=5) as http:
        probes = [http.get(path) for path in ["/healthz", "/readyz", "/metrics"] * 10]
        budget = [http.get("/v1") for _ in range(5)]
        limited = http.get("/v1")
        still_healthy = [http.get("/healthz") for _ in range(5)]
    assert [r.status_code for r in probes] == [200] * 30
    assert [r.status_code for r in budget] == [200] * 5, "probes used up the budget"
    assert limited.status_code == 429
    assert [r.status_code for r in still_healthy] == [200] * 5


def test_requests_with_a_key_count_against_the_key_not_the_address(fresh_db_url: str) -> None:
    key = create_api_key(fresh_db_url, "dashboard", "read")
    auth = {"Authorization": f"Bearer {key}"}
    with limited_client(fresh_db_url, rate_limit_per_address=5, rate_limit_per_key=8) as http:
        keyed = [http.get("/v1", headers=auth) for _ in range(8)]
        anonymous = [http.get("/v1") for _ in range(5)]
        anonymous_over = http.get("/v1")
        keyed_over = http.get("/v1", headers=auth)
    assert [r.status_code for r in keyed] == [200] * 8, "the key got the address's budget"
    assert [r.status_code for r in anonymous] == [200] * 5, "key requests used the address's"
    assert_rate_limited(anonymous_over, "your address")
    assert_rate_limited(keyed_over, "this API key")


def test_two_keys_have_separate_budgets(fresh_db_url: str) -> None:
    first = create_api_key(fresh_db_url, "first", "read")
    second = create_api_key(fresh_db_url, "second", "write")
    with limited_client(fresh_db_url, rate_limit_per_address=100, rate_limit_per_key=3) as http:
        used = [http.get("/v1", headers={"Authorization": f"Bearer {first}"}) for _ in range(3)]
        first_over = http.get("/v1", headers={"Authorization": f"Bearer {first}"})
        other = [http.get("/v1", headers={"Authorization": f"Bearer {second}"}) for _ in range(3)]
        second_over = http.get("/v1", headers={"Authorization": f"Bearer {second}"})
    assert [r.status_code for r in used] == [200] * 3
    assert_rate_limited(first_over, "this API key")
    assert [r.status_code for r in other] == [200] * 3
    assert_rate_limited(second_over, "this API key")


def test_made_up_keys_do_not_escape_the_address_limit(fresh_db_url: str) -> None:
    """Counting a request against its key is only safe for real keys: if any `Bearer <random>`
    opens a fresh bucket, a client rotating made-up tokens is never limited at all (and every
    such request still costs a key lookup). Once the address is over its limit, requests with
    keys that do not exist must get 429 too."""
    with limited_client(fresh_db_url, rate_limit_per_address=5, rate_limit_per_key=100) as http:
        budget = [http.get("/v1") for _ in range(5)]
        assert [r.status_code for r in budget] == [200] * 5
        rotated = [
            http.get("/v1", headers={"Authorization": f"Bearer ef_{i:012x}_made-up-secret"})
            for i in range(20)
        ]
    statuses = [r.status_code for r in rotated]
    assert 429 in statuses, f"20 requests with made-up keys, none limited: {statuses}"


# --- a writer elsewhere holding the write lock -------------------------------------------------

BLOCKED_FACT = {
    "kind": "trade_turnover",
    "statement": "A write that waits for another process's write lock.",
    "subject": "AZE",
    "counterpart": "CHN",
    "evidence": {"source_id": "trend-4036385", "start": 0, "end": 4, "text": "BAKU"},
}


def test_a_write_blocked_by_a_writer_elsewhere_is_a_bounded_503(
    backend: str, fresh_db_url: str
) -> None:
    """Another process holds the write lock (SQLite's, or PostgreSQL's advisory lock): the
    write answers a 503 with Retry-After within the bound (the busy timeout, or the query
    time limit, which covers the wait for the advisory lock), writes nothing, and lands
    once the lock is free."""
    key = create_api_key(fresh_db_url, "blocked-desk", "write")
    auth = {"Authorization": f"Bearer {key}"}
    application = create_app(
        make_settings(fresh_db_url, query_timeout_ms=300, sqlite_busy_timeout_ms=300)
    )
    holder = make_engine(Settings(database_url=fresh_db_url))
    with TestClient(application) as client, ThreadPoolExecutor(max_workers=1) as pool:
        before = client.get("/v1/facts", params={"limit": 500}).json()["items"]
        with Session(holder) as elsewhere:
            begin_write(elsewhere)
            try:
                waiting = pool.submit(client.post, "/v1/facts", json=BLOCKED_FACT, headers=auth)
                blocked = waiting.result(timeout=30)
            finally:
                elsewhere.rollback()
        code = "query_timeout" if backend == "postgres" else "database_unavailable"
        assert_problem(blocked, 503, code)
        assert int(blocked.headers["retry-after"]) >= 1
        assert client.get("/v1/facts", params={"limit": 500}).json()["items"] == before
        assert client.post("/v1/facts", json=BLOCKED_FACT, headers=auth).status_code == 201
    holder.dispose()
    application.state.engine.dispose()
