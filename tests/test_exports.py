"""Other representations for dashboards and loaders: CSV on every list, the NDJSON export,
JSON-LD on items; and the HTTP around them: ETag, Cache-Control, Vary and CORS."""

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from conftest import make_settings
from fastapi.testclient import TestClient

from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
SEED = yaml.safe_load((ROOT / "app/seed/data/trend-4036385.yaml").read_text(encoding="utf-8"))
SEED_SOURCE = SEED["source"]["id"]
SOURCE_TEXT = (ROOT / "app/seed/data/trend-4036385.txt").read_text(encoding="utf-8")
SEED_FACTS: dict[str, dict[str, Any]] = {f["id"]: f for f in SEED["facts"]}
SEED_QUOTES: dict[str, dict[str, Any]] = {q["id"]: q for q in SEED["quotes"]}
NEARLY = "aze-chn-investment-chn-to-aze-since-1995"
FORUM = "aze-chn-agreement-beijing-forum-2019"
QUOTE = "alizadeh-energy-smart-city"
LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
STRONG_ETAG = re.compile(r'"[^"]+"')
NDJSON = "application/x-ndjson"

Params = list[tuple[str, str]]

# Per list: filters that narrow it, and one that leaves it empty.
LISTS: dict[str, dict[str, Any]] = {
    "facts": {
        "narrow": [[("kind", "investment")], [("country", "CHN"), ("from", "2020")]],
        "empty": [("country", "RUS")],
    },
    "quotes": {
        "narrow": [[("speaker", "azer-allahveranov")], [("q", "Middle Corridor")]],
        "empty": [("country", "RUS")],
    },
    "agreements": {
        "narrow": [[("from", "2024")], [("speaker", "azer-allahveranov")]],
        "empty": [("country", "RUS")],
    },
    "entities": {
        "narrow": [[("kind", "person")], [("kind", "country")]],
        "empty": [("name", "no such entity anywhere")],
    },
    "sources": {
        "narrow": [[("outlet", "trend")]],
        "empty": [("language", "fr")],
    },
}


# --- helpers --------------------------------------------------------------------------------


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def as_csv(
    client: TestClient, path: str, params: Params, how: str
) -> tuple[httpx.Response, list[str], list[dict[str, str]]]:
    """GET a list as CSV, asked for with `format=csv` or with `Accept: text/csv`."""
    if how == "format":
        response = client.get(path, params=[*params, ("format", "csv")])
    else:
        response = client.get(path, params=params, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0].strip() == "text/csv"
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    assert rows, "a CSV answer always has its header row"
    header, data = rows[0], rows[1:]
    assert len(header) == len(set(header)), header
    for row in data:
        assert len(row) == len(header), row
    return response, header, [dict(zip(header, row, strict=True)) for row in data]


def json_page(client: TestClient, path: str, params: Params) -> dict[str, Any]:
    body: dict[str, Any] = ok(client.get(path, params=params))
    return body


def all_ids(client: TestClient, path: str) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        params = [("limit", "500"), *([("cursor", cursor)] if cursor else [])]
        page = json_page(client, path, params)
        ids.extend(item["id"] for item in page["items"])
        cursor = page["next"]
        if cursor is None:
            return ids


def next_link(response: httpx.Response) -> str | None:
    link = response.headers.get("link")
    if link is None:
        return None
    match = LINK_NEXT.search(link)
    assert match, link
    return match.group(1)


# --- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["format", "accept"])
@pytest.mark.parametrize("collection", list(LISTS))
def test_csv_rows_equal_the_json_page(client: TestClient, collection: str, how: str) -> None:
    path = f"/v1/{collection}"
    for params in ([], [("limit", "3")], *LISTS[collection]["narrow"]):
        response, header, rows = as_csv(client, path, params, how)
        page = json_page(client, path, params)
        assert len(rows) == len(page["items"]), params
        assert [r["id"] for r in rows] == [item["id"] for item in page["items"]], params
        assert header[0] == "id"
        # a limited CSV page links to the next one exactly when the JSON page has a `next`
        assert (next_link(response) is None) == (page["next"] is None), params


@pytest.mark.parametrize("how", ["format", "accept"])
@pytest.mark.parametrize("collection", list(LISTS))
def test_csv_header_is_stable(client: TestClient, collection: str, how: str) -> None:
    """The same columns whatever the filters, also when nothing matches."""
    path = f"/v1/{collection}"
    _, header, rows = as_csv(client, path, [], how)
    assert rows
    for params in LISTS[collection]["narrow"]:
        assert as_csv(client, path, params, how)[1] == header, params
    _, empty_header, empty_rows = as_csv(client, path, LISTS[collection]["empty"], how)
    assert json_page(client, path, LISTS[collection]["empty"])["items"] == []
    assert empty_rows == []
    assert empty_header == header
    other = "accept" if how == "format" else "format"
    assert as_csv(client, path, [], other)[1] == header


@pytest.mark.parametrize("how", ["format", "accept"])
@pytest.mark.parametrize("collection", list(LISTS))
def test_csv_pages_follow_the_link_header(client: TestClient, collection: str, how: str) -> None:
    path = f"/v1/{collection}"
    expected = all_ids(client, path)
    limit = 2 if len(expected) <= 4 else 5
    response, header, rows = as_csv(client, path, [("limit", str(limit))], how)
    ids = [r["id"] for r in rows]
    pages = 1
    while (url := next_link(response)) is not None:
        assert len(rows) == limit
        headers = {"Accept": "text/csv"} if how == "accept" else {}
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        page = list(csv.reader(io.StringIO(response.text, newline="")))
        assert page[0] == header
        rows = [dict(zip(header, row, strict=True)) for row in page[1:]]
        ids.extend(r["id"] for r in rows)
        pages += 1
    assert ids == expected
    if len(expected) > limit:
        assert pages > 1
    # the JSON page has the same Link header and its `next` in the body
    json_response = client.get(path, params={"limit": limit})
    if len(expected) > limit:
        assert next_link(json_response) is not None
        assert json_response.json()["next"] is not None


def test_csv_of_facts_keeps_hedges_and_periods_in_their_own_columns(client: TestClient) -> None:
    for how in ("format", "accept"):
        _, header, rows = as_csv(client, "/v1/facts", [("limit", "500")], how)
        for column in (
            "quantity.value",
            "quantity.unit",
            "quantity.comparator",
            "quantity.hedge",
            "quantity.text",
            "time.start",
            "time.end",
            "time.date",
            "evidence.source_id",
            "evidence.start",
            "evidence.end",
            "evidence.text",
        ):
            assert column in header, column
        by_id = {r["id"]: r for r in rows}
        assert set(by_id) == set(SEED_FACTS)
        nearly = by_id[NEARLY]
        assert nearly["quantity.value"] == "1000000000"
        assert nearly["quantity.unit"] == "USD"
        assert nearly["quantity.comparator"] == "approx"
        assert nearly["quantity.hedge"] == "nearly"
        assert nearly["quantity.text"] == "nearly $1 billion"
        assert (nearly["time.start"], nearly["time.end"]) == ("1995", "2025-04-28")
        assert nearly["time.date"] == ""
        assert nearly["subject.id"] == "CHN"
        assert nearly["counterpart.id"] == "AZE"
        turnover = by_id["aze-chn-trade-turnover-last-five-years"]
        assert turnover["quantity.comparator"] == "more_than"
        assert turnover["quantity.hedge"] == "surpassing"
        assert turnover["quantity.high"] == ""
        assert by_id["chn-aze-partner-rank-fourth"]["time.date"] == "2025-04"
        for fact_id, row in by_id.items():
            seed = SEED_FACTS[fact_id]
            assert row["evidence.text"] == seed["evidence"]["text"], fact_id
            assert int(row["evidence.start"]) == seed["evidence"]["start"]
            assert int(row["evidence.end"]) == seed["evidence"]["end"]
            if seed["quantity"] is None:
                assert row["quantity.value"] == row["quantity.hedge"] == "", fact_id
            else:
                assert row["quantity.hedge"] == (seed["quantity"]["hedge"] or ""), fact_id
                assert row["quantity.comparator"] == seed["quantity"]["comparator"], fact_id


def test_csv_of_quotes_keeps_the_exact_words(client: TestClient) -> None:
    _, header, rows = as_csv(client, "/v1/quotes", [("limit", "500")], "format")
    assert "speaker.name" in header
    assert {r["id"] for r in rows} == set(SEED_QUOTES)
    for row in rows:
        seed = SEED_QUOTES[row["id"]]
        # quotes span paragraphs: the newline survives CSV quoting
        assert row["text"] == seed["evidence"]["text"]
        assert (
            row["evidence.text"]
            == SOURCE_TEXT[int(row["evidence.start"]) : int(row["evidence.end"])]
        )
        assert row["speaker.id"] == seed["speaker"]


def test_csv_of_agreements_has_the_signing_time(client: TestClient) -> None:
    _, header, rows = as_csv(client, "/v1/agreements", [], "accept")
    for column in ("signed.date", "signed.start", "signed.end", "documents", "event.id"):
        assert column in header, column
    forum = {r["id"]: r for r in rows}[FORUM]
    assert (forum["signed.date"], forum["documents"], forum["event.id"]) == (
        "2019",
        "10",
        "beijing-forum-2019",
    )


def test_json_stays_the_default(client: TestClient) -> None:
    for accept in (None, "application/json", "application/json, text/csv", "*/*"):
        headers = {"Accept": accept} if accept else {}
        response = client.get("/v1/facts", headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json"), accept
    response = client.get("/v1/facts", params={"format": "json"}, headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("application/json")
    bad = client.get("/v1/facts", params={"format": "xml"})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")


# --- NDJSON ---------------------------------------------------------------------------------


def ndjson(client: TestClient, params: Params | None = None) -> list[dict[str, Any]]:
    response = client.get("/v1/export/facts.ndjson", params=params or [])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0].strip() == NDJSON
    # streamed: the length is not known up front
    assert "content-length" not in response.headers
    text = response.text
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    assert all(line.strip() for line in lines), "no blank lines"
    return [json.loads(line) for line in lines]


def test_ndjson_is_the_facts_list(client: TestClient) -> None:
    exported = ndjson(client)
    ids = [fact["id"] for fact in exported]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)
    assert sorted(ids) == sorted(SEED_FACTS)
    listed = json_page(client, "/v1/facts", [("limit", "500")])["items"]
    assert len(exported) == len(listed)
    assert sorted(exported, key=lambda f: f["id"]) == sorted(listed, key=lambda f: f["id"])


def test_ndjson_unknown_parameter_is_400(client: TestClient) -> None:
    response = client.get("/v1/export/facts.ndjson", params={"limit": "5"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


def make_facts(writer: TestClient, count: int) -> Iterator[str]:
    phrase = "surpassing $3.5 billion"
    start = SOURCE_TEXT.index(phrase)
    evidence = {"source_id": SEED_SOURCE, "start": start, "end": start + len(phrase)}
    for i in range(count):
        response = writer.post(
            "/v1/facts",
            json={
                "kind": "trade_turnover",
                "statement": f"Bulk fact {i:04d}.",
                "subject": "AZE",
                "counterpart": "CHN",
                "quantity": {"value": str(1000 + i), "unit": "USD", "comparator": "exact"},
                "time": {"type": "date", "date": str(1900 + i % 120)},
                "evidence": {**evidence, "text": phrase},
            },
        )
        assert response.status_code == 201, response.text
        yield response.json()["id"]


def test_ndjson_streams_every_fact_past_the_batch_size(writer: TestClient) -> None:
    """The export reads 500 facts at a time; 1,200 more than the seed span three batches."""
    created = list(make_facts(writer, 1200))
    exported = ndjson(writer)
    ids = [fact["id"] for fact in exported]
    assert len(ids) == len(SEED_FACTS) + 1200
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert set(ids) == set(SEED_FACTS) | set(created)
    assert set(ids) == set(all_ids(writer, "/v1/facts"))
    by_id = {fact["id"]: fact for fact in exported}
    sample = created[0], created[499], created[500], created[-1]
    for fact_id in sample:
        assert by_id[fact_id] == ok(writer.get(f"/v1/facts/{fact_id}"))


def test_ndjson_leaves_out_retracted_facts_unless_asked(writer: TestClient) -> None:
    path = f"/v1/facts/{NEARLY}"
    etag = writer.get(path).headers["etag"]
    response = writer.post(
        f"{path}/retract", json={"reason": "Superseded."}, headers={"If-Match": etag}
    )
    assert response.status_code == 200, response.text
    assert NEARLY not in {f["id"] for f in ndjson(writer)}
    retracted = ndjson(writer, [("status", "retracted")])
    assert [f["id"] for f in retracted] == [NEARLY]
    assert retracted[0]["status"] == "retracted"


# --- JSON-LD --------------------------------------------------------------------------------


def jsonld(client: TestClient, path: str) -> dict[str, Any]:
    response = client.get(path, headers={"Accept": "application/ld+json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0].strip() == "application/ld+json"
    document: dict[str, Any] = response.json()
    assert document["@context"] in ("https://schema.org", "https://schema.org/")
    return document


def assert_seed_article(article: dict[str, Any]) -> None:
    assert article["@type"] == "NewsArticle"
    assert article["url"] == SEED["source"]["url"]
    assert article["headline"] == SEED["source"]["title"]
    assert article["datePublished"] == SEED["source"]["published"]


def test_jsonld_fact_is_a_claim_based_on_the_article(client: TestClient) -> None:
    fact = ok(client.get(f"/v1/facts/{NEARLY}"))
    document = jsonld(client, f"/v1/facts/{NEARLY}")
    assert document["@type"] == "Claim"
    assert document["@id"].endswith(f"/v1/facts/{NEARLY}")
    assert document["text"] == fact["statement"]
    assert_seed_article(document["isBasedOn"])
    assert document["appearance"]["text"] == fact["evidence"]["text"]
    assert document["appearance"]["text"] == SEED_FACTS[NEARLY]["evidence"]["text"]
    assert document["author"]["@type"] == "Person"
    assert document["author"]["name"] == "Arzukhan Alizadeh"


def test_jsonld_quote_is_a_quotation_by_a_person(client: TestClient) -> None:
    quote = ok(client.get(f"/v1/quotes/{QUOTE}"))
    document = jsonld(client, f"/v1/quotes/{QUOTE}")
    assert document["@type"] == "Quotation"
    assert document["text"] == quote["text"]
    assert document["creator"]["@type"] == "Person"
    assert document["creator"]["name"] == "Arzukhan Alizadeh"
    assert_seed_article(document["isBasedOn"])


def test_jsonld_agreement_is_a_claim(client: TestClient) -> None:
    agreement = ok(client.get(f"/v1/agreements/{FORUM}"))
    document = jsonld(client, f"/v1/agreements/{FORUM}")
    assert document["@type"] == "Claim"
    assert document["text"] == agreement["statement"]
    assert document["appearance"]["text"] == agreement["evidence"]["text"]
    assert_seed_article(document["isBasedOn"])


def test_jsonld_source_is_a_news_article(client: TestClient) -> None:
    document = jsonld(client, f"/v1/sources/{SEED_SOURCE}")
    assert_seed_article(document)
    assert document["text"] == SOURCE_TEXT
    assert document["publisher"]["name"] == "Trend News Agency"


def test_jsonld_only_when_asked(client: TestClient) -> None:
    for path in (f"/v1/facts/{NEARLY}", f"/v1/quotes/{QUOTE}", f"/v1/sources/{SEED_SOURCE}"):
        for accept in (None, "application/json", "application/json, application/ld+json"):
            headers = {"Accept": accept} if accept else {}
            response = client.get(path, headers=headers)
            assert response.headers["content-type"].startswith("application/json"), (path, accept)
            assert "@context" not in response.json()


# --- caching --------------------------------------------------------------------------------

CACHED_GETS: list[tuple[str, dict[str, str]]] = [
    ("/v1/facts", {}),
    # A CSV page (an explicit `limit`) is one buffered document with an ETag; a CSV of
    # the whole list is streamed (test_whole_list_csv_is_streamed_without_an_etag).
    ("/v1/facts?format=csv&limit=50", {}),
    ("/v1/quotes?limit=50", {"Accept": "text/csv"}),
    ("/v1/agreements", {}),
    ("/v1/entities", {}),
    ("/v1/sources", {}),
    (f"/v1/facts/{NEARLY}", {}),
    (f"/v1/facts/{NEARLY}", {"Accept": "application/ld+json"}),
    (f"/v1/sources/{SEED_SOURCE}", {}),
    ("/v1/relations/AZE/CHN", {}),
    ("/v1/series?indicator=trade_turnover&pair=AZE-CHN", {}),
    ("/v1/facts/facets", {}),
    ("/", {}),
    ("/pairs/AZE-CHN", {}),
]


@pytest.mark.parametrize(("path", "headers"), CACHED_GETS, ids=[p for p, _ in CACHED_GETS])
def test_etag_cache_control_and_304(client: TestClient, path: str, headers: dict[str, str]) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    etag = response.headers["etag"]
    assert STRONG_ETAG.fullmatch(etag), etag
    cache_control = response.headers["cache-control"]
    assert re.search(r"\bmax-age=\d+", cache_control), cache_control
    assert "public" in cache_control
    again = client.get(path, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == cache_control
    for stale in ('"not-the-etag"', f"W/{etag}x"):
        other = client.get(path, headers={**headers, "If-None-Match": stale})
        assert other.status_code == 200
        assert other.content == response.content


def test_whole_list_csv_is_streamed_without_an_etag(client: TestClient) -> None:
    """Every row, in constant memory: streamed, so no ETag (as the NDJSON export)."""
    response = client.get("/v1/facts?format=csv")
    assert response.status_code == 200
    assert "etag" not in response.headers
    assert len(response.text.splitlines()) - 1 == len(
        client.get("/v1/facts", params={"limit": 500}).json()["items"]
    )


def test_representations_have_their_own_etags(client: TestClient) -> None:
    json_list = client.get("/v1/facts")
    csv_list = client.get("/v1/facts?limit=50", headers={"Accept": "text/csv"})
    assert json_list.headers["etag"] != csv_list.headers["etag"]
    # the JSON ETag does not validate the CSV representation
    crossed = client.get(
        "/v1/facts?limit=50",
        headers={"Accept": "text/csv", "If-None-Match": json_list.headers["etag"]},
    )
    assert crossed.status_code == 200
    assert crossed.headers["content-type"].startswith("text/csv")
    item = client.get(f"/v1/facts/{NEARLY}")
    linked = client.get(f"/v1/facts/{NEARLY}", headers={"Accept": "application/ld+json"})
    assert item.headers["etag"] != linked.headers["etag"]


NEGOTIATED: list[tuple[str, dict[str, str]]] = [
    ("/v1/facts", {}),
    ("/v1/facts", {"Accept": "text/csv"}),
    ("/v1/sources", {}),
    ("/v1/sources", {"Accept": "text/csv"}),
    (f"/v1/facts/{NEARLY}", {}),
    (f"/v1/facts/{NEARLY}", {"Accept": "application/ld+json"}),
    (f"/v1/quotes/{QUOTE}", {}),
    (f"/v1/sources/{SEED_SOURCE}", {}),
]


@pytest.mark.parametrize(("path", "headers"), NEGOTIATED, ids=[f"{p} {h}" for p, h in NEGOTIATED])
def test_responses_chosen_by_accept_say_vary_accept(
    client: TestClient, path: str, headers: dict[str, str]
) -> None:
    """These URLs answer JSON, CSV or JSON-LD depending on Accept, with a public max-age: a
    shared cache must key on Accept, or it serves CSV to a JSON client (RFC 9110 12.5.5)."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    vary = {v.strip().lower() for v in response.headers.get("vary", "").split(",")}
    assert "accept" in vary, response.headers.get("vary")


def test_cache_control_is_private_when_reads_need_a_key(fresh_db_url: str, read_key: str) -> None:
    application = create_app(make_settings(fresh_db_url, require_key_for_reads=True))
    try:
        with TestClient(application) as keyed:
            assert keyed.get("/v1/facts").status_code == 401
            response = keyed.get("/v1/facts", headers={"Authorization": f"Bearer {read_key}"})
            assert response.status_code == 200, response.text
            cache_control = response.headers["cache-control"]
            assert "private" in cache_control
            assert "public" not in cache_control
    finally:
        application.state.engine.dispose()


# --- CORS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/facts",
        "/v1/facts?format=csv",
        "/v1/relations/AZE/CHN",
        "/v1/series?indicator=investment&pair=CHN-AZE",
        "/v1/facts/facets",
        "/v1/export/facts.ndjson",
        "/v1/relations/AZE/XXX",
    ],
)
def test_cors_allows_any_origin_without_credentials(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Origin": "https://dashboard.example.org"})
    assert response.status_code in (200, 400)
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    if response.status_code == 200 and not path.endswith(".ndjson"):
        exposed = {
            h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
        }
        assert {"etag", "link"} <= exposed


def test_cors_preflight_for_a_conditional_get(client: TestClient) -> None:
    response = client.options(
        "/v1/relations/AZE/CHN",
        headers={
            "Origin": "https://dashboard.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "GET" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers
