"""The response cache's hit path: it sits outside the policy, guard and CORS middleware, so a
hit must replay what they added, and still get its own request id, rate limit and metrics."""

import asyncio
from collections.abc import Iterator

import pytest
from conftest import make_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings
from app.db import begin_write, make_engine, utcnow
from app.db.version import DataVersion
from app.main import create_app
from app.versioning import Action, record_change

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


def test_a_version_read_is_never_older_than_the_request(backend: str, fresh_db_url: str) -> None:
    """Concurrent reads share round trips (PostgreSQL), yet each request gets a version
    read after it arrived: while a slow read is in flight, a write commits, and requests
    arriving then see it. All of them share one next read."""
    engine = make_engine(Settings(database_url=fresh_db_url))
    version = DataVersion(engine)
    if backend == "postgres":
        # A read that takes a while, so the write and the later requests land during it.
        version.sql = "SELECT max(seq) FROM change CROSS JOIN pg_sleep(0.5)"

    def write() -> None:
        with Session(engine) as session:
            begin_write(session)
            record_change(
                session,
                resource="fact",
                resource_id="probe",
                revision=1,
                action=Action.create,
                actor="test",
                at=utcnow(),
            )
            session.commit()

    async def scenario() -> tuple[int | None, list[int | None]]:
        first = asyncio.ensure_future(version.read(alone=False))
        await asyncio.sleep(0.1)
        await asyncio.to_thread(write)
        later = await asyncio.gather(*(version.read(alone=False) for _ in range(10)))
        await version.close()
        return await first, later

    before, after = asyncio.run(scenario())
    engine.dispose()
    assert before is not None and all(v == before + 1 for v in after), (before, after)
