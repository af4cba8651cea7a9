"""API keys: issued and revoked by the CLI, stored only hashed, required for writes (and for
reads when the server says so), with 401/403 as problem+json."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Database, create_api_key, make_settings, migrated_and_seeded
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.config import Settings
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "econfacts"
KEY_LINE = re.compile(r"ef_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")
PROBLEM_JSON = "application/problem+json"
FACT_ID = "aze-chn-investment-chn-to-aze-since-1995"
SOURCE_TEXT = (ROOT / "app/seed/data/trend-4036385.txt").read_text(encoding="utf-8")


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real `econfacts` command against the test database."""
    env = {**os.environ, "ECONFACTS_DATABASE_URL": database_url, "ECONFACTS_ENVIRONMENT": "test"}
    return subprocess.run(
        [str(CLI), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def cli_create_key(database_url: str, name: str, scope: str) -> str:
    result = cli(database_url, "keys", "create", "--name", name, "--scope", scope)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines, "keys create printed nothing on stdout"
    key = lines[-1]
    assert KEY_LINE.fullmatch(key), f"the last stdout line is not a key alone: {key!r}"
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def span(phrase: str) -> dict[str, object]:
    start = SOURCE_TEXT.index(phrase)
    return {
        "source_id": "trend-4036385",
        "start": start,
        "end": start + len(phrase),
        "text": phrase,
    }


def entity_body(name: str) -> dict[str, object]:
    return {"kind": "organization", "name": name}


def feed_length(client: TestClient) -> int:
    response = client.get("/v1/changes", params={"limit": 500})
    assert response.status_code == 200
    assert response.json()["has_more"] is False
    return len(response.json()["items"])


def assert_problem(response: object, status: int, code: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM_JSON  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code
    return body


def write_requests(client: TestClient) -> list[tuple[str, str, dict[str, object], dict[str, str]]]:
    """One valid request for every kind of write, so only the key decides the outcome."""
    etag = client.get(f"/v1/facts/{FACT_ID}").headers["etag"]
    quote_etag = client.get("/v1/quotes/alizadeh-energy-smart-city").headers["etag"]
    fact = {
        "kind": "investment",
        "statement": "Chinese companies are expected to keep investing in Azerbaijan.",
        "subject": "CHN",
        "counterpart": "AZE",
        "evidence": span(
            "Chinese companies are expected to continue investing in Azerbaijan’s economy"
        ),
    }
    source = {
        "outlet": "trend",
        "title": "A note",
        "published": "2025-05-01",
        "text": "A short article about Azerbaijan and China.",
    }
    return [
        ("POST", "/v1/facts", fact, {}),
        ("PATCH", f"/v1/facts/{FACT_ID}", {"statement": "Changed."}, {"If-Match": etag}),
        ("POST", f"/v1/facts/{FACT_ID}/retract", {"reason": "test"}, {"If-Match": etag}),
        (
            "POST",
            "/v1/quotes/alizadeh-energy-smart-city/retract",
            {"reason": "test"},
            {"If-Match": quote_etag},
        ),
        ("POST", "/v1/entities", entity_body("Asian Development Bank"), {}),
        ("POST", "/v1/sources", source, {}),
    ]


# --- the CLI --------------------------------------------------------------------------------


def test_cli_create_prints_the_key_alone_and_it_works(
    fresh_db_url: str, fresh_client: TestClient
) -> None:
    """`keys create` prints a working key alone on the last stdout line; its name is the actor."""
    key = cli_create_key(fresh_db_url, "desk", "write")
    response = fresh_client.post(
        "/v1/entities", json=entity_body("Asian Development Bank"), headers=bearer(key)
    )
    assert response.status_code == 201, response.text
    last = fresh_client.get("/v1/changes", params={"limit": 500}).json()["items"][-1]
    assert (last["id"], last["actor"]) == ("asian-development-bank", "desk")


def test_cli_list_never_prints_the_secret(fresh_db_url: str) -> None:
    """`keys list` shows names, scopes and prefixes, never a usable key."""
    keys = {
        "desk": create_api_key(fresh_db_url, "desk", "write"),
        "dashboard": create_api_key(fresh_db_url, "dashboard", "read"),
    }
    result = cli(fresh_db_url, "keys", "list")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    for (name, key), scope in zip(keys.items(), ["write", "read"], strict=True):
        prefix, secret = key.split("_", 2)[1:]
        assert key not in output
        assert secret not in output
        line = next(line for line in lines if line.startswith(f"{name}\t"))
        assert scope in line.split("\t")
        assert prefix in line


def test_cli_revoke_makes_the_key_401(fresh_db_url: str, fresh_client: TestClient) -> None:
    """After `keys revoke`, the key is refused with 401 and nothing is written."""
    key = create_api_key(fresh_db_url, "desk", "write")
    first = fresh_client.post("/v1/entities", json=entity_body("First Bank"), headers=bearer(key))
    assert first.status_code == 201
    result = cli(fresh_db_url, "keys", "revoke", "desk")
    assert result.returncode == 0, result.stderr
    before = feed_length(fresh_client)
    refused = fresh_client.post(
        "/v1/entities", json=entity_body("Second Bank"), headers=bearer(key)
    )
    body = assert_problem(refused, 401, "unauthorized")
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert "revoked" in str(body["detail"])
    assert feed_length(fresh_client) == before
    listed = cli(fresh_db_url, "keys", "list").stdout
    revoked_column = listed.strip().split("\t")[-1]
    assert revoked_column != "-", "keys list should show when the key was revoked"


def test_keys_are_stored_hashed(fresh_db_url: str) -> None:
    """No column of the api_key table holds the key, or its secret part."""
    key = create_api_key(fresh_db_url, "desk", "write")
    secret = key.split("_", 2)[2]
    engine = create_engine(Settings(database_url=fresh_db_url).database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_key")).mappings().all()
    engine.dispose()
    assert len(rows) == 1
    values = [str(v) for v in rows[0].values() if v is not None]
    assert all(v != key for v in values)
    assert all(secret not in v for v in values)


# --- reads ----------------------------------------------------------------------------------


READ_PATHS = [
    "/v1/facts",
    f"/v1/facts/{FACT_ID}",
    "/v1/quotes",
    "/v1/agreements",
    "/v1/entities",
    "/v1/sources/trend-4036385",
    "/v1/changes",
]


def test_reads_are_public_by_default(client: TestClient) -> None:
    """Without ECONFACTS_REQUIRE_KEY_FOR_READS a GET needs no key."""
    for path in READ_PATHS:
        assert client.get(path).status_code == 200, path


@pytest.fixture
def keyed_reads(fresh_db_url: str) -> Iterator[TestClient]:
    application = create_app(make_settings(fresh_db_url, require_key_for_reads=True))
    with TestClient(application) as client:
        yield client
    application.state.engine.dispose()


def test_reads_need_a_key_when_required(keyed_reads: TestClient, read_key: str) -> None:
    """With require_key_for_reads, a GET without a key is 401; a read key gets 200."""
    for path in READ_PATHS:
        refused = keyed_reads.get(path)
        assert_problem(refused, 401, "unauthorized")
        assert refused.headers["www-authenticate"].startswith("Bearer"), path
        assert_problem(keyed_reads.get(path, headers=bearer("ef_0000_wrong")), 401)
        assert keyed_reads.get(path, headers=bearer(read_key)).status_code == 200, path


# --- writes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusing:
    client: TestClient
    write_key: str
    read_key: str


@pytest.fixture(scope="module")
def refusing(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Refusing]:
    """One database for the refusal tests: a correct app writes nothing in them, and each
    test checks that it did not."""
    db = Database(backend, tmp_path_factory.mktemp("auth"))
    migrated_and_seeded(db.url)
    write_key = create_api_key(db.url, "desk", "write")
    read_key = create_api_key(db.url, "dashboard", "read")
    application = create_app(make_settings(db.url))
    with TestClient(application) as client:
        yield Refusing(client, write_key, read_key)
    application.state.engine.dispose()
    db.drop()


def test_writes_without_a_key_are_401(refusing: Refusing) -> None:
    """Every write without a key (or with a non-Bearer scheme) is 401 with WWW-Authenticate."""
    client = refusing.client
    before = feed_length(client)
    for method, path, body, headers in write_requests(client):
        for auth in ({}, {"Authorization": "Token abc"}):
            response = client.request(method, path, json=body, headers={**headers, **auth})
            assert_problem(response, 401, "unauthorized")
            assert response.headers["www-authenticate"].startswith("Bearer"), path
    assert feed_length(client) == before


def test_writes_with_a_bad_key_are_401(refusing: Refusing) -> None:
    """Unknown, malformed and tampered keys are all 401, and nothing is written."""
    client, write_key = refusing.client, refusing.write_key
    prefix = write_key.split("_")[1]
    bad_keys = [
        "not-a-key",
        "ef_onlytwo",
        "ef_000000000000_" + "A" * 43,
        f"ef_{prefix}_" + "A" * 43,  # a real prefix with the wrong secret
        write_key + "x",
    ]
    before = feed_length(client)
    for method, path, body, headers in write_requests(client):
        for bad in bad_keys:
            response = client.request(method, path, json=body, headers={**headers, **bearer(bad)})
            assert_problem(response, 401, "unauthorized")
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert feed_length(client) == before


def test_writes_with_a_read_key_are_403(refusing: Refusing) -> None:
    """A valid key of scope read may not write: 403 problem+json, nothing written."""
    client = refusing.client
    before = feed_length(client)
    for method, path, body, headers in write_requests(client):
        response = client.request(
            method, path, json=body, headers={**headers, **bearer(refusing.read_key)}
        )
        assert_problem(response, 403, "forbidden")
    assert feed_length(client) == before


def test_writes_with_write_and_admin_keys_succeed(
    fresh_db_url: str, fresh_client: TestClient
) -> None:
    """The same requests pass with a write key, and an admin key can write too."""
    write = create_api_key(fresh_db_url, "desk", "write")
    admin = create_api_key(fresh_db_url, "chief", "admin")
    ok = fresh_client.post("/v1/entities", json=entity_body("Bank A"), headers=bearer(write))
    assert ok.status_code == 201
    ok = fresh_client.post("/v1/entities", json=entity_body("Bank B"), headers=bearer(admin))
    assert ok.status_code == 201
    actors = [c["actor"] for c in fresh_client.get("/v1/changes?limit=500").json()["items"][-2:]]
    assert actors == ["desk", "chief"]
