"""Article ingestion through the real app on real databases: POST /v1/sources stores the text
and its draft candidates, editors review the drafts, bad input stores nothing, and the
`econfacts ingest` / `eval-extraction` commands do the same from the shell.

The seed article is ingested into a migrated but unseeded database, so every draft, person
and event comes from the extractor, never from the curated seed.
"""

import calendar
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from conftest import Database, create_api_key, make_settings
from fastapi.testclient import TestClient

from app.db.migrate import upgrade
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
SEED = yaml.safe_load((ROOT / "app/seed/data/trend-4036385.yaml").read_text(encoding="utf-8"))
SEED_TEXT = (ROOT / "app/seed/data/trend-4036385.txt").read_text(encoding="utf-8")
NAMES = {e["id"]: e.get("name", e["id"]) for e in SEED["entities"]}
OTHER = ROOT / "tests/data/kartli-news-geo-jpn-20250220.txt"
PROBLEM_JSON = "application/problem+json"
ECONFACTS = Path(sys.executable).with_name("econfacts")
KINDS = [
    "agreement",
    "diplomatic_event",
    "investment",
    "partner_rank",
    "quote",
    "relationship_status",
    "trade_growth",
    "trade_turnover",
]


@dataclass
class Desk:
    """An unseeded database with one outlet, and a client holding a write key ('desk')."""

    client: TestClient
    url: str
    outlet: str


@pytest.fixture
def desk(empty_db: Database) -> Iterator[Desk]:
    upgrade(empty_db.url)
    key = create_api_key(empty_db.url, "desk", "write")
    application = create_app(make_settings(empty_db.url))
    with TestClient(application) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        outlet = client.post(
            "/v1/entities", json={"kind": "organization", "name": "Trend News Agency"}
        )
        assert outlet.status_code == 201, outlet.text
        yield Desk(client, empty_db.url, outlet.json()["id"])
    application.state.engine.dispose()


def source_body(outlet_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "outlet": outlet_id,
        "url": "https://en.trend.az/azerbaijan/politics/4036385.html",
        "title": SEED["source"]["title"],
        "published": "2025-04-28",
        "dateline": "Baku",
        "language": "en",
        "text": SEED_TEXT,
    }
    body.update(changes)
    return body


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def every(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    body = ok(client.get(path, params={"limit": 500, **params}))
    assert body["next"] is None
    return list(body["items"])


def ids(client: TestClient, path: str, **params: Any) -> set[str]:
    return {item["id"] for item in every(client, path, **params)}


def changes(client: TestClient) -> list[dict[str, Any]]:
    body = ok(client.get("/v1/changes", params={"limit": 500}))
    assert body["has_more"] is False
    return list(body["items"])


ALL_STATUSES = ["draft", "published", "rejected", "retracted"]


def state(client: TestClient) -> dict[str, Any]:
    """What an ingest could touch: sources, facts and quotes of any status, people and events,
    and the change feed."""
    return {
        "sources": ids(client, "/v1/sources"),
        "facts": ids(client, "/v1/facts", status=ALL_STATUSES),
        "quotes": ids(client, "/v1/quotes", status=ALL_STATUSES),
        "entities": ids(client, "/v1/entities"),
        "changes": changes(client),
    }


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    return problem


def invalid_names(problem: dict[str, Any]) -> set[str]:
    return {p["name"] for p in problem.get("invalid_params") or []}


def pick(facts: list[dict[str, Any]], kind: str, subject: str) -> dict[str, Any]:
    found = [f for f in facts if f["kind"] == kind and f["subject"]["id"] == subject]
    assert found, (kind, subject)
    return found[0]


def etag(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def ingest_seed(desk: Desk) -> dict[str, Any]:
    response = desk.client.post("/v1/sources", json=source_body(desk.outlet))
    body: dict[str, Any] = ok(response, 201)
    assert response.headers["location"] == f"/v1/sources/{body['source']['id']}"
    return body


# --- comparing drafts with the curated seed ---------------------------------------------------


def reduced(value: str, *, last: bool) -> date:
    """A reduced ISO date ('2019', '2024-07', '2025-04-28') as its first or last day."""
    parts = [int(p) for p in str(value).split("-")]
    if len(parts) == 3:
        return date(*parts)
    if len(parts) == 2:
        day = calendar.monthrange(*parts)[1] if last else 1
        return date(parts[0], parts[1], day)
    return date(parts[0], 12, 31) if last else date(parts[0], 1, 1)


def gold_interval(time: dict[str, Any] | None) -> tuple[date, date] | None:
    if not time:
        return None
    if time["type"] == "date":
        return reduced(time["date"], last=False), reduced(time["date"], last=True)
    return reduced(time["start"], last=False), reduced(time["end"], last=True)


def draft_interval(time: dict[str, Any] | None) -> tuple[date, date] | None:
    if not time:
        return None
    return date.fromisoformat(time["first_day"]), date.fromisoformat(time["last_day"])


def same_fact(gold: dict[str, Any], draft: dict[str, Any]) -> bool:
    """Kind, pair, direction, value, unit, comparator, time covered and speaker all agree."""
    if (gold["kind"], gold["direction"]) != (draft["kind"], draft["direction"]):
        return False
    pair = (gold["subject"], gold.get("counterpart"))
    got = (draft["subject"]["id"], (draft["counterpart"] or {}).get("id"))
    if pair != got and (gold["direction"] != "bilateral" or pair != got[::-1]):
        return False
    quantity, found = gold.get("quantity"), draft["quantity"]
    if (quantity is None) != (found is None):
        return False
    if quantity and found:
        if Decimal(str(quantity["value"])) != Decimal(found["value"]):
            return False
        if (quantity["unit"], quantity["comparator"]) != (found["unit"], found["comparator"]):
            return False
    if gold_interval(gold.get("time")) != draft_interval(draft["time"]):
        return False
    speaker = NAMES.get(gold.get("claimed_by") or "")
    return speaker == (draft["claimed_by"] or {}).get("name")


def match(golds: list[dict[str, Any]], drafts: list[dict[str, Any]]) -> dict[str, str]:
    """Curated fact id -> the id of the draft that matches it, each draft used at most once."""
    pending = list(drafts)
    matched = {}
    for gold in golds:
        hit = next((d for d in pending if same_fact(gold, d)), None)
        if hit is not None:
            pending.remove(hit)
            matched[gold["id"]] = hit["id"]
    return matched


def overlap(a: dict[str, Any], b: dict[str, Any]) -> float:
    shared = max(0, min(a["end"], b["end"]) - max(a["start"], b["start"]))
    return shared / max(a["end"] - a["start"], b["end"] - b["start"])


# --- ingesting the seed article ---------------------------------------------------------------


def test_ingest_seed_article_into_an_unseeded_database(desk: Desk) -> None:
    """201 with the stored source and drafts that reproduce the curated facts: recall >= 0.9
    and precision >= 0.8 on kind, pair, direction, value, comparator, time and speaker."""
    body = ingest_seed(desk)
    source = body["source"]
    assert body["created"] is True
    assert source["text"] == SEED_TEXT
    assert source["sha256"] == hashlib.sha256(SEED_TEXT.encode("utf-8")).hexdigest()
    assert source["outlet"]["id"] == desk.outlet
    assert ok(desk.client.get(f"/v1/sources/{source['id']}"))["text"] == SEED_TEXT

    drafts = body["candidates"]["facts"]
    assert drafts, body
    golds = SEED["facts"]
    matched = match(golds, drafts)
    missed = [g["id"] for g in golds if g["id"] not in matched]
    assert len(matched) / len(golds) >= 0.9, f"missed: {missed}"
    assert len(matched) / len(drafts) >= 0.8, f"{len(drafts)} drafts, {len(matched)} right"


def test_drafts_are_listed_and_exact(desk: Desk) -> None:
    """Drafts are listed by status=draft (not by the default published list), each cites the
    stored text exactly, carries a confidence in [0, 1] and is revision 1 by the desk key."""
    body = ingest_seed(desk)
    source_id = body["source"]["id"]
    facts, quotes = body["candidates"]["facts"], body["candidates"]["quotes"]
    assert ids(desk.client, "/v1/facts", status="draft") == {f["id"] for f in facts}
    assert ids(desk.client, "/v1/quotes", status="draft") == {q["id"] for q in quotes}
    assert ids(desk.client, "/v1/facts") == set()
    assert ids(desk.client, "/v1/quotes") == set()
    assert ids(desk.client, "/v1/facts", status="draft", source=source_id) == {
        f["id"] for f in facts
    }
    text = ok(desk.client.get(f"/v1/sources/{source_id}"))["text"]
    for item in [*facts, *quotes]:
        evidence = item["evidence"]
        assert evidence["source_id"] == source_id
        assert text[evidence["start"] : evidence["end"]] == evidence["text"]
        assert item["status"] == "draft"
        assert item["revision"] == 1
        assert item["confidence"] is not None
        assert 0 <= item["confidence"] <= 1
    for quote in quotes:
        assert quote["text"] == quote["evidence"]["text"]
    for fact in facts:
        assert ok(desk.client.get(f"/v1/facts/{fact['id']}")) == fact
        if fact["quantity"] and fact["quantity"]["text"]:
            assert fact["quantity"]["text"] in fact["evidence"]["text"]
    creates = {(c["resource"], c["id"]) for c in changes(desk.client) if c["actor"] == "desk"}
    assert {("fact", f["id"]) for f in facts} <= creates
    assert {("quote", q["id"]) for q in quotes} <= creates
    assert ("source", source_id) in creates


def test_quotes_are_attributed(desk: Desk) -> None:
    """Every curated quote is drafted with the same words (>= 90% overlap) and speaker; no
    draft quote names anyone but the two MPs."""
    quotes = ingest_seed(desk)["candidates"]["quotes"]
    speakers = {q["speaker"]["name"] for q in quotes}
    assert speakers <= {"Arzukhan Alizadeh", "Azer Allahveranov"}, speakers
    for gold in SEED["quotes"]:
        same = [q for q in quotes if overlap(q["evidence"], gold["evidence"]) >= 0.9]
        assert len(same) == 1, gold["id"]
        assert same[0]["speaker"]["name"] == NAMES[gold["speaker"]], gold["id"]
        assert same[0]["said_to"]["id"] == desk.outlet
        assert same[0]["date"] == "2025-04-28"
    people = {e["name"]: e for e in every(desk.client, "/v1/entities", kind="person")}
    assert {"Arzukhan Alizadeh", "Azer Allahveranov"} <= set(people)


def test_quote_supports_follow_the_curation(desk: Desk) -> None:
    """A draft quote supports the drafts of the facts its curated quote supports, including
    a fact stated in the sentence that introduces the quotation with a colon ('The MP
    further highlighted that during the leaders' meeting ... was emphasized:')."""
    body = ingest_seed(desk)
    quotes = body["candidates"]["quotes"]
    matched = match(SEED["facts"], body["candidates"]["facts"])
    for gold in SEED["quotes"]:
        [same] = [q for q in quotes if overlap(q["evidence"], gold["evidence"]) >= 0.9]
        supported = {matched[f] for f in gold["supports"] if f in matched}
        assert supported <= set(same["supports"]), gold["id"]
        drafts = {d["id"] for d in body["candidates"]["facts"]}
        assert set(same["supports"]) <= drafts


def test_the_same_text_again_stores_nothing(desk: Desk) -> None:
    """The same text (even under another title) is 200, created=false, the same source and its
    drafts; no source, fact, quote, entity or change is added."""
    first = ingest_seed(desk)
    before = state(desk.client)
    for body in (source_body(desk.outlet), source_body(desk.outlet, title="Other", url=None)):
        response = desk.client.post("/v1/sources", json=body)
        again = ok(response, 200)
        assert again["created"] is False
        assert again["source"]["id"] == first["source"]["id"]
        assert response.headers["location"] == f"/v1/sources/{first['source']['id']}"
        assert {f["id"] for f in again["candidates"]["facts"]} == {
            f["id"] for f in first["candidates"]["facts"]
        }
        assert {q["id"] for q in again["candidates"]["quotes"]} == {
            q["id"] for q in first["candidates"]["quotes"]
        }
    assert state(desk.client) == before


def test_known_people_and_countries_are_reused(writer: TestClient) -> None:
    """In a seeded database a new article about a known MP cites the existing person entity
    (by name) and creates no duplicate people or countries."""
    before = ids(writer, "/v1/entities")
    text = (
        "BAKU, May 2. China has invested nearly $1.5 billion in Azerbaijan's economy since "
        "1995, MP Arzukhan Alizadeh told Trend.\n\n"
        '"Trade between Azerbaijan and China has doubled over the last five years, surpassing '
        '$4 billion," Alizadeh said.'
    )
    body = {"outlet": "trend", "title": "Alizadeh on trade", "published": "2025-05-02"}
    created = ok(writer.post("/v1/sources", json={**body, "text": text}), 201)
    facts, quotes = created["candidates"]["facts"], created["candidates"]["quotes"]
    assert facts and quotes
    assert {f["claimed_by"]["id"] for f in facts} == {"arzukhan-alizadeh"}
    assert {q["speaker"]["id"] for q in quotes} == {"arzukhan-alizadeh"}
    investment = pick(facts, "investment", "CHN")
    assert investment["quantity"]["value"] == "1500000000"
    assert investment["counterpart"]["id"] == "AZE"
    assert ids(writer, "/v1/entities") == before


# --- reviewing drafts ---------------------------------------------------------------------------


def test_review_facts(desk: Desk) -> None:
    """An editor corrects a draft, publishes it (a new revision by the reviewer's key, now in
    the default list) and rejects another (kept, but out of the default lists)."""
    facts = ingest_seed(desk)["candidates"]["facts"]
    reviewer = {"Authorization": f"Bearer {create_api_key(desk.url, 'reviewer', 'write')}"}
    client = desk.client
    draft = pick(facts, "investment", "CHN")
    path = f"/v1/facts/{draft['id']}"

    stale = etag(client, path)
    statement = "Chinese companies have invested nearly $1 billion in Azerbaijan since 1995."
    patched = ok(
        client.patch(
            path,
            json={"statement": statement, "reason": "house style"},
            headers={**reviewer, "If-Match": stale},
        )
    )
    assert (patched["statement"], patched["status"], patched["revision"]) == (
        statement,
        "draft",
        2,
    )

    before = state(client)
    assert_problem(
        client.post(f"{path}/publish", json={"reason": "checked"}, headers=reviewer), 428
    )
    assert_problem(
        client.post(
            f"{path}/publish", json={"reason": "checked"}, headers={**reviewer, "If-Match": stale}
        ),
        412,
    )
    assert state(client) == before

    published = ok(
        client.post(
            f"{path}/publish",
            json={"reason": "checked against the article"},
            headers={**reviewer, "If-Match": etag(client, path)},
        )
    )
    assert (published["status"], published["revision"]) == ("published", 3)
    assert published["statement"] == statement
    assert published["evidence"] == draft["evidence"]
    assert draft["id"] in ids(client, "/v1/facts")
    assert draft["id"] not in ids(client, "/v1/facts", status="draft")
    revisions = ok(client.get(f"{path}/revisions"))
    assert [(r["number"], r["action"], r["actor"]) for r in revisions] == [
        (1, "create", "desk"),
        (2, "update", "reviewer"),
        (3, "publish", "reviewer"),
    ]
    assert revisions[-1]["reason"] == "checked against the article"
    assert revisions[-1]["snapshot"]["status"] == "published"
    assert revisions[0]["snapshot"]["status"] == "draft"

    again = client.post(
        f"{path}/publish",
        json={"reason": "twice"},
        headers={**reviewer, "If-Match": etag(client, path)},
    )
    assert_problem(again, 409)
    rejected_published = client.post(
        f"{path}/reject",
        json={"reason": "no"},
        headers={**reviewer, "If-Match": etag(client, path)},
    )
    assert_problem(rejected_published, 409)
    assert ok(client.get(path))["revision"] == 3

    other = pick(facts, "investment", "AZE")
    other_path = f"/v1/facts/{other['id']}"
    no_reason = client.post(
        f"{other_path}/reject", json={}, headers={**reviewer, "If-Match": etag(client, other_path)}
    )
    assert "body.reason" in invalid_names(assert_problem(no_reason, 422))
    rejected = ok(
        client.post(
            f"{other_path}/reject",
            json={"reason": "the figure is an estimate"},
            headers={**reviewer, "If-Match": etag(client, other_path)},
        )
    )
    assert (rejected["status"], rejected["revision"]) == ("rejected", 2)
    assert other["id"] not in ids(client, "/v1/facts")
    assert other["id"] not in ids(client, "/v1/facts", status="draft")
    assert other["id"] in ids(client, "/v1/facts", status="rejected")
    assert ok(client.get(other_path))["status"] == "rejected"
    last = ok(client.get(f"{other_path}/revisions"))[-1]
    assert (last["action"], last["actor"], last["reason"]) == (
        "reject",
        "reviewer",
        "the figure is an estimate",
    )
    feed = [(c["resource"], c["id"], c["action"], c["actor"]) for c in changes(client)]
    assert ("fact", draft["id"], "publish", "reviewer") in feed
    assert ("fact", other["id"], "reject", "reviewer") in feed


def test_review_quotes(desk: Desk) -> None:
    """Draft quotes are published and rejected the same way, with If-Match and a reason."""
    quotes = ingest_seed(desk)["candidates"]["quotes"]
    assert len(quotes) >= 2
    reviewer = {"Authorization": f"Bearer {create_api_key(desk.url, 'reviewer', 'write')}"}
    client = desk.client
    first, second = (f"/v1/quotes/{q['id']}" for q in quotes[:2])

    patched = ok(
        client.patch(
            first,
            json={"speaker_role": "MP", "reason": "role as printed"},
            headers={**reviewer, "If-Match": etag(client, first)},
        )
    )
    assert (patched["status"], patched["revision"]) == ("draft", 2)
    published = ok(
        client.post(
            f"{first}/publish",
            json={"reason": "verified"},
            headers={**reviewer, "If-Match": etag(client, first)},
        )
    )
    assert (published["status"], published["revision"]) == ("published", 3)
    assert published["text"] == quotes[0]["text"]
    assert published["speaker"]["name"] == quotes[0]["speaker"]["name"]
    assert quotes[0]["id"] in ids(client, "/v1/quotes")
    last = ok(client.get(f"{first}/revisions"))[-1]
    assert (last["action"], last["actor"], last["reason"]) == ("publish", "reviewer", "verified")
    assert_problem(
        client.post(
            f"{first}/publish",
            json={"reason": "again"},
            headers={**reviewer, "If-Match": etag(client, first)},
        ),
        409,
    )
    assert_problem(client.post(f"{second}/publish", json={"reason": "x"}, headers=reviewer), 428)

    rejected = ok(
        client.post(
            f"{second}/reject",
            json={"reason": "paraphrase, not a quote"},
            headers={**reviewer, "If-Match": etag(client, second)},
        )
    )
    assert (rejected["status"], rejected["revision"]) == ("rejected", 2)
    assert quotes[1]["id"] not in ids(client, "/v1/quotes")
    assert quotes[1]["id"] not in ids(client, "/v1/quotes", status="draft")
    assert quotes[1]["id"] in ids(client, "/v1/quotes", status="rejected")
    last = ok(client.get(f"{second}/revisions"))[-1]
    assert (last["action"], last["actor"]) == ("reject", "reviewer")


# --- bad input ------------------------------------------------------------------------------------


FUTURE = (date.today() + timedelta(days=400)).isoformat()
BAD_BODIES = [
    # (name, changes to the body, field the 422 names)
    ("empty-text", {"text": ""}, "body.text"),
    ("whitespace-text", {"text": " \n\t  \n"}, "body.text"),
    ("future-date", {"published": FUTURE}, "body.published"),
    ("unknown-outlet", {"outlet": "no-such-outlet"}, "body.outlet"),
    ("nul-in-text", {"text": "Azerbaijan and China\x00 signed."}, "body.text"),
    ("not-a-date", {"published": "28 April 2025"}, "body.published"),
]


@pytest.mark.parametrize(
    ("changes", "field"),
    [(c, f) for _, c, f in BAD_BODIES],
    ids=[name for name, _, _ in BAD_BODIES],
)
def test_invalid_article_is_422_and_stores_nothing(
    desk: Desk, changes: dict[str, Any], field: str
) -> None:
    """Each invalid field is a problem+json 422 that names it; nothing is stored."""
    before = state(desk.client)
    problem = assert_problem(
        desk.client.post("/v1/sources", json=source_body(desk.outlet, **changes)), 422
    )
    assert field in invalid_names(problem), problem
    assert state(desk.client) == before


def test_missing_fields_are_named(desk: Desk) -> None:
    """A body without outlet, title, published and text is 422 naming each of them."""
    before = state(desk.client)
    problem = assert_problem(desk.client.post("/v1/sources", json={"language": "en"}), 422)
    assert {"body.outlet", "body.title", "body.published", "body.text"} <= invalid_names(problem)
    assert state(desk.client) == before


def test_invalid_utf8_is_refused(desk: Desk) -> None:
    """A body that is not valid UTF-8 is a 4xx problem (not a 500), and stores nothing."""
    before = state(desk.client)
    raw = (
        b'{"outlet": "trend-news-agency", "title": "t", "published": "2025-04-28", '
        b'"text": "Azerbaijan \xff\xfe and China \xc3\x28 signed ten documents."}'
    )
    response = desk.client.post(
        "/v1/sources", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert_problem(response, response.status_code)
    assert state(desk.client) == before


def test_non_json_content_type_is_415(desk: Desk) -> None:
    """An article sent as text/plain (or form data) is 415, even if the bytes are JSON."""
    before = state(desk.client)
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = desk.client.post(
            "/v1/sources",
            content=SEED_TEXT.encode("utf-8"),
            headers={"Content-Type": content_type},
        )
        assert_problem(response, 415)
    assert state(desk.client) == before


def test_body_over_the_limit_is_413(desk: Desk) -> None:
    """With ECONFACTS_MAX_BODY_BYTES at 4096 the 4.4 kB seed article is 413 and stores
    nothing; a short article on the same app still goes through."""
    key = create_api_key(desk.url, "small", "write")
    application = create_app(make_settings(desk.url, max_body_bytes=4096))
    try:
        with TestClient(application) as small:
            small.headers["Authorization"] = f"Bearer {key}"
            before = state(desk.client)
            assert len(SEED_TEXT.encode("utf-8")) > 4096
            assert_problem(small.post("/v1/sources", json=source_body(desk.outlet)), 413)
            assert state(desk.client) == before
            short = source_body(
                desk.outlet,
                url=None,
                text="BAKU, April 28. Chinese companies have invested nearly $1 billion in "
                "Azerbaijan's economy since 1995, MP Arzukhan Alizadeh said.",
            )
            created = ok(small.post("/v1/sources", json=short), 201)
            assert created["created"] is True
    finally:
        application.state.engine.dispose()


def test_ingest_needs_a_write_key(desk: Desk) -> None:
    """Without a key, or with a read key, nothing is ingested."""
    before = state(desk.client)
    read = create_api_key(desk.url, "dashboard", "read")
    body = source_body(desk.outlet)
    anonymous = desk.client.post("/v1/sources", json=body, headers={"Authorization": ""})
    assert_problem(anonymous, 401)
    reader = desk.client.post("/v1/sources", json=body, headers={"Authorization": f"Bearer {read}"})
    assert_problem(reader, 403)
    assert state(desk.client) == before


# --- the command line -------------------------------------------------------------------------


def run(*args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    assert ECONFACTS.exists(), ECONFACTS
    env = {**os.environ, "ECONFACTS_ENVIRONMENT": "test", "ECONFACTS_LOG_LEVEL": "warning"}
    if url is not None:
        env["ECONFACTS_DATABASE_URL"] = url
    return subprocess.run(
        [str(ECONFACTS), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_ingest_a_folder_twice(desk: Desk, tmp_path: Path) -> None:
    """`econfacts ingest FOLDER` stores each .txt file with its drafts and prints one line per
    file; the second run says each is already stored and changes nothing."""
    folder = tmp_path / "articles"
    folder.mkdir()
    seed_file = folder / "trend-4036385.txt"
    other_file = folder / OTHER.name
    seed_file.write_text(SEED_TEXT, encoding="utf-8")
    other_file.write_text(OTHER.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "notes.md").write_text("not an article", encoding="utf-8")
    args = ("ingest", str(folder), "--outlet", desk.outlet, "--published", "2025-04-28")

    first = run(*args, url=desk.url)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 2, first.stdout
    stored: dict[str, str] = {}
    for line, path in zip(lines, sorted([seed_file, other_file]), strict=True):
        assert line.startswith(f"{path}: stored as "), line
        assert "draft facts" in line and "draft quotes" in line
        stored[str(path)] = line.split(" stored as ")[1].split(":")[0]

    sources = every(desk.client, "/v1/sources")
    assert {s["id"] for s in sources} == set(stored.values())
    texts = {ok(desk.client.get(f"/v1/sources/{i}"))["text"] for i in stored.values()}
    assert texts == {SEED_TEXT, OTHER.read_text(encoding="utf-8")}
    for source_id in stored.values():
        assert ids(desk.client, "/v1/facts", status="draft", source=source_id)
    before = state(desk.client)
    assert {c["actor"] for c in before["changes"][-3:]} == {"cli"}

    second = run(*args, url=desk.url)
    assert second.returncode == 0, second.stderr
    again = second.stdout.strip().splitlines()
    assert len(again) == 2, second.stdout
    for line, (path, source_id) in zip(again, sorted(stored.items()), strict=True):
        assert line.startswith(f"{path}: already stored as {source_id}:"), line
    assert state(desk.client) == before


def test_cli_ingest_refuses_an_unknown_outlet(desk: Desk, tmp_path: Path) -> None:
    """An outlet that does not exist: exit 1, the reason on stderr, nothing stored."""
    article = tmp_path / "article.txt"
    article.write_text(SEED_TEXT, encoding="utf-8")
    before = state(desk.client)
    result = run(
        "ingest",
        str(article),
        "--outlet",
        "no-such-outlet",
        "--published",
        "2025-04-28",
        url=desk.url,
    )
    assert result.returncode == 1, result.stdout
    assert "refused" in result.stderr
    assert state(desk.client) == before


def test_cli_eval_extraction_prints_the_table() -> None:
    """`econfacts eval-extraction` prints, per split, every kind's precision and recall, the
    count of targets drafted as reported figures and a reliability table."""
    result = run("eval-extraction")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "SPLIT DEV (" in out and "SPLIT TEST (" in out
    dev, test = out.split("SPLIT TEST", 1)
    for part in (dev, test):
        assert "precision" in part and "recall" in part
        assert "  all " in part
        assert "targets/forecasts drafted as reported figures:" in part
        assert "quotes with the right speaker:" in part
        assert "confidence" in part and "observed" in part
    for kind in KINDS:
        assert f"  {kind} " in dev, kind


def test_cli_eval_extraction_on_the_seed_alone() -> None:
    """Given one annotated file, it scores that file: every curated item of the seed is
    counted, and the total row is there."""
    result = run("eval-extraction", str(ROOT / "app/seed/data/trend-4036385.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("SPLIT DEV (1 articles)\n")
    table = result.stdout.split("  facts:", 1)[0]
    rows = {line.split()[0]: line.split()[1:] for line in table.strip().splitlines()[2:]}
    gold = len(SEED["facts"]) + len(SEED["quotes"])
    assert rows["all"][0] == str(gold)


def test_the_parser_is_loaded_only_when_an_article_is_ingested() -> None:
    """spaCy and its model load lazily in the ingestion path: starting the API (and serving
    readers) neither imports nor loads them; extracting an article does."""
    code = (
        "import sys\n"
        "from app.main import create_app\n"
        "create_app()\n"
        "assert 'spacy' not in sys.modules, 'spacy imported at start-up'\n"
        "from datetime import date\n"
        "from app.ingestion.extract import extract\n"
        "extract('Trade between Georgia and Japan grew, said Ahmed Khan.', date(2025, 1, 1))\n"
        "assert 'spacy' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


WIRE_WITH_TARGET = (
    "TBILISI, March 3. Trade turnover between Georgia and Japan reached $480 million in 2024, "
    "Deputy Minister Nino Kapanadze said.\n\n"
    "The two governments agreed to raise bilateral trade to $1 billion by 2030, she added.\n\n"
    "Japan provided Georgia with a loan of $100 million last year."
)


def test_a_target_in_wire_copy_is_drafted_as_a_target_with_measured_confidence(
    desk: Desk,
) -> None:
    """The goal keeps its modality and year and never becomes the pair's figure; each draft's
    confidence is the dev precision of the rule that produced it; a rule below the floor
    makes no draft and says so."""
    from app.ingestion.calibration import FLOOR, calibrated

    result = ok(
        desk.client.post(
            "/v1/sources",
            json=source_body(desk.outlet, text=WIRE_WITH_TARGET, published="2025-03-03"),
        ),
        201,
    )
    drafts = every(desk.client, "/v1/facts", status="draft", kind="trade_turnover")
    by_value = {d["quantity"]["value"]: d for d in drafts}
    target, reported = by_value["1000000000"], by_value["480000000"]
    assert target["modality"] == "target" and target["time"]["date"] == "2030"
    assert reported["modality"] == "reported" and reported["time"]["date"] == "2024"
    assert target["claimed_by"]["name"] == reported["claimed_by"]["name"] == "Nino Kapanadze"
    assert target["confidence"] == calibrated("trade_turnover/target")
    assert reported["confidence"] == calibrated("trade_turnover/reported")
    below = [s for s in result["skipped"] if "below the" in s]
    financing = calibrated("financing/reported")
    assert (financing < FLOOR) == any(s.startswith("financing") for s in below)
