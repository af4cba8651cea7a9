"""The real thing: uvicorn in its own process, on a real port, answering httpx over TCP."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import LiveServer, seeded_copy

SEED_FILE = Path(__file__).resolve().parent.parent / "app/seed/data/trend-4036385.yaml"
SEED = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
PAIR_FACTS = {
    f["id"] for f in SEED["facts"] if {f["subject"], f.get("counterpart")} == {"AZE", "CHN"}
}
LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


@pytest.fixture(scope="module")
def live_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server per backend for this module: its tests only read (conftest's
    `live_server`, a server on a fresh database per test, is for tests that write)."""
    db = seeded_copy(backend, tmp_path_factory.mktemp("live"), tmp_path_factory)
    server = LiveServer(db.url)
    yield server
    server.stop()
    db.drop()


def test_live_server_serves_the_pair_query(live_server: LiveServer) -> None:
    """The seeded pair is served over a real socket, the same either way round."""
    with httpx.Client(base_url=live_server.base_url, timeout=10) as http:
        forward = http.get("/v1/facts", params={"country": "CHN", "counterpart": "AZE"})
        backward = http.get("/v1/facts", params={"country": "az", "counterpart": "cn"})
    assert forward.status_code == backward.status_code == 200
    assert forward.headers["content-type"] == "application/json"
    ids = [f["id"] for f in forward.json()["items"]]
    assert set(ids) == PAIR_FACTS
    assert [f["id"] for f in backward.json()["items"]] == ids


def test_live_server_etag_round_trip(live_server: LiveServer) -> None:
    """A real client's conditional GET gets a 304 with no body."""
    with httpx.Client(base_url=live_server.base_url, timeout=10) as http:
        first = http.get("/v1/facts/aze-chn-investment-chn-to-aze-since-1995")
        assert first.status_code == 200
        etag = first.headers["etag"]
        again = http.get(
            "/v1/facts/aze-chn-investment-chn-to-aze-since-1995",
            headers={"If-None-Match": etag},
        )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


def test_live_server_404_is_problem_json(live_server: LiveServer) -> None:
    """Errors leave the real server as problem+json too."""
    response = httpx.get(f"{live_server.base_url}/v1/facts/no-such-fact", timeout=10)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 404
    assert {"type", "title", "detail"} <= set(problem)


def test_live_server_link_header_is_followable(live_server: LiveServer) -> None:
    """The Link header is an absolute URL on this server that a client can simply follow."""
    seen: list[str] = []
    url: str | None = f"{live_server.base_url}/v1/facts?limit=5&sort=id"
    with httpx.Client(timeout=10) as http:
        while url:
            response = http.get(url)
            assert response.status_code == 200
            seen.extend(f["id"] for f in response.json()["items"])
            match = LINK_NEXT.search(response.headers.get("link", ""))
            url = match.group(1) if match else None
            if url:
                assert url.startswith(live_server.base_url)
            assert len(seen) <= 100
    assert seen == sorted(f["id"] for f in SEED["facts"])


def test_live_server_readiness(live_server: LiveServer) -> None:
    """The process reports ready on its migrated database."""
    response = httpx.get(f"{live_server.base_url}/readyz", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
