"""Test fixtures: real migrated databases (a SQLite file, and PostgreSQL when
ECONFACTS_TEST_POSTGRES_URL is set), the real app, and httpx clients.

Every test that takes `client` runs once per backend. Read-only tests share one
seeded database per backend; tests that write take `fresh_db_url`, a new
migrated and seeded database of their own.

Speed: each backend is migrated and seeded once per session (per xdist worker), into a
template; every fresh database is a copy of it (a file copy for SQLite, `CREATE DATABASE
... TEMPLATE` for PostgreSQL), the same content as migrating and seeding anew at a
fraction of the cost. `make test` runs the suite on every core with pytest-xdist,
a test file per worker at a time (`--dist loadfile`), so that what a module shares (a
server, a 100,000-fact base) is set up once per backend, not once per worker.
"""

import os
import shutil
import socket
import sqlite3
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
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine
from app.db.migrate import upgrade
from app.main import create_app
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
    """A throwaway database of one backend: created empty (or as a copy of `template`, a
    database of the same backend), dropped at the end."""

    def __init__(self, backend: str, tmp_dir: Path, template: "Database | None" = None) -> None:
        self.backend = backend
        if backend == "sqlite":
            path = tmp_dir / f"econfacts-{uuid.uuid4().hex[:8]}.sqlite3"
            self.url = f"sqlite:///{path}"
            if template is not None:
                shutil.copyfile(template.path, path)
            return
        assert POSTGRES_URL is not None
        self.name = f"econfacts_test_{uuid.uuid4().hex[:12]}"
        admin_url = Settings(database_url=POSTGRES_URL).database_url
        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        copy = f' TEMPLATE "{template.name}" STRATEGY WAL_LOG' if template is not None else ""
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"{copy}'))
        self.url = make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)

    @property
    def path(self) -> Path:
        """The SQLite file."""
        return Path(make_url(self.url).database or "")

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


_TEMPLATES: dict[str, Database] = {}


def seeded_template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Database:
    """The backend's migrated and seeded template (made once per session), left closed so
    that it can be copied: a SQLite file with its WAL checkpointed into it, or a
    PostgreSQL database nobody is connected to."""
    template = _TEMPLATES.get(backend)
    if template is None:
        template = Database(backend, tmp_path_factory.mktemp(f"{backend}-template"))
        migrated_and_seeded(template.url)
        if backend == "sqlite":
            with sqlite3.connect(template.path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
        _TEMPLATES[backend] = template
    return template


def seeded_copy(backend: str, tmp_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Database:
    """A new database with the content of a freshly migrated and seeded one."""
    return Database(backend, tmp_dir, template=seeded_template(backend, tmp_path_factory))


@pytest.fixture(scope="session", autouse=True)
def _drop_templates() -> Iterator[None]:
    yield
    for template in _TEMPLATES.values():
        template.drop()
    _TEMPLATES.clear()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def seeded_db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = seeded_copy(backend, tmp_path_factory.mktemp(backend), tmp_path_factory)
    yield db.url
    db.drop()


@pytest.fixture
def fresh_db_url(
    backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    db = seeded_copy(backend, tmp_path, tmp_path_factory)
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


class PortTaken(RuntimeError):
    pass


class LiveServer:
    """A real uvicorn process serving the app on a free port."""

    def __init__(self, database_url: str, **env: str) -> None:
        self.environment = {
            **os.environ,
            "ECONFACTS_DATABASE_URL": database_url,
            "ECONFACTS_ENVIRONMENT": "test",
            "ECONFACTS_LOG_LEVEL": "warning",
            "ECONFACTS_RATE_LIMIT_PER_ADDRESS": "0",
            "ECONFACTS_RATE_LIMIT_PER_KEY": "0",
            **env,
        }
        # A free port can be taken by a parallel test between our look and uvicorn's bind.
        for attempt in range(3):
            try:
                self._start()
                return
            except PortTaken:
                if attempt == 2:
                    raise

    def command(self) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "app.asgi:app", "--port", str(self.port)]

    def _start(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode() if self.process.stdout else ""
                if "already in use" in output:
                    raise PortTaken(output)
                raise RuntimeError(f"uvicorn exited early:\n{output}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("uvicorn did not start within 30 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ServeProcess:
    """`econfacts serve --workers N` (as in production) on a free port; its output, JSON log
    lines with the pid of the worker that wrote each, goes to a file."""

    def __init__(self, database_url: str, log_file: Path, *, workers: int | None = 2, **env: str):
        self.log_file = log_file
        self.environment = {
            **os.environ,
            "ECONFACTS_DATABASE_URL": database_url,
            "ECONFACTS_ENVIRONMENT": "test",
            "ECONFACTS_LOG_LEVEL": "info",
            "ECONFACTS_LOG_FORMAT": "json",
            "ECONFACTS_RATE_LIMIT_PER_ADDRESS": "0",
            "ECONFACTS_RATE_LIMIT_PER_KEY": "0",
            **env,
        }
        self.environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.workers = workers
        for attempt in range(3):
            try:
                self._start()
                return
            except PortTaken:
                if attempt == 2:
                    raise

    def _start(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [
            str(Path(sys.executable).parent / "econfacts"),
            "serve",
            "--port",
            str(self.port),
        ]
        if self.workers is not None:
            command += ["--workers", str(self.workers)]
        with self.log_file.open("ab") as output:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.environment, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                text = self.output()
                if "already in use" in text:
                    raise PortTaken(text)
                raise RuntimeError(f"econfacts serve exited early:\n{text[-4000:]}")
            try:
                # Ready when every worker has started its application.
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200 and (
                    self.output().count("Application startup complete") >= self._started_lines()
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"econfacts serve did not start within 60 s:\n{self.output()[-4000:]}")

    def _started_lines(self) -> int:
        if self.environment["ECONFACTS_LOG_LEVEL"] not in ("info", "debug"):
            return 0
        return self.workers or 1

    def output(self) -> str:
        return self.log_file.read_text(errors="replace")

    def records(self) -> list[dict[str, Any]]:
        """The JSON log lines so far."""
        import json

        return [json.loads(line) for line in self.output().splitlines() if line.startswith("{")]

    def pids_by_request_id(self) -> dict[str, int]:
        """The worker that answered each request, from the access lines."""
        return {
            r["request_id"]: r["pid"]
            for r in self.records()
            if r.get("logger") == "econfacts.access"
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
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
