"""Idempotency-Key on creates: a retry gets the first answer back and creates nothing; a key
reused for another request is refused; keys belong to the API key that sent them."""

from pathlib import Path
from typing import Any

import httpx
from conftest import create_api_key
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
SOURCE_TEXT = (ROOT / "app/seed/data/trend-4036385.txt").read_text(encoding="utf-8")
PROBLEM_JSON = "application/problem+json"
ALL_STATUSES = [("status", s) for s in ("published", "retracted", "draft", "rejected")]


def span(phrase: str) -> dict[str, Any]:
    start = SOURCE_TEXT.index(phrase)
    return {
        "source_id": "trend-4036385",
        "start": start,
        "end": start + len(phrase),
        "text": phrase,
    }


FACT = {
    "kind": "investment",
    "statement": "Chinese companies are expected to keep investing in Azerbaijan.",
    "subject": "CHN",
    "counterpart": "AZE",
    "direction": "subject_to_counterpart",
    "evidence": span(
        "Chinese companies are expected to continue investing in Azerbaijan’s economy"
    ),
}
BODIES = {
    "facts": FACT,
    "quotes": {
        "speaker": "azer-allahveranov",
        "evidence": span("For 33 years, our relations have consistently developed"),
    },
    "agreements": {
        "title": "Joint declaration",
        "statement": "Azerbaijan and China signed a joint declaration.",
        "parties": ["AZE", "CHN"],
        "evidence": span("The joint declaration signed between our countries"),
    },
    "entities": {"kind": "organization", "name": "Asian Infrastructure Investment Bank"},
    "sources": {
        "outlet": "trend",
        "title": "Chinese investment in Azerbaijan reaches $942.3 million",
        "published": "2025-06-02",
        "text": "BAKU, Azerbaijan, June 2. Chinese companies have invested $942.3 million in "
        "Azerbaijan's economy since 1995, the Ministry of Economy said.",
    },
}


def post(
    client: TestClient, collection: str, body: dict[str, Any], key: str | None, api_key: str
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_key}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/v1/{collection}", json=body, headers=headers)


def ids(client: TestClient, path: str, params: list[tuple[str, str]] | None = None) -> list[str]:
    page = client.get(path, params=[("limit", "500"), *(params or [])]).json()
    assert page["next"] is None
    return sorted(item["id"] for item in page["items"])


def state(client: TestClient) -> dict[str, Any]:
    """Every record a create could add, and the change feed."""
    feed = client.get("/v1/changes", params={"limit": 500}).json()
    assert feed["has_more"] is False
    return {
        "facts": ids(client, "/v1/facts", ALL_STATUSES),
        "quotes": ids(client, "/v1/quotes", ALL_STATUSES),
        "entities": ids(client, "/v1/entities"),
        "sources": ids(client, "/v1/sources"),
        "changes": feed["items"],
    }


def created_id(response: httpx.Response) -> str:
    body = response.json()
    return str(body.get("source", body)["id"])


def test_retry_replays_the_first_response(fresh_client: TestClient, write_key: str) -> None:
    """For every create: same key, same body gives the same status, body, Location and ETag,
    marked Idempotent-Replayed, and no second record or change."""
    for collection, body in BODIES.items():
        before = state(fresh_client)
        key = f"retry-{collection}"
        first = post(fresh_client, collection, body, key, write_key)
        assert first.status_code == 201, (collection, first.text)
        assert first.headers.get("idempotent-replayed") is None, collection
        after_first = state(fresh_client)
        assert len(after_first["changes"]) > len(before["changes"]), collection
        for _ in range(2):
            again = post(fresh_client, collection, body, key, write_key)
            assert again.status_code == 201, collection
            assert again.json() == first.json(), collection
            assert again.headers["location"] == first.headers["location"], collection
            assert again.headers["etag"] == first.headers["etag"], collection
            assert again.headers["idempotent-replayed"] == "true", collection
        assert state(fresh_client) == after_first, collection


def test_without_a_key_a_retry_creates_again(fresh_client: TestClient, write_key: str) -> None:
    """The control: without Idempotency-Key, two identical POSTs are two facts."""
    first = post(fresh_client, "facts", FACT, None, write_key)
    second = post(fresh_client, "facts", FACT, None, write_key)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_same_key_with_another_body_is_422(fresh_client: TestClient, write_key: str) -> None:
    """A key reused for a different request is refused, writes nothing, and the first
    request's replay still works."""
    first = post(fresh_client, "facts", FACT, "k-1", write_key)
    assert first.status_code == 201
    before = state(fresh_client)
    for collection, body in (
        ("facts", {**FACT, "statement": "Another statement."}),
        ("sources", BODIES["sources"]),
    ):
        reused = post(fresh_client, collection, body, "k-1", write_key)
        assert reused.status_code == 422, reused.text
        assert reused.headers["content-type"] == PROBLEM_JSON
        assert reused.json()["code"] == "idempotency_key_reused"
        assert reused.headers.get("idempotent-replayed") is None
    assert state(fresh_client) == before
    replay = post(fresh_client, "facts", FACT, "k-1", write_key)
    assert (replay.status_code, replay.json()) == (201, first.json())


def test_keys_are_scoped_per_api_key(fresh_db_url: str, fresh_client: TestClient) -> None:
    """Another write key with the same Idempotency-Key gets its own record, and each key
    replays its own."""
    desk = create_api_key(fresh_db_url, "desk", "write")
    wire = create_api_key(fresh_db_url, "wire", "write")
    before = state(fresh_client)
    mine = post(fresh_client, "facts", FACT, "shared-key", desk)
    theirs = post(fresh_client, "facts", FACT, "shared-key", wire)
    assert mine.status_code == theirs.status_code == 201
    assert theirs.headers.get("idempotent-replayed") is None
    assert mine.json()["id"] != theirs.json()["id"]
    after = state(fresh_client)
    assert after["facts"] == sorted([*before["facts"], mine.json()["id"], theirs.json()["id"]])
    new = after["changes"][len(before["changes"]) :]
    assert [(c["id"], c["actor"]) for c in new] == [
        (mine.json()["id"], "desk"),
        (theirs.json()["id"], "wire"),
    ]
    for api_key, expected in ((desk, mine), (wire, theirs)):
        replay = post(fresh_client, "facts", FACT, "shared-key", api_key)
        assert replay.json() == expected.json()
        assert replay.headers["idempotent-replayed"] == "true"
    assert state(fresh_client) == after


def test_a_failed_request_does_not_use_up_its_key(fresh_client: TestClient, write_key: str) -> None:
    """A refused create stores nothing, so the corrected retry with the same key creates."""
    before = state(fresh_client)
    broken = {**FACT, "evidence": {**FACT["evidence"], "text": "not in the source"}}
    refused = post(fresh_client, "facts", broken, "fix-and-retry", write_key)
    assert refused.status_code == 422
    assert state(fresh_client) == before
    fixed = post(fresh_client, "facts", FACT, "fix-and-retry", write_key)
    assert fixed.status_code == 201, fixed.text
    assert fixed.headers.get("idempotent-replayed") is None
    assert created_id(fixed) not in before["facts"]


def test_replay_after_a_correction_returns_the_original_answer(
    fresh_client: TestClient, write_key: str
) -> None:
    """A late retry gets the stored first response, not the record's current state, and does
    not undo the correction."""
    first = post(fresh_client, "facts", FACT, "late-retry", write_key)
    path = first.headers["location"]
    patched = fresh_client.patch(
        path,
        json={"statement": "Corrected."},
        headers={"Authorization": f"Bearer {write_key}", "If-Match": first.headers["etag"]},
    )
    assert patched.status_code == 200
    replay = post(fresh_client, "facts", FACT, "late-retry", write_key)
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert fresh_client.get(path).json() == patched.json()


def test_source_text_already_stored_replays_its_200(
    fresh_client: TestClient, write_key: str
) -> None:
    """A keyed POST of a text that is already stored answers 200, and its replay does too."""
    body = BODIES["sources"]
    assert post(fresh_client, "sources", body, None, write_key).status_code == 201
    before = state(fresh_client)
    first = post(fresh_client, "sources", {**body, "title": "Same text"}, "dup", write_key)
    again = post(fresh_client, "sources", {**body, "title": "Same text"}, "dup", write_key)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert state(fresh_client) == before
