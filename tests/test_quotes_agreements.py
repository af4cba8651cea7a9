"""GET /v1/quotes and /v1/agreements, with their filters, sorts and pages; the seed is the oracle."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

SEED_FILE = Path(__file__).resolve().parent.parent / "app/seed/data/trend-4036385.yaml"
SEED = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
QUOTES: dict[str, dict[str, Any]] = {q["id"]: q for q in SEED["quotes"]}
AGREEMENTS: dict[str, dict[str, Any]] = {
    f["id"]: f for f in SEED["facts"] if f["kind"] == "agreement"
}
NOT_AGREEMENTS = [f["id"] for f in SEED["facts"] if f["kind"] != "agreement"]
PUBLISHED = SEED["source"]["published"]
PROBLEM_JSON = "application/problem+json"
LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')

Params = list[tuple[str, str]]


def ids(client: TestClient, path: str, params: Params | None = None) -> list[str]:
    response = client.get(path, params=[*(params or []), ("limit", "500")])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None
    return [item["id"] for item in body["items"]]


def assert_problem(response: Any, status: int, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["status"] == status
    if param is not None:
        assert param in [p["name"] for p in problem["invalid_params"]], problem
    return dict(problem)


def walk_pages(client: TestClient, path: str, params: Params, *, via: str) -> list[str]:
    """Follow `next` (as the cursor parameter) or the Link header to the last page."""
    seen: list[str] = []
    response = client.get(path, params=params)
    for _ in range(100):
        assert response.status_code == 200, response.text
        body = response.json()
        seen.extend(item["id"] for item in body["items"])
        header = response.headers.get("link")
        if body["next"] is None:
            assert header is None
            return seen
        match = LINK_NEXT.search(header or "")
        assert match, header
        if via == "link":
            response = client.get(match.group(1))
        else:
            response = client.get(path, params=[*params, ("cursor", body["next"])])
    raise AssertionError("pagination did not end")


# --- quotes ----------------------------------------------------------------------------------


def test_quotes_default_list(client: TestClient) -> None:
    """All five curated quotes, published, in the page shape."""
    body = client.get("/v1/quotes").json()
    assert set(body) == {"items", "next", "limit"}
    assert body["next"] is None
    assert len(QUOTES) == 5
    assert {q["id"] for q in body["items"]} == set(QUOTES)
    assert {q["status"] for q in body["items"]} == {"published"}


@pytest.mark.parametrize("speaker", ["arzukhan-alizadeh", "azer-allahveranov"])
def test_quotes_by_speaker(client: TestClient, speaker: str) -> None:
    """`speaker` keeps that person's quotes, each with the role as printed."""
    response = client.get("/v1/quotes", params={"speaker": speaker})
    items = response.json()["items"]
    assert {q["id"] for q in items} == {i for i, q in QUOTES.items() if q["speaker"] == speaker}
    for item in items:
        assert item["speaker"]["id"] == speaker
        assert item["speaker"]["role"] == QUOTES[item["id"]]["speaker_role"]


def test_quotes_unknown_speaker_or_source_is_a_400(client: TestClient) -> None:
    """Ids that do not exist are client errors, not silently empty lists."""
    assert_problem(client.get("/v1/quotes", params={"speaker": "nobody"}), 400, "speaker")
    assert_problem(client.get("/v1/quotes", params={"source": "nowhere"}), 400, "source")


def test_quotes_by_source(client: TestClient) -> None:
    """`source` keeps quotes from that article."""
    assert set(ids(client, "/v1/quotes", [("source", SEED["source"]["id"])])) == set(QUOTES)


@pytest.mark.parametrize(
    ("countries", "expected"),
    [
        (["CHN"], set(QUOTES)),
        (["cn"], set(QUOTES)),
        (["USA"], set()),
        (["USA", "AZE"], set(QUOTES)),
    ],
)
def test_quotes_by_mentioned_country(
    client: TestClient, countries: list[str], expected: set[str]
) -> None:
    """`country` keeps quotes that mention any of the countries (alpha-2 accepted)."""
    assert set(ids(client, "/v1/quotes", [("country", c) for c in countries])) == expected


def test_quote_mentions_match_the_seed(client: TestClient) -> None:
    """Each quote lists the entities the curator said it mentions."""
    for item in client.get("/v1/quotes").json()["items"]:
        assert {m["id"] for m in item["mentions"]} == set(QUOTES[item["id"]]["mentions"])


@pytest.mark.parametrize("q", ["Middle Corridor", "BELT", "smart village", "billion"])
def test_quotes_q(client: TestClient, q: str) -> None:
    """Every word of `q` must appear in the quote, in any case."""
    words = q.lower().split()
    expected = {
        i
        for i, quote in QUOTES.items()
        if all(w in quote["evidence"]["text"].lower() for w in words)
    }
    assert expected
    assert set(ids(client, "/v1/quotes", [("q", q)])) == expected


@pytest.mark.parametrize("q", ["%", "_", "' OR 1=1 --"])
def test_quotes_q_is_literal(client: TestClient, q: str) -> None:
    """Wildcards and SQL in `q` match nothing and do not break the query."""
    assert ids(client, "/v1/quotes", [("q", q)]) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("from", "2025-04")], set(QUOTES)),
        ([("from", "2025-04-28"), ("to", "2025-04-28")], set(QUOTES)),
        ([("from", "2025-04-29")], set()),
        ([("to", "2025-04-27")], set()),
        ([("from", "2025"), ("to", "2025")], set(QUOTES)),
    ],
)
def test_quotes_from_to(client: TestClient, params: Params, expected: set[str]) -> None:
    """`from`/`to` bound the day the words were published (28 April 2025 for the seed)."""
    assert set(ids(client, "/v1/quotes", params)) == expected


@pytest.mark.parametrize("sort", ["id", "-id", "date", "-date"])
def test_quotes_sort(client: TestClient, sort: str) -> None:
    """All seed quotes share a date, so date sorts fall back to id, in the same direction."""
    expected = sorted(QUOTES, reverse=sort.startswith("-"))
    assert ids(client, "/v1/quotes", [("sort", sort)]) == expected


@pytest.mark.parametrize("via", ["next", "link"])
@pytest.mark.parametrize("sort", ["id", "-date"])
def test_quotes_pagination(client: TestClient, sort: str, via: str) -> None:
    """Pages of 2 add up to the whole list, once each."""
    walked = walk_pages(client, "/v1/quotes", [("sort", sort), ("limit", "2")], via=via)
    assert walked == ids(client, "/v1/quotes", [("sort", sort)])
    assert len(set(walked)) == len(QUOTES)


def test_quotes_cursor_with_other_filters_is_a_400(client: TestClient) -> None:
    """A quotes cursor is bound to its filters."""
    token = client.get("/v1/quotes", params={"limit": "1"}).json()["next"]
    response = client.get(
        "/v1/quotes", params={"limit": "1", "cursor": token, "speaker": "azer-allahveranov"}
    )
    assert_problem(response, 400, "cursor")


def test_multi_paragraph_quote(client: TestClient) -> None:
    """Allahveranov's two-paragraph quote keeps its paragraph break and what it supports."""
    seed = QUOTES["allahveranov-strategic-partnership-invitation"]
    response = client.get("/v1/quotes/allahveranov-strategic-partnership-invitation")
    assert response.status_code == 200
    quote = response.json()
    assert "\n\n" in quote["text"]
    assert quote["text"] == seed["evidence"]["text"]
    assert quote["evidence"]["text"] == quote["text"]
    assert (quote["evidence"]["start"], quote["evidence"]["end"]) == (
        seed["evidence"]["start"],
        seed["evidence"]["end"],
    )
    assert quote["speaker"] == {
        "id": "azer-allahveranov",
        "name": "Azer Allahveranov",
        "role": "member of the National Assembly",
    }
    assert quote["said_to"]["id"] == "trend"
    assert quote["date"] == PUBLISHED
    assert sorted(quote["supports"]) == sorted(seed["supports"])


def test_quote_supports_are_real_facts(client: TestClient) -> None:
    """Every fact id a quote supports resolves in /v1/facts."""
    for quote_id, seed in QUOTES.items():
        quote = client.get(f"/v1/quotes/{quote_id}").json()
        assert sorted(quote["supports"]) == sorted(seed["supports"])
        for fact_id in quote["supports"]:
            assert client.get(f"/v1/facts/{fact_id}").status_code == 200


def test_unknown_quote_is_a_404_problem(client: TestClient) -> None:
    """A missing quote id is a problem+json 404."""
    problem = assert_problem(client.get("/v1/quotes/no-such-quote"), 404)
    assert problem["code"] == "not_found"


# --- agreements ------------------------------------------------------------------------------


def test_agreements_default_list(client: TestClient) -> None:
    """The four seed agreements, and nothing else."""
    body = client.get("/v1/agreements").json()
    assert set(body) == {"items", "next", "limit"}
    assert len(AGREEMENTS) == 4
    assert {a["id"] for a in body["items"]} == set(AGREEMENTS)


def test_agreements_are_the_agreement_facts(client: TestClient) -> None:
    """An agreement and its fact share id, statement and evidence."""
    for agreement in client.get("/v1/agreements").json()["items"]:
        fact = client.get(f"/v1/facts/{agreement['id']}").json()
        assert fact["kind"] == "agreement"
        assert agreement["statement"] == fact["statement"]
        assert agreement["evidence"] == fact["evidence"]
        assert agreement["signed"] == fact["time"]
        seed = AGREEMENTS[agreement["id"]]["agreement"]
        assert agreement["title"] == seed["title"]
        assert [p["id"] for p in agreement["parties"]] == seed["parties"]
        assert agreement["documents"] == seed["documents"]
        assert agreement["sectors"] == seed["sectors"]


def test_beijing_forum_agreement(client: TestClient) -> None:
    """2019 Beijing forum: ten documents, three sectors, the event, signed in (the year) 2019."""
    response = client.get("/v1/agreements/aze-chn-agreement-beijing-forum-2019")
    assert response.status_code == 200
    agreement = response.json()
    assert agreement["documents"] == 10
    assert agreement["sectors"] == ["economy", "industry", "investment"]
    assert agreement["event"]["id"] == "beijing-forum-2019"
    assert agreement["event"]["kind"] == "event"
    assert [p["id"] for p in agreement["parties"]] == ["AZE", "CHN"]
    assert agreement["signed"]["type"] == "date"
    assert agreement["signed"]["date"] == "2019"
    assert agreement["signed"]["precision"] == "year"
    assert agreement["signed"]["first_day"] == "2019-01-01"
    assert agreement["signed"]["last_day"] == "2019-12-31"


def test_july_2024_agreement(client: TestClient) -> None:
    """'last July' in an April 2025 article is July 2024, to the month."""
    agreement = client.get("/v1/agreements/aze-chn-agreement-2024-07").json()
    assert agreement["signed"]["date"] == "2024-07"
    assert agreement["signed"]["precision"] == "month"
    assert agreement["signed"]["text"] == "last July"
    assert agreement["event"] is None


def test_agreements_without_a_date_have_no_signed(client: TestClient) -> None:
    """When the source gives no date, `signed` is null rather than a guess."""
    for agreement_id, seed in AGREEMENTS.items():
        agreement = client.get(f"/v1/agreements/{agreement_id}").json()
        assert (agreement["signed"] is None) == (seed["time"] is None)


@pytest.mark.parametrize(
    "params",
    [
        [("country", "AZE"), ("counterpart", "CHN")],
        [("country", "CHN"), ("counterpart", "AZE")],
        [("country", "cn")],
        [("counterpart", "az")],
    ],
)
def test_agreements_by_party(client: TestClient, params: Params) -> None:
    """The party filters are order-insensitive and accept alpha-2."""
    assert set(ids(client, "/v1/agreements", params)) == set(AGREEMENTS)


def test_agreements_by_other_party(client: TestClient) -> None:
    """Nobody else signed anything in the seed."""
    assert ids(client, "/v1/agreements", [("country", "USA")]) == []
    assert ids(client, "/v1/agreements", [("country", "AZE"), ("counterpart", "USA")]) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("from", "2024"), ("to", "2024")], {"aze-chn-agreement-2024-07"}),
        ([("from", "2019"), ("to", "2019")], {"aze-chn-agreement-beijing-forum-2019"}),
        ([("from", "2024-08")], set()),
        ([("to", "2024-06")], {"aze-chn-agreement-beijing-forum-2019"}),
        (
            [("from", "2019-12-31"), ("to", "2024-07-01")],
            {"aze-chn-agreement-beijing-forum-2019", "aze-chn-agreement-2024-07"},
        ),
    ],
)
def test_agreements_from_to(client: TestClient, params: Params, expected: set[str]) -> None:
    """`from`/`to` overlap the signing date, at the precision it was given."""
    assert set(ids(client, "/v1/agreements", params)) == expected


def test_agreements_sort_by_date(client: TestClient) -> None:
    """Oldest first with sort=date; undated agreements sort as the oldest, so they come first
    (and last with -date, the default)."""
    got = ids(client, "/v1/agreements", [("sort", "date")])
    assert got[2:] == ["aze-chn-agreement-beijing-forum-2019", "aze-chn-agreement-2024-07"]
    assert set(got[:2]) == {i for i, a in AGREEMENTS.items() if a["time"] is None}


@pytest.mark.parametrize("via", ["next", "link"])
def test_agreements_pagination(client: TestClient, via: str) -> None:
    """Pages of one agreement add up to the whole list."""
    walked = walk_pages(client, "/v1/agreements", [("limit", "1")], via=via)
    assert walked == ids(client, "/v1/agreements")
    assert len(set(walked)) == len(AGREEMENTS)


def test_agreements_refuse_a_kind_filter(client: TestClient) -> None:
    """Agreements are one kind; `kind` is not one of their parameters."""
    response = client.get("/v1/agreements", params={"kind": "investment"})
    problem = assert_problem(response, 400, "kind")
    assert problem["code"] == "unknown_parameter"


@pytest.mark.parametrize("fact_id", NOT_AGREEMENTS)
def test_agreement_by_id_of_a_non_agreement_fact_is_a_404(client: TestClient, fact_id: str) -> None:
    """A fact that is not an agreement is not found among agreements."""
    problem = assert_problem(client.get(f"/v1/agreements/{fact_id}"), 404)
    assert problem["code"] == "not_found"
    assert client.get(f"/v1/facts/{fact_id}").status_code == 200


def test_unknown_agreement_is_a_404(client: TestClient) -> None:
    """A missing agreement id is a problem+json 404."""
    assert_problem(client.get("/v1/agreements/no-such-agreement"), 404)
