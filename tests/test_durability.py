"""Durability: a server killed with SIGKILL in the middle of a stream of writes loses no
acknowledged write and leaves nothing half-written behind.

Eight client threads create facts as fast as the server answers; the process is then
killed outright (no shutdown, no rollback by the app), and a new server is started on the
same database. Every fact that was acknowledged with 201 must be there, at revision 1, with
its change-feed entry; and no fact may exist without its change entry, nor a change entry
without its fact.
"""

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from conftest import SEED_PHRASE, LiveServer
from conftest import fact_body as seed_fact_body
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ALL_STATUSES = [("status", s) for s in ("published", "draft", "retracted", "rejected")]
WRITERS = 8
KILL_AFTER_ACKS = 60


def fact_body(statement: str) -> dict[str, Any]:
    return seed_fact_body(statement, direction="subject_to_counterpart")


def all_pages(http: httpx.Client, path: str, params: list[tuple[str, Any]]) -> list[Any]:
    """Every item of a cursor-paged list."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        response = http.get(path, params=[*params, *([("cursor", cursor)] if cursor else [])])
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        cursor = body["next"]
        if not cursor:
            return items


def whole_feed(http: httpx.Client) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    since: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"since": since} if since else {})}
        response = http.get("/v1/changes", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        changes.extend(body["items"])
        since = body["next"]
        if not body["has_more"]:
            return changes


def sqlite_file(url: str) -> Path:
    return Path(str(make_url(url).database))


def integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def revision_pairs(url: str) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    """(id, revision) of every fact row, and of every fact change, read from the database."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            facts = {(r[0], int(r[1])) for r in conn.execute(text("SELECT id, revision FROM fact"))}
            changes = {
                (r[0], int(r[1]))
                for r in conn.execute(
                    text("SELECT resource_id, revision FROM change WHERE resource = 'fact'")
                )
            }
    finally:
        engine.dispose()
    return facts, changes


class Writers:
    """WRITERS threads POSTing facts until told to stop; they keep every 201's id."""

    def __init__(self, server: LiveServer, key: str) -> None:
        self.server = server
        self.key = key
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged: dict[str, str] = {}  # fact id -> the statement sent
        self.unexpected: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(WRITERS)]

    def __enter__(self) -> "Writers":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _run(self, number: int) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.server.base_url, headers=headers, timeout=30) as http:
            sent = 0
            while not self.stop.is_set():
                statement = f"Durability writer {number}, fact {sent}."
                sent += 1
                try:
                    response = http.post("/v1/facts", json=fact_body(statement))
                except httpx.TransportError:
                    # The server is gone: this write's fate is unknown, and not acknowledged.
                    return
                with self.lock:
                    if response.status_code == 201:
                        self.acknowledged[response.json()["id"]] = statement
                    else:
                        self.unexpected.append(f"{response.status_code} {response.text[:300]}")

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def output(server: LiveServer) -> str:
    """What a stopped server wrote (stdout and stderr), for failure messages."""
    return (
        server.process.stdout.read().decode(errors="replace")[-5000:]
        if server.process.stdout
        else ""
    )


def wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_sigkill_mid_stream_loses_no_acknowledged_write(
    backend: str, fresh_db_url: str, write_key: str
) -> None:
    server = LiveServer(fresh_db_url)
    try:
        with Writers(server, write_key) as writers:
            reached = wait_for(lambda: writers.count() >= KILL_AFTER_ACKS, 60)
            # Kill without warning while the writers are still sending.
            server.process.kill()
            server.process.wait(timeout=30)
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
    assert reached, f"only {writers.count()} writes acknowledged before the kill"
    assert not any(t.is_alive() for t in writers.threads)
    assert writers.unexpected == [], writers.unexpected[:5]
    acknowledged = dict(writers.acknowledged)

    if backend == "sqlite":
        # The file as the crash left it (the WAL is replayed on open) is consistent.
        assert integrity(sqlite_file(fresh_db_url)) == "ok"

    restarted = LiveServer(fresh_db_url)
    try:
        with httpx.Client(base_url=restarted.base_url, timeout=30) as http:
            recovered = 0
            for fact_id, statement in acknowledged.items():
                response = http.get(f"/v1/facts/{fact_id}")
                assert response.status_code == 200, (fact_id, response.text)
                fact = response.json()
                assert fact["revision"] == 1
                assert fact["statement"] == statement
                assert fact["evidence"]["text"] == SEED_PHRASE
                recovered += 1

            feed = whole_feed(http)
            facts = all_pages(http, "/v1/facts", [("limit", 500), *ALL_STATUSES])
    finally:
        restarted.stop()

    fact_changes = [c for c in feed if c["resource"] == "fact"]
    created = {c["id"] for c in fact_changes if c["action"] == "create" and c["revision"] == 1}
    fact_ids = {f["id"] for f in facts}
    assert len(fact_ids) == len(facts)
    # Every acknowledged write has its change-feed entry.
    assert set(acknowledged) <= created
    # No fact without its creation in the feed, no feed entry without its fact.
    assert fact_ids == {c["id"] for c in fact_changes}
    assert fact_ids == created
    # Each fact's current revision is the latest revision the feed announced for it.
    latest: dict[str, int] = {}
    for change in fact_changes:
        latest[change["id"]] = max(latest.get(change["id"], 0), change["revision"])
    assert {f["id"]: f["revision"] for f in facts} == latest
    # The same, row by row, in the database: every fact revision has exactly its change.
    fact_rows, change_rows = revision_pairs(fresh_db_url)
    assert fact_rows == change_rows
    if backend == "sqlite":
        assert integrity(sqlite_file(fresh_db_url)) == "ok"

    ours = {f["id"] for f in facts if f["statement"].startswith("Durability writer ")}
    print(
        f"\n[{backend}] SIGKILL mid-stream: {len(acknowledged)} writes acknowledged, "
        f"{recovered} recovered; {len(ours - set(acknowledged))} more committed whose answer "
        "was lost with the process"
    )


def test_sigkill_mid_stream_then_writes_continue(
    backend: str, fresh_db_url: str, write_key: str
) -> None:
    """After a crash the restarted server takes writes at once: no stale lock survives it
    (a SQLite write lock, a PostgreSQL advisory lock) and the feed keeps its order."""
    server = LiveServer(fresh_db_url)
    try:
        with Writers(server, write_key) as writers:
            wait_for(lambda: writers.count() >= 10, 60)
            server.process.kill()
            server.process.wait(timeout=30)
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()

    restarted = LiveServer(fresh_db_url)
    try:
        headers = {"Authorization": f"Bearer {write_key}"}
        with httpx.Client(base_url=restarted.base_url, headers=headers, timeout=30) as http:
            before = whole_feed(http)
            response = http.post("/v1/facts", json=fact_body("Written after the crash."))
            after = whole_feed(http)
    finally:
        restarted.stop()
    assert response.status_code == 201, (response.text, output(restarted))
    assert after[: len(before)] == before
    assert [(c["id"], c["action"]) for c in after[len(before) :]] == [
        (response.json()["id"], "create")
    ]
