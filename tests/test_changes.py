"""GET /v1/changes: every write in commit order, resumable from an opaque signed position,
so a client syncs by polling with the `next` it last got."""

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
SEED = yaml.safe_load((ROOT / "app/seed/data/trend-4036385.yaml").read_text(encoding="utf-8"))
SOURCE_TEXT = (ROOT / "app/seed/data/trend-4036385.txt").read_text(encoding="utf-8")
PROBLEM_JSON = "application/problem+json"
COLLECTION = {"fact": "facts", "quote": "quotes", "entity": "entities", "source": "sources"}
SEED_CREATES = (
    {("entity", str(e["id"])) for e in SEED["entities"]}
    | {("source", SEED["source"]["id"])}
    | {("fact", f["id"]) for f in SEED["facts"]}
    | {("quote", q["id"]) for q in SEED["quotes"]}
)
FACT = "aze-chn-investment-chn-to-aze-since-1995"


def span(phrase: str) -> dict[str, Any]:
    start = SOURCE_TEXT.index(phrase)
    return {
        "source_id": "trend-4036385",
        "start": start,
        "end": start + len(phrase),
        "text": phrase,
    }


def page(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/changes", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def follow(client: TestClient, since: str | None = None, **params: Any) -> tuple[list[Any], str]:
    """Every change after `since`, page by page; returns them and the position after them."""
    items: list[dict[str, Any]] = []
    for _ in range(1000):
        query = {**params, **({"since": since} if since is not None else {})}
        body = page(client, **query)
        items.extend(body["items"])
        since = body["next"]
        if not body["has_more"]:
            assert since is not None
            return items, since
        assert body["items"], "has_more with an empty page"
    raise AssertionError("the feed never ended")


def key(change: dict[str, Any]) -> tuple[str, str, int, str, str]:
    return (change["resource"], change["id"], change["revision"], change["action"], change["actor"])


def write(client: TestClient, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {}
    if method == "PATCH" or path.endswith("/retract"):
        headers["If-Match"] = client.get(path.removesuffix("/retract")).headers["etag"]
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def assert_bad_since(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [p["name"] for p in response.json()["invalid_params"]] == ["since"]


def test_from_the_start_the_feed_lists_the_seed(client: TestClient) -> None:
    """With no `since`, the feed starts with the seed's creations, each once, by `seed`."""
    body = page(client, limit=500)
    assert body["has_more"] is False
    items = body["items"]
    assert {(c["resource"], c["id"]) for c in items} == SEED_CREATES
    assert len(items) == len(SEED_CREATES)
    for change in items:
        assert (change["action"], change["revision"], change["actor"]) == ("create", 1, "seed")
        assert change["href"] == f"/v1/{COLLECTION[change['resource']]}/{change['id']}"
        assert client.get(change["href"]).status_code == 200
    times = [c["at"] for c in items]
    assert times == sorted(times)


@pytest.mark.parametrize("limit", [1, 3, 7])
def test_paging_gives_every_change_once_in_order(client: TestClient, limit: int) -> None:
    """Following `next` with a small page size yields the same changes, in the same order,
    as one big page: none skipped, none repeated; only the last page says has_more=false."""
    everything = page(client, limit=500)["items"]
    paged, position = follow(client, limit=limit)
    assert paged == everything
    empty = page(client, since=position, limit=limit)
    assert (empty["items"], empty["has_more"]) == ([], False)
    assert empty["next"] == position


def test_polling_from_next_returns_exactly_the_new_changes(writer: TestClient) -> None:
    """After new writes, polling from the stored `next` returns exactly them, in order, with
    has_more while more are waiting; then nothing until the next write."""
    _, position = follow(writer, limit=500)
    quiet = page(writer, since=position)
    assert (quiet["items"], quiet["has_more"], quiet["next"]) == ([], False, position)

    fact = write(
        writer,
        "POST",
        "/v1/facts",
        {
            "kind": "investment",
            "statement": "Chinese companies are expected to keep investing in Azerbaijan.",
            "subject": "CHN",
            "counterpart": "AZE",
            "evidence": span(
                "Chinese companies are expected to continue investing in Azerbaijan’s economy"
            ),
        },
    )
    path = f"/v1/facts/{fact['id']}"
    write(writer, "PATCH", path, {"statement": "Chinese firms will keep investing."})
    write(writer, "POST", f"{path}/retract", {"reason": "speculative"})
    write(writer, "PATCH", "/v1/entities/sco", {"description": "Founded in 2001."})
    write(writer, "POST", "/v1/quotes/alizadeh-energy-smart-city/retract", {"reason": "dup"})
    expected = [
        ("fact", fact["id"], 1, "create", "desk"),
        ("fact", fact["id"], 2, "update", "desk"),
        ("fact", fact["id"], 3, "retract", "desk"),
        ("entity", "sco", 2, "update", "desk"),
        ("quote", "alizadeh-energy-smart-city", 2, "retract", "desk"),
    ]

    first = page(writer, since=position, limit=2)
    assert [key(c) for c in first["items"]] == expected[:2]
    assert first["has_more"] is True
    rest, end = follow(writer, first["next"], limit=2)
    assert [key(c) for c in rest] == expected[2:]
    assert [key(c) for c in follow(writer, position, limit=500)[0]] == expected
    assert page(writer, since=end)["items"] == []

    facts_only, _ = follow(writer, position, resource="fact")
    assert [key(c) for c in facts_only] == expected[:3]


def test_resource_filter(client: TestClient) -> None:
    """`resource` keeps only those kinds of record, and pages like the whole feed."""
    facts, _ = follow(client, resource="fact", limit=4)
    assert {(c["resource"], c["id"]) for c in facts} == {c for c in SEED_CREATES if c[0] == "fact"}
    assert len(facts) == len({c["id"] for c in facts})
    both, _ = follow(client, resource=["fact", "quote"], limit=500)
    assert {c["resource"] for c in both} == {"fact", "quote"}
    assert len(both) == len([c for c in SEED_CREATES if c[0] in ("fact", "quote")])
    bad = client.get("/v1/changes", params={"resource": "banana"})
    assert bad.status_code in (400, 422)
    assert bad.headers["content-type"] == PROBLEM_JSON


def test_agreement_retraction_is_a_fact_change(writer: TestClient) -> None:
    """Agreements are facts: retracting one appears in the feed as a fact change, and the
    feed keeps working."""
    _, position = follow(writer, limit=500)
    agreement = "aze-chn-agreement-beijing-forum-2019"
    write(writer, "POST", f"/v1/agreements/{agreement}/retract", {"reason": "duplicate"})
    response = writer.get("/v1/changes", params={"since": position})
    assert response.status_code == 200, response.text
    assert [key(c) for c in response.json()["items"]] == [("fact", agreement, 2, "retract", "desk")]
    assert [c["id"] for c in follow(writer, position, resource="fact")[0]] == [agreement]


def _tampered(token: str) -> list[str]:
    payload, signature = token.split(".", 1)
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = dict(data, k=int(data["k"]) - 5)
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    return [
        f"{forged_payload}.{signature}",  # moved back, old signature
        f"{flipped}.{signature}",
        f"{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        payload,
        "not-a-position",
        "",
    ]


def test_tampered_since_is_400(client: TestClient) -> None:
    """A `since` the API did not issue, or changed, or made for another list, is 400."""
    token = page(client, limit=5)["next"]
    for bad in _tampered(token):
        assert_bad_since(client.get("/v1/changes", params={"since": bad}))
    facts_cursor = client.get("/v1/facts", params={"limit": 2}).json()["next"]
    assert_bad_since(client.get("/v1/changes", params={"since": facts_cursor}))


@pytest.mark.parametrize("limit", ["0", "-1", "501", "many"])
def test_bad_limit_is_400(client: TestClient, limit: str) -> None:
    """Page sizes outside 1..500 are refused, naming limit."""
    response = client.get("/v1/changes", params={"limit": limit})
    assert response.status_code in (400, 422)
    assert "limit" in [p["name"] for p in response.json()["invalid_params"]]
