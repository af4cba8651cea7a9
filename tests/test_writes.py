"""Writes: creating, correcting and retracting facts, quotes, agreements, entities and sources,
and the strict validation that refuses bad input and then writes nothing at all."""

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Database, create_api_key, make_settings, migrated_and_seeded
from fastapi.testclient import TestClient

from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ID = "trend-4036385"
SOURCE_TEXT = (ROOT / "app/seed/data/trend-4036385.txt").read_text(encoding="utf-8")
PROBLEM_JSON = "application/problem+json"
STRONG_ETAG = re.compile(r'"[^"]+"')
SEED_FACT = "aze-chn-investment-chn-to-aze-since-1995"
SEED_QUOTE = "alizadeh-energy-smart-city"
SEED_AGREEMENT = "aze-chn-agreement-beijing-forum-2019"
ALL_STATUSES = [("status", s) for s in ("published", "retracted", "draft", "rejected")]


def span(phrase: str) -> dict[str, Any]:
    """Evidence for a phrase of the seed source, with offsets computed from its text."""
    assert SOURCE_TEXT.count(phrase) == 1, phrase
    start = SOURCE_TEXT.index(phrase)
    return {"source_id": SOURCE_ID, "start": start, "end": start + len(phrase), "text": phrase}


TRADE = span(
    "over the last five years, trade turnover between Azerbaijan and China has more than "
    "doubled, surpassing $3.5 billion"
)


def fact_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "trade_turnover",
        "statement": "Trade turnover between Azerbaijan and China has surpassed $3.5 billion.",
        "subject": "AZE",
        "counterpart": "CHN",
        "direction": "bilateral",
        "quantity": {
            "value": "3500000000",
            "unit": "USD",
            "comparator": "more_than",
            "hedge": "surpassing",
            "text": "surpassing $3.5 billion",
        },
        "time": {
            "type": "period",
            "start": "2020",
            "end": "2025-04-28",
            "text": "over the last five years",
        },
        "claimed_by": "arzukhan-alizadeh",
        "claimed_role": "MP",
        "evidence": TRADE,
        "mentions": [],
    }
    body.update(changes)
    return body


def quote_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "speaker": "azer-allahveranov",
        "speaker_role": "member of the National Assembly",
        "said_to": "trend",
        "date": "2025-04-28",
        "evidence": span(
            "Such invitations further signify the strong friendship and trust between the two "
            "leaders and their nations"
        ),
        "mentions": ["AZE", "CHN"],
        "supports": [],
    }
    body.update(changes)
    return body


def agreement_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Ten documents",
        "statement": "In 2019 Azerbaijan and China signed ten documents at the Beijing forum.",
        "parties": ["AZE", "CHN"],
        "signed": {"type": "date", "date": "2019", "text": "in 2019"},
        "event": "beijing-forum-2019",
        "documents": 10,
        "documents_text": "ten documents",
        "sectors": ["economy", "industry", "investment"],
        "claimed_by": "arzukhan-alizadeh",
        "claimed_role": "MP",
        "evidence": span(
            "in 2019, at the Beijing International Forum, ten documents covering the economy, "
            "industry, and investment sectors were signed between the two countries"
        ),
    }
    body.update(changes)
    return body


def source_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "outlet": "trend",
        "url": "https://en.trend.az/business/example-0001.html",
        "title": "Chinese investment in Azerbaijan reaches $942.3 million",
        "published": "2025-06-02",
        "dateline": "Baku",
        "language": "en",
        "text": "BAKU, Azerbaijan, June 2. Chinese companies have invested $942.3 million in "
        "Azerbaijan's economy since 1995, the Ministry of Economy said.",
    }
    body.update(changes)
    return body


def source_of(body: dict[str, Any]) -> dict[str, Any]:
    """The source in a POST /v1/sources answer (bare, or under `source` with ingestion)."""
    source: dict[str, Any] = body.get("source", body)
    return source


def ids(client: TestClient, path: str, params: list[tuple[str, str]] | None = None) -> list[str]:
    response = client.get(path, params=[("limit", "500"), *(params or [])])
    assert response.status_code == 200, response.text
    assert response.json()["next"] is None
    return [item["id"] for item in response.json()["items"]]


def changes(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/v1/changes", params={"limit": 500})
    assert response.status_code == 200, response.text
    assert response.json()["has_more"] is False
    items: list[dict[str, Any]] = response.json()["items"]
    return items


LISTS = {
    "facts": ALL_STATUSES,
    "quotes": ALL_STATUSES,
    "agreements": ALL_STATUSES,
    "entities": [],
    "sources": [],
}


def state(client: TestClient, *collections: str) -> dict[str, Any]:
    """What a write could touch: the change feed (every write is a change) and the lists of
    the given collections (all of them by default), with every status."""
    wanted = collections or tuple(LISTS)
    lists = {name: ids(client, f"/v1/{name}", LISTS[name]) for name in wanted}
    return {**lists, "changes": changes(client)}


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == status
    if field is not None:
        names = [p["name"] for p in problem.get("invalid_params") or []]
        assert field in names, f"{field} not named in {names}: {problem.get('detail')}"


def etag(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def create(client: TestClient, collection: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v1/{collection}", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# --- creating -------------------------------------------------------------------------------


def test_create_fact(writer: TestClient) -> None:
    """201 with Location and a strong ETag; the server sets id, revision 1 and published."""
    before = state(writer)
    response = writer.post("/v1/facts", json=fact_body())
    assert response.status_code == 201, response.text
    fact = response.json()
    assert response.headers["location"] == f"/v1/facts/{fact['id']}"
    assert STRONG_ETAG.fullmatch(response.headers["etag"])
    assert fact["id"] not in before["facts"]
    assert (fact["revision"], fact["status"]) == (1, "published")
    assert fact["evidence"] == TRADE
    assert fact["quantity"]["value"] == "3500000000"
    assert fact["quantity"]["low"] == "3500000000"
    assert fact["quantity"]["high"] is None
    assert fact["time"]["first_day"] == "2020-01-01"
    assert fact["claimed_by"] == {
        "id": "arzukhan-alizadeh",
        "name": "Arzukhan Alizadeh",
        "role": "MP",
    }
    assert fact["created_at"] == fact["updated_at"]
    again = writer.get(response.headers["location"])
    assert again.json() == fact
    assert again.headers["etag"] == response.headers["etag"]
    after = state(writer)
    assert sorted(after["facts"]) == sorted([*before["facts"], fact["id"]])
    new = after["changes"][len(before["changes"]) :]
    assert [(c["resource"], c["id"], c["action"], c["actor"]) for c in new] == [
        ("fact", fact["id"], "create", "desk")
    ]


def test_create_quote(writer: TestClient) -> None:
    """A quote's words are its evidence text; the server sets id, revision and status."""
    body = quote_body()
    response = writer.post("/v1/quotes", json=body)
    assert response.status_code == 201, response.text
    quote = response.json()
    assert response.headers["location"] == f"/v1/quotes/{quote['id']}"
    assert STRONG_ETAG.fullmatch(response.headers["etag"])
    assert (quote["revision"], quote["status"]) == (1, "published")
    assert quote["text"] == body["evidence"]["text"]
    assert quote["evidence"] == body["evidence"]
    assert quote["speaker"]["role"] == "member of the National Assembly"
    assert [m["id"] for m in quote["mentions"]] == ["AZE", "CHN"]
    assert writer.get(response.headers["location"]).json() == quote


def test_create_agreement(writer: TestClient) -> None:
    """An agreement is created as a fact of kind agreement with the same id."""
    response = writer.post("/v1/agreements", json=agreement_body())
    assert response.status_code == 201, response.text
    agreement = response.json()
    assert response.headers["location"] == f"/v1/agreements/{agreement['id']}"
    assert STRONG_ETAG.fullmatch(response.headers["etag"])
    assert (agreement["revision"], agreement["status"]) == (1, "published")
    assert [p["id"] for p in agreement["parties"]] == ["AZE", "CHN"]
    assert agreement["event"]["id"] == "beijing-forum-2019"
    assert agreement["documents"] == 10
    assert agreement["signed"]["date"] == "2019"
    assert writer.get(response.headers["location"]).json() == agreement
    fact = writer.get(f"/v1/facts/{agreement['id']}").json()
    assert fact["kind"] == "agreement"
    assert fact["agreement"]["title"] == "Ten documents"


def test_create_entities(writer: TestClient) -> None:
    """A country needs only its code (alpha-2 or alpha-3, any case) and gets ISO's name;
    other entities get an id made from their name."""
    response = writer.post("/v1/entities", json={"kind": "country", "code": "kz"})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/entities/KAZ"
    assert STRONG_ETAG.fullmatch(response.headers["etag"])
    entity = response.json()
    assert (entity["id"], entity["name"], entity["code"]) == ("KAZ", "Kazakhstan", "KAZ")
    assert_problem(writer.post("/v1/entities", json={"kind": "country", "code": "KAZ"}), 409)

    body = {"kind": "organization", "name": "Asian Infrastructure Investment Bank"}
    response = writer.post("/v1/entities", json=body)
    assert response.status_code == 201, response.text
    entity = response.json()
    assert entity["id"] == "asian-infrastructure-investment-bank"
    assert response.headers["location"] == "/v1/entities/asian-infrastructure-investment-bank"
    assert writer.get(response.headers["location"]).json() == entity
    new = changes(writer)[-2:]
    assert [(c["resource"], c["id"], c["action"]) for c in new] == [
        ("entity", "KAZ", "create"),
        ("entity", "asian-infrastructure-investment-bank", "create"),
    ]


def test_create_source_and_the_same_text_again(writer: TestClient) -> None:
    """A new text is 201; the same text again is 200 with the same source, nothing stored."""
    body = source_body()
    first = writer.post("/v1/sources", json=body)
    assert first.status_code == 201, first.text
    source = source_of(first.json())
    assert first.headers["location"] == f"/v1/sources/{source['id']}"
    assert source["sha256"] == hashlib.sha256(body["text"].encode()).hexdigest()
    assert source["text"] == body["text"]
    middle = state(writer)
    for repeat in (body, source_body(title="Another headline", url=None)):
        again = writer.post("/v1/sources", json=repeat)
        assert again.status_code == 200, again.text
        assert source_of(again.json())["id"] == source["id"]
        assert again.headers["location"] == first.headers["location"]
    assert state(writer) == middle


# --- correcting -----------------------------------------------------------------------------


def test_patch_fact_makes_revision_2(writer: TestClient) -> None:
    """PATCH changes only the fields sent and keeps the rest; the ETag follows."""
    fact = create(writer, "facts", fact_body())
    path = f"/v1/facts/{fact['id']}"
    old_etag = etag(writer, path)
    patch = {
        "statement": "Trade turnover between Azerbaijan and China passed $3.5 billion.",
        "quantity": {"value": "3500000000", "unit": "USD", "comparator": "at_least"},
        "reason": "wording",
    }
    response = writer.patch(path, json=patch, headers={"If-Match": old_etag})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["revision"] == 2
    assert patched["statement"] == patch["statement"]
    assert patched["quantity"]["comparator"] == "at_least"
    assert patched["quantity"]["text"] is None
    for kept in ("evidence", "time", "claimed_by", "subject", "counterpart", "created_at"):
        assert patched[kept] == fact[kept], kept
    assert response.headers["etag"] != old_etag
    current = writer.get(path)
    assert current.json() == patched
    assert current.headers["etag"] == response.headers["etag"]


def test_patch_quote(writer: TestClient) -> None:
    """A quote PATCH keeps its mentions and evidence and makes revision 2."""
    path = f"/v1/quotes/{SEED_QUOTE}"
    before = writer.get(path).json()
    response = writer.patch(
        path,
        json={"speaker_role": "MP", "reason": "role"},
        headers={"If-Match": etag(writer, path)},
    )
    assert response.status_code == 200, response.text
    quote = response.json()
    assert (quote["revision"], quote["speaker"]["role"]) == (2, "MP")
    assert quote["mentions"] == before["mentions"]
    assert quote["evidence"] == before["evidence"]
    assert writer.get(path).json() == quote


def test_patch_agreement(writer: TestClient) -> None:
    """An agreement PATCH changes its fact: both views show revision 2."""
    path = f"/v1/agreements/{SEED_AGREEMENT}"
    before = writer.get(path).json()
    response = writer.patch(
        path,
        json={"title": "Ten documents signed in Beijing", "reason": "title"},
        headers={"If-Match": etag(writer, path)},
    )
    assert response.status_code == 200, response.text
    agreement = response.json()
    assert (agreement["revision"], agreement["title"]) == (2, "Ten documents signed in Beijing")
    for kept in ("parties", "event", "documents", "sectors", "signed", "evidence"):
        assert agreement[kept] == before[kept], kept
    fact = writer.get(f"/v1/facts/{SEED_AGREEMENT}").json()
    assert (fact["revision"], fact["agreement"]["title"]) == (2, agreement["title"])


def test_patch_entity_and_source(writer: TestClient) -> None:
    """Entities and sources take PATCH with If-Match too; each is a change in the feed."""
    before = changes(writer)
    path = "/v1/entities/sco"
    response = writer.patch(
        path, json={"description": "Founded in 2001."}, headers={"If-Match": etag(writer, path)}
    )
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "Founded in 2001."
    assert writer.get(path).json() == response.json()
    path = f"/v1/sources/{SOURCE_ID}"
    response = writer.patch(
        path, json={"title": "A new headline"}, headers={"If-Match": etag(writer, path)}
    )
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "A new headline"
    assert response.json()["text"] == SOURCE_TEXT
    new = changes(writer)[len(before) :]
    assert [(c["resource"], c["id"], c["action"], c["revision"]) for c in new] == [
        ("entity", "sco", "update", 2),
        ("source", SOURCE_ID, "update", 2),
    ]


# --- retracting -----------------------------------------------------------------------------

RETRACTABLE = [
    pytest.param("facts", fact_body, id="fact"),
    pytest.param("quotes", quote_body, id="quote"),
    pytest.param("agreements", agreement_body, id="agreement"),
]


@pytest.mark.parametrize(("collection", "body"), RETRACTABLE)
def test_retract(writer: TestClient, collection: str, body: Any) -> None:
    """A retracted record leaves the default list, stays readable by id, and is found with
    status=retracted; the feed records the retraction."""
    record = create(writer, collection, body())
    path = f"/v1/{collection}/{record['id']}"
    assert record["id"] in ids(writer, f"/v1/{collection}")
    response = writer.post(
        f"{path}/retract",
        json={"reason": "Source withdrew it."},
        headers={"If-Match": etag(writer, path)},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["revision"]) == ("retracted", 2)
    assert record["id"] not in ids(writer, f"/v1/{collection}")
    current = writer.get(path)
    assert current.status_code == 200
    assert current.json()["status"] == "retracted"
    assert current.json() == response.json()
    assert record["id"] in ids(writer, f"/v1/{collection}", [("status", "retracted")])
    last = changes(writer)[-1]
    assert (last["id"], last["action"], last["revision"]) == (record["id"], "retract", 2)
    again = writer.post(
        f"{path}/retract", json={"reason": "twice"}, headers={"If-Match": etag(writer, path)}
    )
    assert_problem(again, 409)


def test_patch_a_retracted_fact_is_409(writer: TestClient) -> None:
    """A retracted fact is kept as it was: a PATCH is refused and writes nothing."""
    path = f"/v1/facts/{SEED_FACT}"
    retract = writer.post(
        f"{path}/retract", json={"reason": "wrong"}, headers={"If-Match": etag(writer, path)}
    )
    assert retract.status_code == 200, retract.text
    before = state(writer)
    response = writer.patch(
        path, json={"statement": "Revived."}, headers={"If-Match": etag(writer, path)}
    )
    assert_problem(response, 409)
    assert state(writer) == before
    assert writer.get(path).json() == retract.json()


# --- validation: one shared database, since a correct app writes nothing here ----------------


@pytest.fixture(scope="module")
def shared_writer(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A writer on a database of this module's own; each test checks it wrote nothing."""
    db = Database(backend, tmp_path_factory.mktemp("writes"))
    migrated_and_seeded(db.url)
    key = create_api_key(db.url, "desk", "write")
    application = create_app(make_settings(db.url))
    with TestClient(application) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client
    application.state.engine.dispose()
    db.drop()


def _wrong_offsets() -> dict[str, Any]:
    return {**TRADE, "start": TRADE["start"] + 1, "end": TRADE["end"] + 1}


POST_REJECTIONS = [
    # (collection, body, status, field named)
    (
        "facts",
        fact_body(evidence={**TRADE, "text": TRADE["text"].upper()}),
        422,
        "body.evidence.text",
    ),
    ("facts", fact_body(evidence=_wrong_offsets()), 422, "body.evidence.text"),
    ("facts", fact_body(evidence={**TRADE, "end": 10**6}), 422, "body.evidence"),
    (
        "facts",
        fact_body(evidence={**TRADE, "source_id": "no-such-source"}),
        422,
        "body.evidence.source_id",
    ),
    ("facts", fact_body(claimed_by="no-such-person"), 422, "body.claimed_by"),
    ("facts", fact_body(mentions=["sco", "no-such-entity"]), 422, "body.mentions"),
    ("facts", fact_body(subject="XYZ"), 422, "body.subject"),
    ("facts", fact_body(counterpart="QQ"), 422, "body.counterpart"),
    ("facts", fact_body(kind="gdp"), 422, "body.kind"),
    ("facts", fact_body(direction="sideways"), 422, "body.direction"),
    (
        "facts",
        fact_body(quantity={"value": "3500000000", "unit": "USD", "comparator": "roughly"}),
        422,
        "body.quantity.comparator",
    ),
    (
        "facts",
        fact_body(quantity={"value": "3500000000", "unit": "ZZZ", "comparator": "exact"}),
        422,
        "body.quantity.unit",
    ),
    (
        "facts",
        fact_body(
            quantity={"value": "4", "unit": "USD", "comparator": "exact", "text": "$4 billion"}
        ),
        422,
        "body.quantity.text",
    ),
    (
        "facts",
        fact_body(time={"type": "date", "date": "2020", "text": "in 2020"}),
        422,
        "body.time.text",
    ),
    ("facts", fact_body(id="my-own-id"), 422, "body.id"),
    ("facts", fact_body(revision=7), 422, "body.revision"),
    ("facts", fact_body(status="draft"), 422, "body.status"),
    ("facts", fact_body(created_at="2020-01-01T00:00:00Z"), 422, "body.created_at"),
    ("facts", {k: v for k, v in fact_body().items() if k != "statement"}, 422, "body.statement"),
    ("quotes", quote_body(speaker="no-such-person"), 422, "body.speaker"),
    ("quotes", quote_body(evidence={**TRADE, "text": "made up words"}), 422, "body.evidence.text"),
    ("quotes", quote_body(supports=["no-such-fact"]), 422, "body.supports"),
    ("quotes", quote_body(status="published"), 422, "body.status"),
    ("agreements", agreement_body(parties=["AZE", "XYZ"]), 422, "body.parties"),
    ("agreements", agreement_body(event="no-such-event"), 422, "body.event"),
    ("agreements", agreement_body(id="mine"), 422, "body.id"),
    ("entities", {"kind": "country", "code": "XYZ"}, 422, "body.code"),
    ("entities", {"kind": "planet", "name": "Mars"}, 422, "body.kind"),
    ("entities", {"kind": "organization", "name": "Org", "id": "org"}, 422, "body.id"),
    ("sources", source_body(outlet="no-such-outlet"), 422, "body.outlet"),
    ("sources", source_body(published="2999-01-01"), 422, "body.published"),
    ("sources", source_body(sha256="0" * 64), 422, "body.sha256"),
    ("sources", source_body(id="my-source"), 422, "body.id"),
]


@pytest.mark.parametrize(
    ("collection", "body", "status", "field"),
    POST_REJECTIONS,
    ids=[f"{c}-{f}-{i}" for i, (c, _, _, f) in enumerate(POST_REJECTIONS)],
)
def test_post_rejections_write_nothing(
    shared_writer: TestClient, collection: str, body: dict[str, Any], status: int, field: str
) -> None:
    """Invalid creates are refused as problem+json naming the field, and write nothing."""
    before = state(shared_writer, collection)
    assert_problem(shared_writer.post(f"/v1/{collection}", json=body), status, field)
    assert state(shared_writer, collection) == before


PATCH_REJECTIONS = [
    # (path, body, field named)
    (f"/v1/facts/{SEED_FACT}", {"id": "renamed"}, "body.id"),
    (f"/v1/facts/{SEED_FACT}", {"revision": 9}, "body.revision"),
    (f"/v1/facts/{SEED_FACT}", {"status": "retracted"}, "body.status"),
    (f"/v1/facts/{SEED_FACT}", {"created_at": "2020-01-01T00:00:00Z"}, "body.created_at"),
    (f"/v1/facts/{SEED_FACT}", {"kind": "gdp"}, "body.kind"),
    (f"/v1/facts/{SEED_FACT}", {"counterpart": "no-such-entity"}, "body.counterpart"),
    (
        f"/v1/facts/{SEED_FACT}",
        {"quantity": {"value": "1", "unit": "USD", "comparator": "exact", "text": "$1 trillion"}},
        "body.quantity.text",
    ),
    (
        f"/v1/facts/{SEED_FACT}",
        {"evidence": {**TRADE, "text": "not what the source says"}},
        "body.evidence.text",
    ),
    (f"/v1/quotes/{SEED_QUOTE}", {"status": "draft"}, "body.status"),
    (f"/v1/quotes/{SEED_QUOTE}", {"speaker": "no-such-person"}, "body.speaker"),
    (f"/v1/agreements/{SEED_AGREEMENT}", {"revision": 1}, "body.revision"),
    (f"/v1/agreements/{SEED_AGREEMENT}", {"parties": ["AZE", "XYZ"]}, "body.parties"),
    ("/v1/entities/sco", {"id": "shanghai"}, "body.id"),
    (f"/v1/sources/{SOURCE_ID}", {"text": "rewritten"}, "body.text"),
]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    PATCH_REJECTIONS,
    ids=[f"{p.split('/')[2]}-{f}" for p, _, f in PATCH_REJECTIONS],
)
def test_patch_rejections_write_nothing(
    shared_writer: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    """An invalid PATCH (with a valid If-Match) is 422 naming the field; the record is
    unchanged."""
    before = state(shared_writer, path.split("/")[2])
    record = shared_writer.get(path)
    response = shared_writer.patch(path, json=body, headers={"If-Match": record.headers["etag"]})
    assert_problem(response, 422, field)
    assert shared_writer.get(path).json() == record.json()
    assert state(shared_writer, path.split("/")[2]) == before


def test_retract_without_a_reason_is_422(shared_writer: TestClient) -> None:
    """A retraction must say why."""
    before = state(shared_writer)
    path = f"/v1/facts/{SEED_FACT}"
    for body in ({}, {"reason": ""}):
        response = shared_writer.post(
            f"{path}/retract", json=body, headers={"If-Match": etag(shared_writer, path)}
        )
        assert_problem(response, 422, "body.reason")
    assert state(shared_writer) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/facts"),
        ("POST", "/v1/sources"),
        ("PATCH", f"/v1/facts/{SEED_FACT}"),
        ("POST", f"/v1/facts/{SEED_FACT}/retract"),
    ],
)
def test_malformed_json_and_wrong_media_type(
    shared_writer: TestClient, method: str, path: str
) -> None:
    """Malformed JSON is 400; a body that is not JSON is 415 (also without a Content-Type)."""
    before = state(shared_writer)
    headers = {"If-Match": etag(shared_writer, f"/v1/facts/{SEED_FACT}")}
    malformed = shared_writer.request(
        method,
        path,
        content=b'{"statement": "unterminated',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert_problem(malformed, 400)
    assert malformed.json()["code"] == "malformed_json"
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        sent = {**headers, "Content-Type": content_type} if content_type else headers
        response = shared_writer.request(method, path, content=b'{"reason": "x"}', headers=sent)
        assert_problem(response, 415)
    assert state(shared_writer) == before


@pytest.fixture(scope="module")
def small_body_writer(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """A writer on an app built with max_body_bytes=2048."""
    db = Database(backend, tmp_path_factory.mktemp("limits"))
    migrated_and_seeded(db.url)
    key = create_api_key(db.url, "desk", "write")
    application = create_app(make_settings(db.url, max_body_bytes=2048))
    with TestClient(application) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client
    application.state.engine.dispose()
    db.drop()


def test_body_over_the_limit_is_413(small_body_writer: TestClient) -> None:
    """A body over ECONFACTS_MAX_BODY_BYTES is 413 and writes nothing; one under it works."""
    client = small_body_writer
    before = state(client)
    big = source_body(text="Azerbaijan and China. " * 200)
    assert_problem(client.post("/v1/sources", json=big), 413)
    path = f"/v1/facts/{SEED_FACT}"
    patch = client.patch(
        path, json={"statement": "x" * 3000}, headers={"If-Match": etag(client, path)}
    )
    assert_problem(patch, 413)
    assert state(client) == before
    assert client.post("/v1/sources", json=source_body()).status_code == 201


def test_streamed_body_over_the_limit_is_413(small_body_writer: TestClient) -> None:
    """A chunked body (no Content-Length) that grows past the limit is 413 as well, not a
    generic 400, and writes nothing."""
    client = small_body_writer
    before = state(client)
    chunks = [b'{"outlet": "trend", "title": "t", "published": "2025-01-01", "text": "']
    chunks += [b"x" * 1000] * 3 + [b'"}']
    streamed = client.post(
        "/v1/sources", content=iter(chunks), headers={"Content-Type": "application/json"}
    )
    assert_problem(streamed, 413)
    assert state(client) == before
