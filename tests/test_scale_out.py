"""Scale-out: two service processes on one PostgreSQL database behave as one service.

A write through one instance is read through the other (by id and in lists), both give
the same ETag for the same URL (the in-memory response cache is checked against the
database's change feed, so neither serves a stale copy), the change feed pages the same
from either, and conflicting If-Match PATCHes sent to both at once make exactly one new
revision.

PostgreSQL only (several SQLite processes on one file is not a supported deployment):
the tests run when ECONFACTS_TEST_POSTGRES_URL is set; without it the test class is not
collected at all.
"""

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import (
    Database,
    LiveServer,
    create_api_key,
    fact_body,
    migrated_and_seeded,
    run_together,
)

POSTGRES_URL = os.environ.get("ECONFACTS_TEST_POSTGRES_URL")
SEED_FACT = "aze-chn-investment-chn-to-aze-since-1995"


@pytest.fixture(
    scope="module", params=[pytest.param(POSTGRES_URL, id="postgres")] if POSTGRES_URL else []
)
def pg_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One fresh, migrated and seeded PostgreSQL database for the module."""
    db = Database("postgres", tmp_path_factory.mktemp("scale-out"))
    migrated_and_seeded(db.url)
    yield db.url
    db.drop()


@pytest.fixture(scope="module")
def instances(pg_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two uvicorn processes on the same database (response cache on, the default)."""
    first = LiveServer(pg_url)
    try:
        second = LiveServer(pg_url)
    except BaseException:
        first.stop()
        raise
    yield first, second
    second.stop()
    first.stop()


@pytest.fixture(scope="module")
def write_key(pg_url: str) -> str:
    return create_api_key(pg_url, "desk", "write")


@pytest.fixture
def clients(
    instances: tuple[LiveServer, LiveServer], write_key: str
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    auth = {"Authorization": f"Bearer {write_key}"}
    with (
        httpx.Client(base_url=instances[0].base_url, headers=auth, timeout=30) as a,
        httpx.Client(base_url=instances[1].base_url, headers=auth, timeout=30) as b,
    ):
        yield a, b


def all_pages(http: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a list, following `next`."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = http.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items


def feed(http: httpx.Client, limit: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The whole change feed in pages of `limit`: its items and the `next` of every page."""
    items: list[dict[str, Any]] = []
    tokens: list[str] = []
    since = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"since": since} if since else {})}
        response = http.get("/v1/changes", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        tokens.append(page["next"])
        since = page["next"]
        if not page["has_more"]:
            return items, tokens


class TestTwoInstancesOnePostgres:
    __test__ = POSTGRES_URL is not None  # without PostgreSQL there is nothing to collect

    def test_a_write_through_one_is_read_through_the_other(
        self, clients: tuple[httpx.Client, httpx.Client]
    ) -> None:
        a, b = clients
        list_params = {"country": "CHN", "counterpart": "AZE", "kind": "investment"}
        # Both instances have served (and cached) the list before the write.
        before_a = all_pages(a, "/v1/facts", list_params)
        assert all_pages(b, "/v1/facts", list_params) == before_a

        created = a.post("/v1/facts", json=fact_body("Written through instance A."))
        assert created.status_code == 201, created.text
        fact = created.json()

        read = b.get(f"/v1/facts/{fact['id']}")
        assert read.status_code == 200, read.text
        assert read.json() == fact
        after_b = all_pages(b, "/v1/facts", list_params)
        assert fact["id"] in {item["id"] for item in after_b}
        assert len(after_b) == len(before_a) + 1
        assert all_pages(a, "/v1/facts", list_params) == after_b

        # And the other way round: a correction through B is what A serves.
        etag = read.headers["etag"]
        corrected = b.patch(
            f"/v1/facts/{fact['id']}",
            json={"statement": "Corrected through instance B.", "reason": "scale-out test"},
            headers={"If-Match": etag},
        )
        assert corrected.status_code == 200, corrected.text
        now = a.get(f"/v1/facts/{fact['id']}")
        assert now.status_code == 200
        assert now.json() == corrected.json()
        assert now.json()["revision"] == 2
        listed = {item["id"]: item for item in all_pages(a, "/v1/facts", list_params)}
        assert listed[fact["id"]]["statement"] == "Corrected through instance B."

    def test_etags_for_the_same_url_agree(self, clients: tuple[httpx.Client, httpx.Client]) -> None:
        a, b = clients
        created = b.post("/v1/facts", json=fact_body("For comparing ETags."))
        assert created.status_code == 201, created.text
        urls = [
            f"/v1/facts/{SEED_FACT}",
            f"/v1/facts/{created.json()['id']}",
            "/v1/facts?country=AZE&counterpart=CHN",
            "/v1/facts?kind=investment&limit=2",
            "/v1/quotes",
            "/v1/agreements",
            "/v1/entities/AZE",
            "/v1/relations/AZE/CHN",
            "/v1/changes",
        ]
        for url in urls:
            # Twice each: the second answer comes from each instance's response cache.
            for _ in range(2):
                from_a, from_b = a.get(url), b.get(url)
                assert from_a.status_code == from_b.status_code == 200, (url, from_a.text)
                assert from_a.headers["etag"] == from_b.headers["etag"], url
                assert from_a.content == from_b.content, url
            # A's ETag revalidates at B.
            tag = from_a.headers["etag"]
            assert b.get(url, headers={"If-None-Match": tag}).status_code == 304, url

        # After a write through A, both instances serve the new representation (same ETag).
        before = a.get(f"/v1/facts/{SEED_FACT}").headers["etag"]
        changed = a.post("/v1/facts", json=fact_body("Changes the lists."))
        assert changed.status_code == 201
        list_url = "/v1/facts?country=AZE&counterpart=CHN"
        new_a, new_b = a.get(list_url), b.get(list_url)
        assert new_a.headers["etag"] == new_b.headers["etag"]
        assert changed.json()["id"] in {item["id"] for item in new_b.json()["items"]}
        assert b.get(f"/v1/facts/{SEED_FACT}").headers["etag"] == before

    def test_the_change_feed_pages_the_same_from_either(
        self, clients: tuple[httpx.Client, httpx.Client]
    ) -> None:
        a, b = clients
        for n in range(3):
            writer = a if n % 2 else b
            assert writer.post("/v1/facts", json=fact_body(f"Feed {n}.")).status_code == 201
        items_a, tokens_a = feed(a, limit=7)
        items_b, tokens_b = feed(b, limit=7)
        assert items_a == items_b
        assert tokens_a == tokens_b
        assert len(items_a) > 7 * 3  # several pages
        assert len({(i["id"], i["revision"]) for i in items_a}) == len(items_a)
        # A position from one instance continues on the other.
        middle = tokens_a[1]
        assert a.get("/v1/changes", params={"since": middle, "limit": 7}).json() == (
            b.get("/v1/changes", params={"since": middle, "limit": 7}).json()
        )

    def test_conflicting_if_match_patches_on_both_instances(
        self, clients: tuple[httpx.Client, httpx.Client]
    ) -> None:
        a, b = clients
        created = a.post("/v1/facts", json=fact_body("Contested."))
        assert created.status_code == 201
        path = f"/v1/facts/{created.json()['id']}"
        for round_ in range(5):
            current = b.get(path)
            assert current.status_code == 200
            etag = current.headers["etag"]
            revisions_before = a.get(f"{path}/revisions").json()

            def editor(
                http: httpx.Client, name: str, tag: str = etag, round_: int = round_
            ) -> httpx.Response:
                return http.patch(
                    path,
                    json={"statement": f"Round {round_}: {name}.", "reason": name},
                    headers={"If-Match": tag},
                )

            responses = run_together([lambda: editor(a, "A"), lambda: editor(b, "B")])
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [200, 412], [r.text for r in responses]
            winner = next(r for r in responses if r.status_code == 200)
            loser = next(r for r in responses if r.status_code == 412)
            assert loser.json()["code"] == "precondition_failed"
            for http in (a, b):
                revisions = http.get(f"{path}/revisions").json()
                assert len(revisions) == len(revisions_before) + 1
                assert revisions[-1]["snapshot"] == winner.json()
                assert http.get(path).headers["etag"] == winner.headers["etag"]
            assert revisions[-1]["reason"] in ("A", "B")
            assert winner.json()["revision"] == current.json()["revision"] + 1
