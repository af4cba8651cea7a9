"""Test fixtures: real migrated databases (a SQLite file, and PostgreSQL when
ECONFACTS_TEST_POSTGRES_URL is set), the real app, and httpx clients.

Every test that takes `client` runs once per backend. Read-only tests share one
seeded database per backend; tests that write take `fresh_db_url`, a new
migrated and seeded database of their own.
"""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.migrations import upgrade
from app.seed.loader import load_seed

POSTGRES_URL = os.environ.get("ECONFACTS_TEST_POSTGRES_URL")
SEED_SOURCE_ID = "trend-4036385"
SEED_TEXT = (
    Path(__file__).resolve().parent.parent / "app/seed/data" / f"{SEED_SOURCE_ID}.txt"
).read_text(encoding="utf-8")
SEED_PHRASE = "Chinese companies are expected to continue investing in Azerbaijan’s economy"


def fact_body(statement: str, **fields: Any) -> dict[str, Any]:
    """A valid fact create (CHN invests in AZE) whose evidence is a phrase of the seed
    article; `fields` add to or override it."""
    start = SEED_TEXT.index(SEED_PHRASE)
    return {
        "kind": "investment",
        "statement": statement,
        "subject": "CHN",
        "counterpart": "AZE",
        "evidence": {
            "source_id": SEED_SOURCE_ID,
            "start": start,
            "end": start + len(SEED_PHRASE),
            "text": SEED_PHRASE,
        },
        **fields,
    }


def run_together(tasks: list[Callable[[], Any]]) -> list[Any]:
    """Run the tasks in threads released at the same moment by a barrier; return results."""
    barrier = threading.Barrier(len(tasks))
    results: list[Any] = [None] * len(tasks)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = tasks[index]()
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
ROOT = Path(__file__).resolve().parent.parent


class Database:
    """A throwaway database of one backend: created empty, dropped at the end."""

    def __init__(self, backend: str, tmp_dir: Path) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp_dir / f'econfacts-{uuid.uuid4().hex[:8]}.sqlite3'}"
            return
        assert POSTGRES_URL is not None
        self.name = f"econfacts_test_{uuid.uuid4().hex[:12]}"
        admin_url = Settings(database_url=POSTGRES_URL).database_url
        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        if self.backend != "postgres":
            return
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


def migrated_and_seeded(url: str) -> None:
    upgrade(url)
    engine = make_engine(Settings(database_url=url))
    with Session(engine) as session:
        load_seed(session)
        session.commit()
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def seeded_db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = Database(backend, tmp_path_factory.mktemp(backend))
    migrated_and_seeded(db.url)
    yield db.url
    db.drop()


@pytest.fixture
def fresh_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    db = Database(backend, tmp_path)
    migrated_and_seeded(db.url)
    yield db.url
    db.drop()


@pytest.fixture
def empty_db(backend: str, tmp_path: Path) -> Iterator[Database]:
    """A created but unmigrated database, for migration tests."""
    db = Database(backend, tmp_path)
    yield db
    db.drop()


TEST_DEFAULTS: dict[str, object] = {
    # Rate limits are tested on their own; elsewhere they would only make tests flaky.
    "rate_limit_per_address": 0,
    "rate_limit_per_key": 0,
}


def make_settings(url: str, **overrides: object) -> Settings:
    values = {**TEST_DEFAULTS, **overrides}
    return Settings(database_url=url, environment="test", **values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def app(seeded_db_url: str) -> Iterator[FastAPI]:
    application = create_app(make_settings(seeded_db_url))
    yield application
    application.state.engine.dispose()


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def fresh_client(fresh_db_url: str) -> Iterator[TestClient]:
    application = create_app(make_settings(fresh_db_url))
    with TestClient(application) as test_client:
        yield test_client
    application.state.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A real uvicorn process serving the app on a free port."""

    def __init__(self, database_url: str, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "ECONFACTS_DATABASE_URL": database_url,
            "ECONFACTS_ENVIRONMENT": "test",
            "ECONFACTS_LOG_LEVEL": "warning",
            "ECONFACTS_RATE_LIMIT_PER_ADDRESS": "0",
            "ECONFACTS_RATE_LIMIT_PER_KEY": "0",
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.asgi:app", "--port", str(self.port)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode() if self.process.stdout else ""
                raise RuntimeError(f"uvicorn exited early:\n{output}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("uvicorn did not start within 20 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def live_server(fresh_db_url: str) -> Iterator[LiveServer]:
    server = LiveServer(fresh_db_url)
    yield server
    server.stop()


def create_api_key(database_url: str, name: str, scope: str) -> str:
    """A real key, made the way `econfacts keys create` makes it."""
    from app.auth.models import Scope
    from app.auth.service import create_key

    engine = make_engine(Settings(database_url=database_url))
    with Session(engine) as session:
        key = create_key(session, name=name, scope=Scope(scope))
        session.commit()
    engine.dispose()
    return key


@pytest.fixture
def write_key(fresh_db_url: str) -> str:
    return create_api_key(fresh_db_url, "desk", "write")


@pytest.fixture
def read_key(fresh_db_url: str) -> str:
    return create_api_key(fresh_db_url, "dashboard", "read")


@pytest.fixture
def writer(fresh_client: TestClient, write_key: str) -> TestClient:
    """The fresh client, sending the write key on every request."""
    fresh_client.headers["Authorization"] = f"Bearer {write_key}"
    return fresh_client
