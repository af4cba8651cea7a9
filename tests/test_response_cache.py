"""The response cache's hit path: it sits outside the policy, guard and CORS middleware, so a
hit must replay what they added, and still get its own request id, rate limit and metrics."""

from collections.abc import Iterator

import pytest
from conftest import make_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app

LIST = "/v1/facts?country=AZE&limit=3"


@pytest.fixture
def cached(seeded_db_url: str) -> Iterator[tuple[FastAPI, TestClient]]:
    app = create_app(
        make_settings(
            seeded_db_url, cors_origins=["https://desk.example"], rate_limit_per_address=5
        )
    )
    with TestClient(app) as client:
        yield app, client
    app.state.engine.dispose()


def served_from_cache(app: FastAPI, path: str) -> bool:
    """True if the cache holds an entry for this path (any host, Accept or Origin)."""
    cache = next(m for m in _middleware(app) if type(m).__name__ == "ResponseCacheMiddleware")
    return any(key[0].endswith(path.split("?")[0]) for key in cache.entries)


def _middleware(app: FastAPI) -> Iterator[object]:
    layer = app.middleware_stack
    while layer is not None:
        yield layer
        layer = getattr(layer, "app", None)


def test_a_hit_replays_policy_headers_with_a_request_id_of_its_own(
    cached: tuple[FastAPI, TestClient],
) -> None:
    app, client = cached
    first = client.get(LIST)
    assert served_from_cache(app, LIST)
    second = client.get(LIST, headers={"X-Request-ID": "desk-42"})
    assert second.status_code == 200 and second.content == first.content
    for name in ("etag", "api-version", "x-content-type-options", "cache-control", "vary"):
        assert second.headers[name] == first.headers[name], name
    assert second.headers["x-request-id"] == "desk-42"
    third = client.get(LIST)
    assert third.headers["x-request-id"] not in (first.headers["x-request-id"], "desk-42")
    assert len(third.headers.get_list("x-request-id")) == 1


def test_cors_answers_are_not_shared_between_origins(cached: tuple[FastAPI, TestClient]) -> None:
    _, client = cached
    allowed = {"Origin": "https://desk.example"}
    for _ in range(2):  # the second time from the cache
        assert client.get(LIST, headers=allowed).headers["access-control-allow-origin"] == (
            "https://desk.example"
        )
        other = client.get(LIST, headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers
        plain = client.get(LIST)
        assert "access-control-allow-origin" not in plain.headers


def test_hits_are_rate_limited_with_the_full_problem_answer(
    cached: tuple[FastAPI, TestClient],
) -> None:
    _, client = cached
    answers = [client.get(LIST) for _ in range(7)]
    assert [a.status_code for a in answers[:5]] == [200] * 5
    refused = answers[5]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["api-version"] == "v1"
    assert refused.headers["x-request-id"]


def test_a_conditional_hit_is_a_304_with_the_policy_headers(
    cached: tuple[FastAPI, TestClient],
) -> None:
    _, client = cached
    etag = client.get(LIST).headers["etag"]
    again = client.get(LIST, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["api-version"] == "v1"
    assert "content-length" not in again.headers or again.headers["content-length"] == "0"
