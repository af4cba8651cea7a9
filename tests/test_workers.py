"""`econfacts serve --workers N`: several processes on one port behave as one service.

Each request below goes on a new connection, so the kernel hands it to either worker;
the access log says which worker (pid) answered each request id, and the tests check
that both workers took part. On SQLite and on PostgreSQL:

- a write through one worker is read through the other at once, though both had cached
  the lists before (the response cache checks the database's data version);
- conflicting If-Match writes sent to both workers at once make exactly one revision, and
  writers retrying on 412 lose nothing;
- the change feed is the same whichever worker pages it;
- /metrics counts every worker's requests, whichever worker answers the scrape.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import (
    ServeProcess,
    create_api_key,
    fact_body,
    run_together,
    seeded_copy,
)
from prometheus_client.parser import text_string_to_metric_families

from app.config import Settings, available_cpus

SEED_FACT = "aze-chn-investment-chn-to-aze-since-1995"
LIST = "/v1/facts?country=CHN&counterpart=AZE&kind=investment&limit=200"


@pytest.fixture(scope="module")
def db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = seeded_copy(backend, tmp_path_factory.mktemp("workers"), tmp_path_factory)
    yield db.url
    db.drop()


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = ServeProcess(db_url, tmp_path_factory.mktemp("serve") / "serve.log", workers=2)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def auth(db_url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_key(db_url, 'desk', 'write')}"}


class Calls:
    """Requests on new connections, each with its own request id, and who answered them."""

    def __init__(self, server: ServeProcess) -> None:
        self.server = server
        self.ids: list[str] = []

    def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        rid = uuid.uuid4().hex
        self.ids.append(rid)
        headers = {**kwargs.pop("headers", {}), "X-Request-ID": rid, "Connection": "close"}
        response = httpx.request(
            method, self.server.base_url + path, headers=headers, timeout=60, **kwargs
        )
        assert response.headers["x-request-id"] == rid
        return response

    def pids(self, ids: list[str] | None = None) -> set[int]:
        """The workers that answered these requests (all so far by default)."""
        wanted = self.ids if ids is None else ids
        answered: dict[str, int] = {}
        for _ in range(200):  # the access line is written just after the answer
            answered = self.server.pids_by_request_id()
            if all(rid in answered for rid in wanted):
                break
            time.sleep(0.05)
        missing = [rid for rid in wanted if rid not in answered]
        assert not missing, f"no access line for {missing}"
        return {answered[rid] for rid in wanted}


def until_both_workers(calls: Calls, request: Callable[[], None], at_least: int = 6) -> None:
    """Repeat `request` (at least `at_least` times) until both workers have answered one."""
    start = len(calls.ids)
    for n in range(200):
        request()
        if n + 1 >= at_least and len(calls.pids(calls.ids[start:])) == 2:
            return
    pytest.fail("one worker answered 200 requests on new connections: is there only one?")


def test_a_write_through_one_worker_is_read_through_the_other_at_once(
    server: ServeProcess, auth: dict[str, str]
) -> None:
    calls = Calls(server)
    # Both workers answer (and cache) the list before the write.
    before = calls("GET", LIST)
    assert before.status_code == 200

    def same_list() -> None:
        again = calls("GET", LIST)
        assert again.status_code == 200
        assert again.content == before.content
        assert again.headers["etag"] == before.headers["etag"]

    until_both_workers(calls, same_list)

    created = calls(
        "POST", "/v1/facts", json=fact_body("Written through one worker."), headers=auth
    )
    assert created.status_code == 201, created.text
    fact = created.json()
    writer = calls.pids([calls.ids[-1]])

    reads_after: list[str] = []

    def sees_the_write() -> None:
        listed = calls("GET", LIST)
        reads_after.append(calls.ids[-1])
        assert listed.status_code == 200
        assert fact["id"] in {item["id"] for item in listed.json()["items"]}
        assert listed.headers["etag"] != before.headers["etag"]
        one = calls("GET", f"/v1/facts/{fact['id']}")
        reads_after.append(calls.ids[-1])
        assert one.status_code == 200
        assert one.json() == fact

    # Every read sees the write; go on until the other worker has answered some of them.
    for n in range(200):
        sees_the_write()
        if n >= 5 and calls.pids(reads_after) - writer:
            break
    assert calls.pids(reads_after) - writer, "no read through the other worker"

    # A correction through either worker is what both serve at once, with one ETag.
    etag = calls("GET", f"/v1/facts/{fact['id']}").headers["etag"]
    corrected = calls(
        "PATCH",
        f"/v1/facts/{fact['id']}",
        json={"statement": "Corrected through a worker.", "reason": "workers test"},
        headers={**auth, "If-Match": etag},
    )
    assert corrected.status_code == 200, corrected.text

    def sees_the_correction() -> None:
        now = calls("GET", f"/v1/facts/{fact['id']}")
        assert now.status_code == 200
        assert now.json()["revision"] == 2
        assert now.headers["etag"] == corrected.headers["etag"]
        listed = {item["id"]: item for item in calls("GET", LIST).json()["items"]}
        assert listed[fact["id"]]["statement"] == "Corrected through a worker."

    until_both_workers(calls, sees_the_correction)


def test_conflicting_if_match_writes_across_workers_lose_nothing(
    server: ServeProcess, auth: dict[str, str]
) -> None:
    calls = Calls(server)
    created = calls("POST", "/v1/facts", json=fact_body("Contested by workers."), headers=auth)
    assert created.status_code == 201, created.text
    path = f"/v1/facts/{created.json()['id']}"
    patches: list[str] = []
    round_ = 0
    # At least 4 rounds, and more until both workers have taken some of the racing PATCHes.
    while round_ < 4 or (len(calls.pids(patches)) < 2 and round_ < 30):
        round_ += 1
        current = calls("GET", path)
        etag = current.headers["etag"]

        def edit(name: str, tag: str = etag, round_: int = round_) -> tuple[httpx.Response, str]:
            response = calls(
                "PATCH",
                path,
                json={"statement": f"Round {round_}: {name}.", "reason": name},
                headers={**auth, "If-Match": tag},
            )
            return response, response.headers["x-request-id"]

        results = run_together([lambda n=n: edit(f"editor {n}") for n in range(6)])
        patches += [rid for _, rid in results]
        statuses = sorted(r.status_code for r, _ in results)
        assert statuses == [200] + [412] * 5, [r.text for r, _ in results]
        winner = next(r for r, _ in results if r.status_code == 200)
        assert winner.json()["revision"] == current.json()["revision"] + 1
    assert len(calls.pids(patches)) == 2, "the conflicting writes all went to one worker"

    # Writers that retry on 412 until their change lands: every change makes a revision.
    def writer(name: str) -> int:
        done = 0
        for n in range(3):
            while True:
                tag = calls("GET", path).headers["etag"]
                response = calls(
                    "PATCH",
                    path,
                    json={"statement": f"{name} change {n}.", "reason": f"{name} {n}"},
                    headers={**auth, "If-Match": tag},
                )
                if response.status_code == 412:
                    continue
                assert response.status_code == 200, response.text
                done += 1
                break
        return done

    landed = sum(run_together([lambda n=n: writer(f"writer {n}") for n in range(4)]))
    assert landed == 12
    revisions = calls("GET", f"{path}/revisions").json()
    assert len(revisions) == 1 + round_ + 12
    assert [r["number"] for r in revisions] == list(range(1, 14 + round_))
    reasons = {r["reason"] for r in revisions}
    assert {f"writer {w} {n}" for w in range(4) for n in range(3)} <= reasons


def test_the_change_feed_is_the_same_from_either_worker(
    server: ServeProcess, auth: dict[str, str]
) -> None:
    calls = Calls(server)
    written = []
    for n in range(4):
        response = calls("POST", "/v1/facts", json=fact_body(f"Feed {n}."), headers=auth)
        assert response.status_code == 201
        written.append(response.json()["id"])

    pages: list[Any] = []

    def whole_feed() -> None:
        items: list[dict[str, Any]] = []
        since = None
        while True:
            page = calls(
                "GET", "/v1/changes", params={"limit": 25, **({"since": since} if since else {})}
            )
            assert page.status_code == 200, page.text
            body = page.json()
            items += body["items"]
            since = body["next"]
            if not body["has_more"]:
                break
        pages.append(items)

    until_both_workers(calls, whole_feed, at_least=2)
    first = pages[0]
    assert all(items == first for items in pages)
    assert len({(i["id"], i["revision"]) for i in first}) == len(first)
    assert set(written) <= {i["id"] for i in first}


def scrape(calls: Calls) -> dict[tuple[str, frozenset[Any]], float]:
    response = calls("GET", "/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_count_every_workers_requests(server: ServeProcess) -> None:
    calls = Calls(server)
    name = "econfacts_requests_total"
    labels = frozenset({"method": "GET", "route": "/v1/facts/{fact_id}", "status": "200"}.items())
    before = scrape(calls).get((name, labels), 0.0)
    start = len(calls.ids)
    count = 0

    def read() -> None:
        nonlocal count
        assert calls("GET", f"/v1/facts/{SEED_FACT}").status_code == 200
        count += 1

    until_both_workers(calls, read, at_least=10)
    assert len(calls.pids(calls.ids[start:])) == 2
    # Every scrape, whichever worker answers it, counts both workers' requests.
    for _ in range(4):
        samples = scrape(calls)
        assert samples[(name, labels)] == before + count
        assert samples[("econfacts_db_pool_size", frozenset())] > 0
    assert len(calls.pids()) == 2


def test_workers_default_to_the_cpu_count_in_production_and_one_elsewhere(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert Settings(environment="production").worker_count() == available_cpus()
    assert Settings(environment="development").worker_count() == 1
    assert Settings(environment="test").worker_count() == 1
    assert Settings(environment="production", workers=3).worker_count() == 3

    db = seeded_copy("sqlite", tmp_path, tmp_path_factory)
    server = ServeProcess(
        db.url,
        tmp_path / "serve.log",
        workers=None,  # no --workers, no ECONFACTS_WORKERS
        ECONFACTS_ENVIRONMENT="production",
        ECONFACTS_CURSOR_SECRET=uuid.uuid4().hex,
    )
    expected = available_cpus()
    try:
        for _ in range(600):
            if server.output().count("Application startup complete") >= expected:
                break
            time.sleep(0.05)
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
    finally:
        server.stop()
    started = {
        r["pid"] for r in server.records() if r["message"].startswith("Started server process")
    }
    assert len(started) == expected
