"""Safe configuration: production refuses settings that are fine on a laptop and dangerous
on a server, both in create_app and in `econfacts serve`; CORS and read access are exactly
what is configured, whichever way a request is answered."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import create_api_key, free_port, make_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import DEFAULT_CURSOR_SECRET, Settings
from app.main import UnsafeSettings, create_app

ECONFACTS = str(Path(sys.executable).parent / "econfacts")
SECRET = "a-long-random-production-cursor-secret-0123456789"
SEED_FACT = "aze-chn-investment-chn-to-aze-since-1995"
SOURCE_ID = "trend-4036385"

SAFE: dict[str, Any] = {"environment": "production", "cursor_secret": SECRET}
UNSAFE: dict[str, tuple[dict[str, Any], str]] = {
    "debug": ({"debug": True}, "ECONFACTS_DEBUG"),
    "cors-any-origin-with-credentials": (
        {"cors_origins": ["*"], "cors_allow_credentials": True},
        "CORS",
    ),
    "restricted-data-open-reads": (
        {"data_access": "restricted", "require_key_for_reads": False},
        "ECONFACTS_DATA_ACCESS",
    ),
    "default-cursor-secret": ({"cursor_secret": DEFAULT_CURSOR_SECRET}, "ECONFACTS_CURSOR_SECRET"),
}
UNSAFE_ENV: dict[str, tuple[dict[str, str], str]] = {
    "debug": ({"ECONFACTS_DEBUG": "true"}, "ECONFACTS_DEBUG"),
    "cors-any-origin-with-credentials": (
        {"ECONFACTS_CORS_ORIGINS": '["*"]', "ECONFACTS_CORS_ALLOW_CREDENTIALS": "true"},
        "CORS",
    ),
    "restricted-data-open-reads": (
        {"ECONFACTS_DATA_ACCESS": "restricted", "ECONFACTS_REQUIRE_KEY_FOR_READS": "false"},
        "ECONFACTS_DATA_ACCESS",
    ),
    "default-cursor-secret": (
        {"ECONFACTS_CURSOR_SECRET": DEFAULT_CURSOR_SECRET},
        "ECONFACTS_CURSOR_SECRET",
    ),
}


def settings(url: str, **values: Any) -> Settings:
    return Settings(database_url=url, **{**SAFE, **values})


# --- create_app ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_create_app_refuses_each_unsafe_production_setting(name: str, seeded_db_url: str) -> None:
    values, reason = UNSAFE[name]
    with pytest.raises(UnsafeSettings) as refused:
        create_app(settings(seeded_db_url, **values))
    assert reason in str(refused.value)


def test_create_app_names_every_problem_at_once(seeded_db_url: str) -> None:
    everything_wrong: dict[str, Any] = {}
    for values, _ in UNSAFE.values():
        everything_wrong.update(values)
    everything_wrong["cors_origins"] = ["*"]
    with pytest.raises(UnsafeSettings) as refused:
        create_app(settings(seeded_db_url, **everything_wrong))
    for _, reason in UNSAFE.values():
        assert reason in str(refused.value)


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_the_same_settings_are_allowed_outside_production(name: str, seeded_db_url: str) -> None:
    values, _ = UNSAFE[name]
    app = create_app(settings(seeded_db_url, **{**values, "environment": "development"}))
    try:
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
    finally:
        app.state.engine.dispose()


def test_safe_production_settings_start_and_serve(seeded_db_url: str) -> None:
    app = create_app(
        settings(
            seeded_db_url,
            cors_origins=["https://news.example"],
            cors_allow_credentials=True,
            data_access="restricted",
            require_key_for_reads=True,
        )
    )
    try:
        with TestClient(app) as client:
            assert client.get("/readyz").json()["status"] == "ready"
            assert client.get("/v1/facts").status_code == 401
    finally:
        app.state.engine.dispose()


# --- econfacts serve -----------------------------------------------------------------------


def serve(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [ECONFACTS, "serve"],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("name", sorted(UNSAFE_ENV))
def test_econfacts_serve_refuses_unsafe_production_settings(
    name: str, seeded_db_url: str, tmp_path: Path
) -> None:
    values, reason = UNSAFE_ENV[name]
    port = free_port()
    env = {
        "ECONFACTS_ENVIRONMENT": "production",
        "ECONFACTS_DATABASE_URL": seeded_db_url,
        "ECONFACTS_CURSOR_SECRET": SECRET,
        "ECONFACTS_PORT": str(port),
        **values,
    }
    process = serve(env, tmp_path)
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode != 0
    assert "refusing to start in production" in stderr
    assert reason in stderr
    assert "Traceback" not in stderr
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_econfacts_serve_starts_with_safe_production_settings(
    seeded_db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "ECONFACTS_ENVIRONMENT": "production",
        "ECONFACTS_DATABASE_URL": seeded_db_url,
        "ECONFACTS_CURSOR_SECRET": SECRET,
        "ECONFACTS_PORT": str(port),
        "ECONFACTS_LOG_LEVEL": "warning",
    }
    process = serve(env, tmp_path)
    try:
        deadline = time.monotonic() + 30
        ready = None
        while ready is None and time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.1)
        assert ready is not None, "econfacts serve did not start"
        assert ready.status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_uvicorn_entry_point_refuses_unsafe_production_settings(
    seeded_db_url: str, tmp_path: Path
) -> None:
    """`uvicorn app.asgi:app` (the other way to run it) refuses too: create_app raises."""
    env = {
        **os.environ,
        "ECONFACTS_ENVIRONMENT": "production",
        "ECONFACTS_DATABASE_URL": seeded_db_url,
        "ECONFACTS_DEBUG": "true",
        "ECONFACTS_CURSOR_SECRET": SECRET,
    }
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "app.asgi:app", "--port", str(free_port())],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ECONFACTS_DEBUG" in result.stderr + result.stdout


# --- CORS ----------------------------------------------------------------------------------

ALLOWED = "https://news.example"
OTHER = "https://evil.example"


@pytest.fixture
def cors_app(seeded_db_url: str) -> Iterator[FastAPI]:
    app = create_app(make_settings(seeded_db_url, cors_origins=[ALLOWED]))
    yield app
    app.state.engine.dispose()


def preflight(client: TestClient, origin: str, method: str = "GET") -> httpx.Response:
    return client.options(
        "/v1/facts",
        headers={"Origin": origin, "Access-Control-Request-Method": method},
    )


def test_cors_preflight_allows_only_the_configured_origin(cors_app: FastAPI) -> None:
    with TestClient(cors_app) as client:
        allowed = preflight(client, ALLOWED)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        assert "GET" in allowed.headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in allowed.headers

        other = preflight(client, OTHER)
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers

        # Writes are not offered cross-origin at all.
        assert preflight(client, ALLOWED, "POST").status_code == 400


@pytest.mark.parametrize("path", ["/v1/facts", f"/v1/facts/{SEED_FACT}", "/v1/changes"])
def test_cors_simple_requests_carry_exactly_the_configured_origin(
    cors_app: FastAPI, path: str
) -> None:
    """Asked first from the allowed origin and then from another, three times over (so the
    later answers may come from a response cache): the other origin never gets an
    Access-Control-Allow-Origin, and no header piles up."""
    with TestClient(cors_app) as client:
        for _ in range(3):
            allowed = client.get(path, headers={"Origin": ALLOWED})
            assert allowed.status_code == 200
            assert allowed.headers.get_list("access-control-allow-origin") == [ALLOWED]
            vary = [v.strip() for v in allowed.headers["vary"].split(",")]
            assert len(vary) == len(set(vary)), allowed.headers["vary"]

            other = client.get(path, headers={"Origin": OTHER})
            assert other.status_code == 200  # the server answers; the browser withholds it
            assert "access-control-allow-origin" not in other.headers, other.headers

            plain = client.get(path)
            assert "access-control-allow-origin" not in plain.headers


def test_cors_default_allows_any_origin_without_credentials(seeded_db_url: str) -> None:
    app = create_app(make_settings(seeded_db_url))
    try:
        with TestClient(app) as client:
            response = client.get("/v1/facts", headers={"Origin": OTHER})
            assert response.headers["access-control-allow-origin"] == "*"
            assert "access-control-allow-credentials" not in response.headers
    finally:
        app.state.engine.dispose()


# --- read access ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/facts",
        f"/v1/facts/{SEED_FACT}",
        f"/v1/sources/{SOURCE_ID}",
        "/v1/export/facts.ndjson",
        "/",
        "/pairs/AZE-CHN",
        f"/sources/{SOURCE_ID}",
    ],
)
def test_required_read_keys_cover_every_way_to_the_data(
    fresh_db_url: str, read_key: str, path: str
) -> None:
    """With ECONFACTS_REQUIRE_KEY_FOR_READS the data is not served without a key: not by
    the API, not by the HTML pages."""
    app = create_app(make_settings(fresh_db_url, require_key_for_reads=True))
    try:
        with TestClient(app) as client:
            assert client.get(path).status_code == 401
            with_key = client.get(path, headers={"Authorization": f"Bearer {read_key}"})
            assert with_key.status_code == 200
    finally:
        app.state.engine.dispose()


@pytest.mark.parametrize("path", ["/v1/facts", f"/v1/facts/{SEED_FACT}", "/v1/changes"])
def test_a_bad_or_revoked_key_is_refused_even_on_repeated_reads(
    fresh_db_url: str, path: str
) -> None:
    """Public reads answer anonymous callers, but a key that is sent must be valid: a revoked
    key gets 401 every time, also when the same GET was answered a moment ago."""
    from sqlmodel import Session

    from app.auth.service import revoke_key
    from app.db import make_engine

    key = create_api_key(fresh_db_url, "leaver", "read")
    app = create_app(make_settings(fresh_db_url))
    try:
        with TestClient(app) as client:
            auth = {"Authorization": f"Bearer {key}"}
            assert client.get(path, headers=auth).status_code == 200
            engine = make_engine(Settings(database_url=fresh_db_url))
            with Session(engine) as session:
                assert revoke_key(session, name="leaver")
                session.commit()
            engine.dispose()
            for _ in range(2):
                assert client.get(path).status_code == 200
                assert client.get(path, headers=auth).status_code == 401
                bogus = {"Authorization": "Bearer ef_0123456789ab_not-a-key"}
                assert client.get(path, headers=bogus).status_code == 401
    finally:
        app.state.engine.dispose()
