"""Operations: request ids, JSON logs without secrets, Prometheus metrics, graceful shutdown
with a response in flight, and SQLite backup and restore on a live server."""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import (
    Database,
    LiveServer,
    create_api_key,
    free_port,
    make_settings,
    migrated_and_seeded,
)
from conftest import fact_body as seed_fact_body
from fastapi import APIRouter
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.config import Settings
from app.db import SessionDep, TransactionRoute, WriteSessionDep, begin_write, make_engine
from app.facts.schemas import FactCreate
from app.facts.service import create_fact
from app.facts.shape import with_documents
from app.main import create_app
from app.tables import Change, Fact

ROOT = Path(__file__).resolve().parent.parent
ECONFACTS = str(Path(sys.executable).parent / "econfacts")
SOURCE_ID = "trend-4036385"
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
FACT_LIST = "/v1/facts?limit=500&status=published&status=draft&status=retracted"


def fact_body(statement: str) -> dict[str, Any]:
    return seed_fact_body(statement, direction="subject_to_counterpart")


def server_output(server: LiveServer) -> str:
    """Everything a stopped LiveServer wrote (its stderr is merged into stdout)."""
    assert server.process.poll() is not None, "stop the server first"
    return server.process.stdout.read().decode(errors="replace") if server.process.stdout else ""


# --- request ids ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    ["abc-123", "0f6c1e7a-34b1-4c7e-9a0b-2d5c8e1f3a4b", "edge.proxy:42_retry-1", "x" * 128],
)
def test_sane_request_id_is_honoured_and_echoed(client: TestClient, sent: str) -> None:
    for path in ("/v1/facts", "/v1/facts/no-such-fact", "/healthz"):
        response = client.get(path, headers={"X-Request-ID": sent})
        assert response.headers["x-request-id"] == sent, path
        assert response.headers.get_list("x-request-id") == [sent]


def test_request_id_is_generated_when_absent(client: TestClient) -> None:
    first = client.get("/v1/facts").headers["x-request-id"]
    second = client.get("/v1/facts").headers["x-request-id"]
    assert GENERATED_ID.match(first), first
    assert GENERATED_ID.match(second), second
    assert first != second


@pytest.mark.parametrize(
    "insane",
    ["a" * 500, "has spaces in it", "semi;colon", 'quote"d', "tab\tbed", "ünïcode", ""],
)
def test_insane_request_id_is_replaced(client: TestClient, insane: str) -> None:
    response = client.get(
        "/v1/facts/no-such-fact", headers={"X-Request-ID": insane.encode("utf-8")}
    )
    assert response.status_code == 404
    echoed = response.headers["x-request-id"]
    assert GENERATED_ID.match(echoed), echoed
    assert echoed != insane


# --- logs ----------------------------------------------------------------------------------


def test_json_log_lines_carry_request_fields_and_no_secrets(
    fresh_db_url: str, write_key: str
) -> None:
    read_key = create_api_key(fresh_db_url, "dashboard-logs", "read")
    server = LiveServer(fresh_db_url, ECONFACTS_LOG_LEVEL="info")
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            writer = {"Authorization": f"Bearer {write_key}"}
            listed = http.get("/v1/facts", headers={**writer, "X-Request-ID": "ops-list"})
            created = http.post(
                "/v1/facts",
                json=fact_body("Logged, never the key."),
                headers={**writer, "X-Request-ID": "ops-create"},
            )
            missing = http.get("/v1/facts/no-such-fact", headers={"X-Request-ID": "ops-404"})
            refused = http.post(
                "/v1/facts",
                json=fact_body("Refused."),
                headers={"Authorization": f"Bearer {read_key}", "X-Request-ID": "ops-403"},
            )
            wrong_key = "ef_0123456789ab_not-a-real-secret-value-at-all"
            bad = http.get(
                "/v1/changes",
                headers={"Authorization": f"Bearer {wrong_key}", "X-Request-ID": "ops-401"},
            )
    finally:
        server.stop()
    assert listed.status_code == 200
    assert created.status_code == 201, created.text
    assert missing.status_code == 404
    assert refused.status_code == 403
    assert bad.status_code == 401
    output = server_output(server)

    lines = [line for line in output.splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a log line is not JSON: {line!r}")
    assert all("request_id" in r for r in records), records

    access = {r["request_id"]: r for r in records if r.get("logger") == "econfacts.access"}
    expected = {
        "ops-list": ("GET", "/v1/facts", 200),
        "ops-create": ("POST", "/v1/facts", 201),
        "ops-404": ("GET", "/v1/facts/{fact_id}", 404),
        "ops-403": ("POST", "/v1/facts", 403),
        "ops-401": ("GET", "/v1/changes", 401),
    }
    for rid, (method, route, status) in expected.items():
        assert rid in access, f"no access line for {rid}: {sorted(access)}"
        line = access[rid]
        assert (line["method"], line["route"], line["status"]) == (method, route, status), line
        assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0

    # No key, no Authorization value, in any form, anywhere in the output.
    for secret in (write_key, read_key, wrong_key):
        assert secret not in output
        # The secret part (after "ef_<prefix>_"; it may itself contain "_").
        assert secret.split("_", 2)[-1] not in output
    assert "Bearer" not in output
    assert "authorization" not in output.lower()


# --- metrics -------------------------------------------------------------------------------


def scrape(client: TestClient) -> tuple[dict[str, str], dict[tuple[str, frozenset[Any]], float]]:
    """Metric families by name with their type, and every sample by (name, labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families: dict[str, str] = {}
    samples: dict[tuple[str, frozenset[Any]], float] = {}
    for family in text_string_to_metric_families(response.text):
        families[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return families, samples


def count(samples: dict[tuple[str, frozenset[Any]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_expose_the_families(fresh_client: TestClient) -> None:
    fresh_client.get("/v1/facts")
    families, _ = scrape(fresh_client)
    assert families.get("econfacts_requests") == "counter"
    assert families.get("econfacts_errors") == "counter"
    assert families.get("econfacts_request_duration_seconds") == "histogram"
    assert families.get("econfacts_db_pool_checked_out") == "gauge"
    assert families.get("econfacts_db_pool_size") == "gauge"


def test_metrics_count_requests_and_404s_by_route(fresh_client: TestClient) -> None:
    _, before = scrape(fresh_client)
    for _ in range(2):  # the second time round may be served from a cache; it still counts
        assert fresh_client.get("/v1/facts").status_code == 200
        assert fresh_client.get("/v1/facts/no-such-fact").status_code == 404
    assert fresh_client.get("/no/such/route").status_code == 404
    _, after = scrape(fresh_client)

    def grew(name: str, **labels: str) -> float:
        return count(after, name, **labels) - count(before, name, **labels)

    total = "econfacts_requests_total"
    assert grew(total, method="GET", route="/v1/facts", status="200") == 2
    assert grew(total, method="GET", route="/v1/facts/{fact_id}", status="404") == 2
    assert grew(total, method="GET", route="unmatched", status="404") == 1
    latency = "econfacts_request_duration_seconds_count"
    assert grew(latency, method="GET", route="/v1/facts") == 2
    assert grew(latency, method="GET", route="/v1/facts/{fact_id}") == 2
    # 404s are client errors, not server errors.
    assert not any(name == "econfacts_errors_total" and value for (name, _), value in after.items())
    assert count(after, "econfacts_db_pool_size") >= 1


def test_metrics_keep_api_and_page_routes_apart(fresh_client: TestClient) -> None:
    """/v1/sources/{id} (JSON) and /sources/{id} (the HTML page) are different routes."""
    _, before = scrape(fresh_client)
    assert fresh_client.get(f"/v1/sources/{SOURCE_ID}").status_code == 200
    _, after = scrape(fresh_client)
    labels = {"method": "GET", "route": "/v1/sources/{source_id}", "status": "200"}
    assert (
        count(after, "econfacts_requests_total", **labels)
        - count(before, "econfacts_requests_total", **labels)
        == 1
    )
    page = {"method": "GET", "route": "/sources/{source_id}", "status": "200"}
    assert count(after, "econfacts_requests_total", **page) == count(
        before, "econfacts_requests_total", **page
    )


# --- graceful shutdown ---------------------------------------------------------------------

BULK_FACTS = 20_000
CLEAN_EXIT = (0, -signal.SIGTERM)
"""uvicorn finishes its graceful shutdown, then re-raises the SIGTERM it caught."""


def add_facts(url: str, how_many: int) -> None:
    """Make one fact the way the API does, then copy it (rows and change entries) in bulk:
    a fact base large enough that exporting it takes a while."""
    engine = make_engine(Settings(database_url=url))
    fact_table, change_table = Fact.__table__, Change.__table__  # type: ignore[attr-defined]
    try:
        with Session(engine) as session:
            begin_write(session)
            template = create_fact(session, body=FactCreate(**fact_body("Bulk.")), actor="bulk")
            session.flush()
            row = dict(
                session.execute(select(fact_table).where(fact_table.c.id == template.id))
                .mappings()
                .one()
            )
            change = dict(
                session.execute(
                    select(change_table).where(change_table.c.resource_id == template.id)
                )
                .mappings()
                .one()
            )
            change.pop("seq")
            for offset in range(0, how_many - 1, 5000):
                numbers = range(offset, min(offset + 5000, how_many - 1))
                session.execute(
                    insert(fact_table),
                    with_documents(
                        session.connection(),
                        [
                            {**row, "id": f"bulk-{n:06d}", "statement": f"Bulk fact {n}."}
                            for n in numbers
                        ],
                    ),
                )
                session.execute(
                    insert(change_table),
                    [{**change, "resource_id": f"bulk-{n:06d}"} for n in numbers],
                )
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def big_db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = Database(backend, tmp_path_factory.mktemp("big"))
    migrated_and_seeded(db.url)
    add_facts(db.url, BULK_FACTS)
    yield db.url
    db.drop()


def published_count(base_url: str) -> int:
    response = httpx.get(f"{base_url}/v1/facts/facets", timeout=60)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def export_through_sigterm(base_url: str, process: subprocess.Popen[bytes]) -> tuple[int, Any]:
    """Start the NDJSON export, SIGTERM the server once the first line has arrived, then
    read the rest. Returns the lines read and whether the process was still up mid-way."""
    expected = published_count(base_url)
    assert expected > BULK_FACTS // 2
    ids: list[str] = []
    alive_mid_stream = None
    with (
        httpx.Client(base_url=base_url, timeout=120) as http,
        http.stream("GET", "/v1/export/facts.ndjson") as response,
    ):
        assert response.status_code == 200
        for number, line in enumerate(response.iter_lines()):
            if not line:
                continue
            fact = json.loads(line)  # every line whole and valid
            assert fact["evidence"]["text"]
            ids.append(fact["id"])
            if number == 0:
                process.send_signal(signal.SIGTERM)
                time.sleep(0.5)  # let the server notice while the response is mid-way
            if number == expected // 2:
                alive_mid_stream = process.poll() is None
    assert len(ids) == expected, f"{len(ids)} of {expected} lines before the stream ended"
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    return len(ids), alive_mid_stream


def test_sigterm_lets_an_export_in_flight_finish(backend: str, big_db_url: str) -> None:
    server = LiveServer(big_db_url)
    try:
        lines, alive_mid_stream = export_through_sigterm(server.base_url, server.process)
        # The server waited for the response, then exited by itself, cleanly.
        assert alive_mid_stream is True
        assert server.process.wait(timeout=60) in CLEAN_EXIT
    finally:
        server.stop()
    print(f"\n[{backend}] SIGTERM during export (uvicorn): all {lines} lines delivered")


def test_econfacts_serve_drains_on_sigterm(backend: str, big_db_url: str, tmp_path: Path) -> None:
    """The production entry point: `econfacts serve`, as the Docker image runs it."""
    port = free_port()
    env = {
        **os.environ,
        "ECONFACTS_DATABASE_URL": big_db_url,
        "ECONFACTS_ENVIRONMENT": "test",
        "ECONFACTS_PORT": str(port),
        "ECONFACTS_LOG_LEVEL": "warning",
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [ECONFACTS, "serve"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "econfacts serve did not become ready"
            time.sleep(0.1)
        lines, alive_mid_stream = export_through_sigterm(base_url, process)
        assert alive_mid_stream is True
        assert process.wait(timeout=60) in CLEAN_EXIT
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    print(f"\n[{backend}] SIGTERM during export (econfacts serve): all {lines} lines delivered")


# --- backup and restore (SQLite) -----------------------------------------------------------


def run_cli(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ECONFACTS_DATABASE_URL": database_url, "ECONFACTS_ENVIRONMENT": "test"}
    return subprocess.run(
        [ECONFACTS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def everything(base_url: str) -> tuple[list[Any], list[Any]]:
    """All facts (published, draft, retracted) and the whole change feed, via the API."""
    facts: list[Any] = []
    changes: list[Any] = []
    with httpx.Client(base_url=base_url, timeout=60) as http:
        url: str | None = FACT_LIST
        while url:
            page = http.get(url)
            assert page.status_code == 200, page.text
            facts.extend(page.json()["items"])
            cursor = page.json()["next"]
            url = f"{FACT_LIST}&cursor={cursor}" if cursor else None
        since = None
        while True:
            response = http.get(
                "/v1/changes", params={"limit": 500, **({"since": since} if since else {})}
            )
            assert response.status_code == 200, response.text
            body = response.json()
            changes.extend(body["items"])
            since = body["next"]
            if not body["has_more"]:
                break
    return facts, changes


def sqlite_path(url: str) -> Path:
    return Path(str(make_url(url).database))


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[str]:
    db = Database("sqlite", tmp_path)
    migrated_and_seeded(db.url)
    add_facts(db.url, 3000)  # more pages than one backup step copies
    yield db.url


def test_backup_of_a_live_server_under_writes_restores_identically(
    sqlite_db: str, tmp_path: Path
) -> None:
    key = create_api_key(sqlite_db, "desk", "write")
    server = LiveServer(sqlite_db)
    acknowledged: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def writer(number: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http:
            sent = 0
            while not stop.is_set():
                response = http.post("/v1/facts", json=fact_body(f"Backup {number}.{sent}."))
                sent += 1
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])
                else:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    backup_file = tmp_path / "backups" / "econfacts-backup.sqlite3"
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    try:
        for thread in threads:
            thread.start()
        while len(acknowledged) < 20 and not failures:
            time.sleep(0.01)
        before_backup = len(acknowledged)
        result = run_cli("db", "backup", str(backup_file), database_url=sqlite_db, cwd=tmp_path)
        after_backup = len(acknowledged)
        while len(acknowledged) < after_backup + 20 and not failures:
            time.sleep(0.01)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        live = everything(server.base_url)
    finally:
        stop.set()
        server.stop()
    assert failures == [], failures[:3]
    assert result.returncode == 0, result.stderr
    assert "backed up" in result.stdout
    # The writers were writing before and after the backup ran.
    assert before_backup > 0 and after_backup < len(acknowledged)
    assert integrity(backup_file) == "ok"

    # Restore into a new database URL and serve it.
    restored_url = f"sqlite:///{tmp_path / 'restored' / 'econfacts.sqlite3'}"
    restore = run_cli("db", "restore", str(backup_file), database_url=restored_url, cwd=tmp_path)
    assert restore.returncode == 0, restore.stderr
    assert integrity(sqlite_path(restored_url)) == "ok"
    restored_server = LiveServer(restored_url)
    try:
        restored = everything(restored_server.base_url)
    finally:
        restored_server.stop()
    # The backup file itself, served from a copy, is what the restore gave.
    copy = tmp_path / "copy-of-backup.sqlite3"
    shutil.copyfile(backup_file, copy)
    copy_server = LiveServer(f"sqlite:///{copy}")
    try:
        snapshot = everything(copy_server.base_url)
    finally:
        copy_server.stop()
    assert restored == snapshot

    # A consistent snapshot: the feed is a prefix of the live feed, and the facts are exactly
    # the live facts the prefix created, identical to the byte.
    restored_facts, restored_changes = restored
    live_facts, live_changes = live
    assert len(restored_changes) >= len(live_changes) - len(acknowledged)
    assert restored_changes == live_changes[: len(restored_changes)]
    created = {c["id"] for c in restored_changes if c["resource"] == "fact"}
    assert {f["id"] for f in restored_facts} == created
    live_by_id = {f["id"]: f for f in live_facts}
    assert all(live_by_id[f["id"]] == f for f in restored_facts)
    in_backup = sum(1 for fact_id in acknowledged if fact_id in created)
    print(
        f"\nbackup under writes: {len(restored_facts)} facts in the backup, "
        f"{in_backup} of {len(acknowledged)} concurrent writes in it"
    )


def test_backup_refuses_an_existing_target(sqlite_db: str, tmp_path: Path) -> None:
    target = tmp_path / "exists.sqlite3"
    target.write_bytes(b"keep me")
    result = run_cli("db", "backup", str(target), database_url=sqlite_db, cwd=tmp_path)
    assert result.returncode != 0
    assert "exists" in result.stderr
    assert target.read_bytes() == b"keep me"


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_backup_and_restore_refuse_postgresql_with_pg_dump_guidance(
    command: str, tmp_path: Path
) -> None:
    existing = tmp_path / "some.sqlite3"
    existing.write_bytes(b"")
    target = existing if command == "restore" else tmp_path / "new.sqlite3"
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/econfacts"
    result = run_cli("db", command, str(target), database_url=url, cwd=tmp_path)
    assert result.returncode != 0
    assert "pg_dump" in result.stderr
    assert "Traceback" not in result.stderr
    if command == "backup":
        assert not target.exists()


def test_restore_refuses_a_file_that_is_not_a_backup(sqlite_db: str, tmp_path: Path) -> None:
    """A damaged or wrong file is refused with a message, and the database is untouched."""
    before = everything_offline(sqlite_db)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    result = run_cli("db", "restore", str(junk), database_url=sqlite_db, cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.startswith("error:"), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert integrity(sqlite_path(sqlite_db)) == "ok"
    assert everything_offline(sqlite_db) == before


def everything_offline(url: str) -> list[Any]:
    connection = sqlite3.connect(sqlite_path(url))
    try:
        return connection.execute("SELECT id, revision, statement FROM fact ORDER BY id").fetchall()
    finally:
        connection.close()


def test_writers_queued_behind_the_write_lock_leave_reads_their_threads(
    fresh_db_url: str, write_key: str
) -> None:
    """Writers wait for the write lock in the event loop, not in a worker thread: with two
    worker threads and ten writers queued, a read is still answered, and afterwards every
    queued write lands and no connection is left checked out."""
    app = create_app(make_settings(fresh_db_url, worker_threads=2))
    auth = {"Authorization": f"Bearer {write_key}"}
    with TestClient(app) as client, ThreadPoolExecutor(max_workers=11) as pool:
        gate = app.state.write_gate
        gate.lock.acquire()  # as if a long write were in progress
        try:
            posts = [
                pool.submit(client.post, "/v1/facts", json=fact_body(f"Queued {n}."), headers=auth)
                for n in range(10)
            ]
            time.sleep(0.5)  # let them all reach the queue
            read = pool.submit(client.get, "/v1/facts", params={"limit": 1})
            assert read.result(timeout=20).status_code == 200
            assert not any(post.done() for post in posts), "a write ran while the lock was held"
        finally:
            gate.lock.release()
        assert [post.result(timeout=60).status_code for post in posts] == [201] * 10
        assert app.state.engine.pool.checkedout() == 0
    app.state.engine.dispose()


def test_an_async_route_taking_a_session_is_refused_when_declared() -> None:
    """Only a plain `def` route gets its transaction run (and committed) in one thread; an
    async one would never commit, so declaring it fails at start-up instead."""
    router = APIRouter(route_class=TransactionRoute)
    with pytest.raises(TypeError, match="plain def"):

        @router.post("/lost")
        async def lost(session: WriteSessionDep) -> None:
            session.add(Change())

    @router.get("/fine")
    def fine(session: SessionDep) -> None:
        return None
