"""Concurrency against a real uvicorn process: racing writers with the same If-Match, the
change feed read while writers run, and concurrent retries of one idempotent create."""

import threading
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

FACT = "aze-chn-investment-chn-to-aze-since-1995"


@pytest.fixture(scope="module")
def served(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, str]]:
    """One real server for this module's tests, which each measure only their own changes."""
    db = Database(backend, tmp_path_factory.mktemp("live"))
    migrated_and_seeded(db.url)
    key = create_api_key(db.url, "desk", "write")
    server = LiveServer(db.url)
    yield server, key
    server.stop()
    db.drop()


def client(server: LiveServer, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def test_same_if_match_race_has_exactly_one_winner(served: tuple[LiveServer, str]) -> None:
    """Two PATCHes sent at once with the same If-Match: one 200, one 412, one new revision,
    and the winner's change is what GET returns. Repeated for several rounds."""
    live_server, write_key = served
    path = f"/v1/facts/{FACT}"
    with client(live_server, write_key) as a, client(live_server, write_key) as b:
        for round_ in range(5):
            current = a.get(path)
            assert current.status_code == 200
            etag = current.headers["etag"]
            revisions_before = len(a.get(f"{path}/revisions").json())

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
            assert loser.headers["content-type"] == "application/problem+json"
            assert loser.json()["code"] == "precondition_failed"
            revisions = a.get(f"{path}/revisions").json()
            assert len(revisions) == revisions_before + 1
            now = a.get(path)
            assert now.json() == winner.json() == revisions[-1]["snapshot"]
            assert now.headers["etag"] == winner.headers["etag"]
            assert now.json()["revision"] == current.json()["revision"] + 1
            assert winner.json()["statement"] == f"Round {round_}: {revisions[-1]['reason']}."


def test_feed_reader_sees_every_concurrent_create_once(served: tuple[LiveServer, str]) -> None:
    """While 4 writers create 15 facts each, a reader polling from its cursor collects every
    created fact exactly once, in the feed's order."""
    live_server, write_key = served
    writers, per_writer = 4, 15
    with client(live_server, write_key) as reader_http:
        start = reader_http.get("/v1/changes", params={"limit": 500}).json()
        assert start["has_more"] is False
        origin = start["next"]

        collected: list[dict[str, Any]] = []
        stop = threading.Event()
        reader_errors: list[BaseException] = []

        def reader() -> None:
            cursor = origin
            try:
                while True:
                    finished = stop.is_set()
                    page = reader_http.get("/v1/changes", params={"since": cursor, "limit": 7})
                    assert page.status_code == 200, page.text
                    body = page.json()
                    collected.extend(body["items"])
                    cursor = body["next"]
                    if finished and not body["has_more"]:
                        return
            except BaseException as exc:
                reader_errors.append(exc)

        def writer(number: int) -> list[str]:
            created = []
            with client(live_server, write_key) as http:
                for i in range(per_writer):
                    response = http.post("/v1/facts", json=fact_body(f"Writer {number}, fact {i}."))
                    assert response.status_code == 201, response.text
                    created.append(response.json()["id"])
            return created

        reading = threading.Thread(target=reader)
        reading.start()
        results = run_together([lambda n=n: writer(n) for n in range(writers)])
        stop.set()
        reading.join(timeout=120)
        assert not reading.is_alive()
        assert not reader_errors, reader_errors

        created_ids = {fact_id for ids in results for fact_id in ids}
        assert len(created_ids) == writers * per_writer
        seen = [c["id"] for c in collected if (c["resource"], c["action"]) == ("fact", "create")]
        assert len(seen) == len(set(seen)), "a change was delivered twice"
        assert set(seen) == created_ids
        assert len(collected) == len(seen)
        replay = reader_http.get("/v1/changes", params={"since": origin, "limit": 500}).json()
        assert replay["items"] == collected


def test_concurrent_retries_of_one_idempotent_create(served: tuple[LiveServer, str]) -> None:
    """Retries sent at once with one Idempotency-Key create one fact; all get its answer."""
    live_server, write_key = served
    body = fact_body("Sent four times at once.")
    clients = [client(live_server, write_key) for _ in range(4)]
    try:
        http = clients[0]
        before = http.get("/v1/changes", params={"limit": 500}).json()["items"]

        def send(sender: httpx.Client) -> httpx.Response:
            return sender.post("/v1/facts", json=body, headers={"Idempotency-Key": "burst-1"})

        responses = run_together([lambda c=c: send(c) for c in clients])
        assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
        assert len({r.json()["id"] for r in responses}) == 1
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 3
        after = http.get("/v1/changes", params={"limit": 500}).json()["items"]
        assert [c["id"] for c in after[len(before) :]] == [responses[0].json()["id"]]
    finally:
        for c in clients:
            c.close()
