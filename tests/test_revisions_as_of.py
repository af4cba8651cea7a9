"""Revisions and as_of: every write keeps the previous state, readable as a numbered revision
and through `as_of` reads of items and lists at any earlier time."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ID = "trend-4036385"
SOURCE_TEXT = (ROOT / "app/seed/data/trend-4036385.txt").read_text(encoding="utf-8")
PROBLEM_JSON = "application/problem+json"
README_FACT = "aze-chn-investment-chn-to-aze-since-1995"
SEED_AGREEMENT = "aze-chn-agreement-beijing-forum-2019"
BAKU = timezone(timedelta(hours=4))


def span(phrase: str, text: str = SOURCE_TEXT, source_id: str = SOURCE_ID) -> dict[str, Any]:
    assert text.count(phrase) == 1, phrase
    start = text.index(phrase)
    return {"source_id": source_id, "start": start, "end": start + len(phrase), "text": phrase}


FACT = {
    "kind": "trade_turnover",
    "statement": "Trade turnover between Azerbaijan and China has surpassed $3.5 billion.",
    "subject": "AZE",
    "counterpart": "CHN",
    "quantity": {
        "value": "3500000000",
        "unit": "USD",
        "comparator": "more_than",
        "hedge": "surpassing",
        "text": "surpassing $3.5 billion",
    },
    "evidence": span(
        "trade turnover between Azerbaijan and China has more than doubled, surpassing $3.5 billion"
    ),
}
QUOTE = {
    "speaker": "azer-allahveranov",
    "speaker_role": "member of the National Assembly",
    "said_to": "trend",
    "date": "2025-04-28",
    "evidence": span(
        "Such invitations further signify the strong friendship and trust between the two "
        "leaders and their nations"
    ),
    "mentions": ["AZE", "CHN"],
}
AGREEMENT = {
    "title": "Ten documents",
    "statement": "In 2019 Azerbaijan and China signed ten documents at the Beijing forum.",
    "parties": ["AZE", "CHN"],
    "signed": {"type": "date", "date": "2019", "text": "in 2019"},
    "event": "beijing-forum-2019",
    "documents": 10,
    "documents_text": "ten documents",
    "evidence": span(
        "in 2019, at the Beijing International Forum, ten documents covering the economy, "
        "industry, and investment sectors were signed between the two countries"
    ),
}
NEW_SOURCE_TEXT = (
    "BAKU, Azerbaijan, June 2. Chinese companies have invested $942.3 million in "
    "Azerbaijan's economy since 1995, the Ministry of Economy said."
)


def now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    return moment.isoformat()


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def create(client: TestClient, collection: str, body: dict[str, Any]) -> dict[str, Any]:
    return ok(client.post(f"/v1/{collection}", json=body), 201)


def patch(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    etag = client.get(path).headers["etag"]
    return ok(client.patch(path, json=body, headers={"If-Match": etag}))


def retract(client: TestClient, path: str, reason: str) -> dict[str, Any]:
    etag = client.get(path).headers["etag"]
    return ok(client.post(f"{path}/retract", json={"reason": reason}, headers={"If-Match": etag}))


def get_at(client: TestClient, path: str, at: datetime | None) -> httpx.Response:
    return client.get(path, params={"as_of": stamp(at)} if at else None)


def listed(
    client: TestClient, path: str, ident: str, at: datetime | None, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    """Every entry of `ident` in a list read (as of `at`); a correct list has at most one."""
    query = [("limit", "500"), *(params or [])]
    if at is not None:
        query.append(("as_of", stamp(at)))
    page = ok(client.get(path, params=query))
    assert page["next"] is None
    return [item for item in page["items"] if item["id"] == ident]


def assert_problem(
    response: httpx.Response, status: int | tuple[int, ...], name: str | None = None
) -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    if name is not None:
        names = [p["name"] for p in response.json().get("invalid_params") or []]
        assert name in names, response.json()


# --- revisions ------------------------------------------------------------------------------

VERSIONED = [
    pytest.param("facts", FACT, {"statement": "Trade passed $3.5 billion."}, id="fact"),
    pytest.param("quotes", QUOTE, {"speaker_role": "MP"}, id="quote"),
    pytest.param("agreements", AGREEMENT, {"title": "Ten Beijing documents"}, id="agreement"),
]


@pytest.mark.parametrize(("collection", "body", "change"), VERSIONED)
def test_revisions_record_create_update_retract(
    writer: TestClient, collection: str, body: dict[str, Any], change: dict[str, Any]
) -> None:
    """Each write is a numbered revision with action, actor (the key's name), reason, the time
    it was current, and a full snapshot that later writes do not alter."""
    created = create(writer, collection, body)
    path = f"/v1/{collection}/{created['id']}"
    updated = patch(writer, path, {**change, "reason": "Better wording."})
    retracted = retract(writer, path, "The speaker withdrew it.")
    revisions = ok(writer.get(f"{path}/revisions"))
    assert [r["number"] for r in revisions] == [1, 2, 3]
    assert [r["action"] for r in revisions] == ["create", "update", "retract"]
    assert [r["actor"] for r in revisions] == ["desk"] * 3
    assert [r["reason"] for r in revisions] == [None, "Better wording.", "The speaker withdrew it."]
    assert [r["snapshot"] for r in revisions] == [created, updated, retracted]
    assert [r["snapshot"]["revision"] for r in revisions] == [1, 2, 3]
    assert revisions[-1]["snapshot"] == ok(writer.get(path))
    starts = [datetime.fromisoformat(r["valid_from"]) for r in revisions]
    assert starts == sorted(starts) and len(set(starts)) == 3
    assert [r["valid_to"] for r in revisions] == [
        revisions[1]["valid_from"],
        revisions[2]["valid_from"],
        None,
    ]
    for revision in revisions:
        assert ok(writer.get(f"{path}/revisions/{revision['number']}")) == revision
    missing = writer.get(f"{path}/revisions/4")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_JSON
    assert writer.get(f"{path}/revisions/0").status_code in (400, 422)
    if collection == "agreements":  # an agreement is a fact: one history, seen both ways
        as_fact = ok(writer.get(f"/v1/facts/{created['id']}/revisions"))
        meta = ("number", "action", "actor", "reason", "valid_from", "valid_to")
        assert [{k: r[k] for k in meta} for r in as_fact] == [
            {k: r[k] for k in meta} for r in revisions
        ]
        assert as_fact[1]["snapshot"]["agreement"]["title"] == change["title"]


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/facts/{README_FACT}",
        "/v1/quotes/alizadeh-investment-belt-and-road",
        f"/v1/agreements/{SEED_AGREEMENT}",
    ],
)
def test_seed_records_have_one_revision_by_seed(client: TestClient, path: str) -> None:
    """Seeded records start their history as revision 1, created by `seed`."""
    revisions = ok(client.get(f"{path}/revisions"))
    assert len(revisions) == 1
    first = revisions[0]
    assert (first["number"], first["action"], first["actor"]) == (1, "create", "seed")
    assert (first["reason"], first["valid_to"]) == (None, None)
    assert first["snapshot"] == ok(client.get(path))


@pytest.mark.parametrize("collection", ["facts", "quotes", "agreements"])
def test_revisions_of_a_missing_record_are_404(client: TestClient, collection: str) -> None:
    """No record, no history: 404 problem+json for the list and for a numbered revision."""
    for suffix in ("revisions", "revisions/1"):
        response = client.get(f"/v1/{collection}/no-such-record/{suffix}")
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM_JSON


# --- as_of ----------------------------------------------------------------------------------


def test_as_of_follows_a_fact_through_create_correct_retract(writer: TestClient) -> None:
    """Item and list reads answer as the data stood at each moment, and without as_of as now."""
    filters = [("country", "AZE"), ("kind", "trade_turnover")]
    t0 = now()
    fact = create(writer, "facts", FACT)
    path = f"/v1/facts/{fact['id']}"
    t1 = now()
    corrected = patch(
        writer,
        path,
        {
            "statement": "Trade turnover between Azerbaijan and China passed $3.5 billion.",
            "quantity": {**FACT["quantity"], "comparator": "at_least"},
            "reason": "wording",
        },
    )
    t2 = now()
    retracted = retract(writer, path, "withdrawn")
    t3 = now()

    assert_problem(get_at(writer, path, t0), 404)
    assert listed(writer, "/v1/facts", fact["id"], t0, filters) == []

    for moment, expected in ((t1, fact), (t2, corrected), (t1.astimezone(BAKU), fact)):
        assert ok(get_at(writer, path, moment)) == expected
        assert listed(writer, "/v1/facts", fact["id"], moment, filters) == [expected]

    assert ok(get_at(writer, path, t3)) == retracted
    assert retracted["status"] == "retracted"
    assert listed(writer, "/v1/facts", fact["id"], t3, filters) == []
    retracted_filter = [*filters, ("status", "retracted")]
    assert listed(writer, "/v1/facts", fact["id"], t3, retracted_filter) == [retracted]
    assert listed(writer, "/v1/facts", fact["id"], t1, retracted_filter) == []

    assert ok(get_at(writer, path, None)) == retracted
    assert listed(writer, "/v1/facts", fact["id"], None, filters) == []
    assert listed(writer, "/v1/facts", fact["id"], None, retracted_filter) == [retracted]


def test_as_of_boundaries_are_the_revision_times(writer: TestClient) -> None:
    """A revision is visible from its valid_from (inclusive) to its valid_to (exclusive)."""
    fact = create(writer, "facts", FACT)
    path = f"/v1/facts/{fact['id']}"
    patch(writer, path, {"statement": "Second wording."})
    second = datetime.fromisoformat(ok(writer.get(f"{path}/revisions"))[1]["valid_from"])
    just_before = second - timedelta(microseconds=1)
    assert ok(get_at(writer, path, just_before))["revision"] == 1
    assert ok(get_at(writer, path, second))["revision"] == 2
    assert ok(get_at(writer, path, second.astimezone(BAKU)))["revision"] == 2
    assert [f["revision"] for f in listed(writer, "/v1/facts", fact["id"], just_before)] == [1]
    assert [f["revision"] for f in listed(writer, "/v1/facts", fact["id"], second)] == [2]


def test_readme_story_nearly_one_billion_corrected_to_942_3_million(writer: TestClient) -> None:
    """The README story: the seed's "nearly $1 billion" is corrected to an exact $942.3 million
    from a newer source; as_of still answers with what was published before."""
    path = f"/v1/facts/{README_FACT}"
    original = ok(writer.get(path))
    t1 = now()
    posted = ok(
        writer.post(
            "/v1/sources",
            json={
                "outlet": "trend",
                "title": "Chinese investment in Azerbaijan reaches $942.3 million",
                "published": "2025-06-02",
                "dateline": "Baku",
                "text": NEW_SOURCE_TEXT,
            },
        ),
        201,
    )
    new_source = posted.get("source", posted)["id"]
    evidence = span(
        "Chinese companies have invested $942.3 million in Azerbaijan's economy since 1995",
        NEW_SOURCE_TEXT,
        new_source,
    )
    corrected = patch(
        writer,
        path,
        {
            "statement": "Chinese companies have invested $942.3 million in Azerbaijan's economy "
            "since 1995.",
            "quantity": {
                "value": "942300000",
                "unit": "USD",
                "comparator": "exact",
                "hedge": None,
                "text": "$942.3 million",
            },
            "evidence": evidence,
            "claimed_by": None,
            "claimed_role": None,
            "reason": "The Ministry of Economy reported the exact figure.",
        },
    )
    t2 = now()
    figure = {"value": "942300000", "unit": "USD", "comparator": "exact", "hedge": None}
    assert {k: corrected["quantity"][k] for k in figure} == figure
    assert corrected["quantity"]["low"] == corrected["quantity"]["high"] == "942300000"
    assert (corrected["evidence"], corrected["revision"]) == (evidence, 2)
    assert corrected["time"] == original["time"]

    assert ok(get_at(writer, path, t1)) == original
    assert original["quantity"]["value"] == "1000000000"
    assert original["quantity"]["hedge"] == "nearly"
    assert ok(get_at(writer, path, t2)) == corrected
    assert ok(writer.get(path)) == corrected

    def found(at: datetime | None, *params: tuple[str, str]) -> list[dict[str, Any]]:
        return listed(writer, "/v1/facts", README_FACT, at, [("country", "AZE"), *params])

    assert found(t1, ("value_min", "960000000")) == [original]
    assert found(t2, ("value_min", "960000000")) == []
    assert found(None, ("value_min", "960000000")) == []
    assert found(t1, ("value_max", "950000000")) == [original]
    assert found(None, ("value_max", "950000000")) == [corrected]
    assert found(t1, ("source", new_source)) == []
    assert found(None, ("source", new_source)) == [corrected]
    assert found(t1, ("source", SOURCE_ID)) == [original]
    assert found(None, ("source", SOURCE_ID)) == []

    history = ok(writer.get(f"{path}/revisions"))
    assert [(r["actor"], r["action"]) for r in history] == [("seed", "create"), ("desk", "update")]
    assert history[1]["reason"] == "The Ministry of Economy reported the exact figure."
    assert [r["snapshot"] for r in history] == [original, corrected]


def test_as_of_on_quote_lists(writer: TestClient) -> None:
    """A quote retracted later is still listed as it was before the retraction."""
    t0 = now()
    quote = create(writer, "quotes", QUOTE)
    t1 = now()
    retracted = retract(writer, f"/v1/quotes/{quote['id']}", "misattributed")
    t2 = now()
    assert listed(writer, "/v1/quotes", quote["id"], t0) == []
    assert listed(writer, "/v1/quotes", quote["id"], t1) == [quote]
    assert listed(writer, "/v1/quotes", quote["id"], t2) == []
    assert listed(writer, "/v1/quotes", quote["id"], t2, [("status", "retracted")]) == [retracted]
    assert ok(get_at(writer, f"/v1/quotes/{quote['id']}", t1)) == quote
    assert_problem(get_at(writer, f"/v1/quotes/{quote['id']}", t0), 404)


def test_as_of_on_agreement_lists(writer: TestClient) -> None:
    """An agreement corrected later is listed with its old title as of before the correction."""
    path = f"/v1/agreements/{SEED_AGREEMENT}"
    original = ok(writer.get(path))
    t1 = now()
    corrected = patch(writer, path, {"title": "Ten Beijing documents", "reason": "shorter"})
    t2 = now()
    assert listed(writer, "/v1/agreements", SEED_AGREEMENT, t1) == [original]
    assert listed(writer, "/v1/agreements", SEED_AGREEMENT, t2) == [corrected]
    assert listed(writer, "/v1/agreements", SEED_AGREEMENT, None) == [corrected]
    assert ok(get_at(writer, path, t1)) == original
    assert ok(get_at(writer, path, t2)) == corrected


@pytest.mark.parametrize(
    "path",
    [
        "/v1/facts",
        f"/v1/facts/{README_FACT}",
        "/v1/quotes",
        "/v1/quotes/alizadeh-investment-belt-and-road",
        "/v1/agreements",
        f"/v1/agreements/{SEED_AGREEMENT}",
    ],
)
@pytest.mark.parametrize("value", ["yesterday", "2025-13-01", "0.5"])
def test_as_of_needs_a_time_or_a_date(client: TestClient, path: str, value: str) -> None:
    """An as_of that is not a time or a date is refused, naming as_of (a date means the end
    of that day, a time without an offset UTC)."""
    assert_problem(client.get(path, params={"as_of": value}), (400, 422), "as_of")
