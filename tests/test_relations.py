"""GET /v1/relations/{a}/{b}, GET /v1/series and GET /v1/facts/facets: what dashboards chart.

The seed article is the oracle; a second source that gives a different trade-turnover figure
for an overlapping period must show up as a conflict, side by side, never merged.
"""

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
SEED = yaml.safe_load((ROOT / "app/seed/data/trend-4036385.yaml").read_text(encoding="utf-8"))
SEED_SOURCE = SEED["source"]["id"]
SEED_FACTS: dict[str, dict[str, Any]] = {f["id"]: f for f in SEED["facts"]}
SEED_QUOTES: dict[str, dict[str, Any]] = {q["id"]: q for q in SEED["quotes"]}
PROBLEM_JSON = "application/problem+json"

CHN_TO_AZE = "aze-chn-investment-chn-to-aze-since-1995"
AZE_TO_CHN = "aze-chn-investment-aze-to-chn"
TURNOVER = "aze-chn-trade-turnover-last-five-years"
GROWTH = "aze-chn-trade-growth-last-five-years"
RANK = "chn-aze-partner-rank-fourth"

# (indicator, from, to) -> the seed fact that is its latest figure. Investment and partner
# rank are directed; trade turnover and growth are bilateral.
EXPECTED_INDICATORS = {
    ("investment", "CHN", "AZE"): CHN_TO_AZE,
    ("investment", "AZE", "CHN"): AZE_TO_CHN,
    ("trade_turnover", None, None): TURNOVER,
    ("trade_growth", None, None): GROWTH,
    ("partner_rank", "CHN", "AZE"): RANK,
}

SECOND_TEXT = (
    "BAKU, Azerbaijan, June 1. Trade turnover between Azerbaijan and China reached "
    "$2.9 billion last year, the State Customs Committee said."
)
SECOND_EVIDENCE = "Trade turnover between Azerbaijan and China reached $2.9 billion last year"


# --- helpers --------------------------------------------------------------------------------


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def assert_problem(response: httpx.Response, status: int, param: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["status"] == status
    if param is not None:
        names = [p["name"] for p in problem.get("invalid_params") or []]
        assert param in names, problem


def dossier(client: TestClient, a: str = "AZE", b: str = "CHN", **params: str) -> Any:
    return ok(client.get(f"/v1/relations/{a}/{b}", params=params))


def indicators(body: dict[str, Any]) -> dict[tuple[str, str | None, str | None], Any]:
    found = {}
    for item in body["indicators"]:
        key = (
            item["indicator"],
            item["from"]["id"] if item["from"] else None,
            item["to"]["id"] if item["to"] else None,
        )
        assert key not in found, f"indicator {key} listed twice"
        found[key] = item
    return found


def series(client: TestClient, indicator: str, pair: str, **params: str) -> Any:
    return ok(client.get("/v1/series", params={"indicator": indicator, "pair": pair, **params}))


def all_facts(client: TestClient, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    page = ok(client.get("/v1/facts", params=[("limit", "500"), *params]))
    assert page["next"] is None
    items: list[dict[str, Any]] = page["items"]
    return items


def post_second_source(writer: TestClient) -> dict[str, Any]:
    """A second article, published 2025-06-01, with a different trade-turnover figure."""
    response = writer.post(
        "/v1/sources",
        json={
            "outlet": "trend",
            "url": "https://en.trend.az/business/example-turnover.html",
            "title": "Azerbaijan-China trade turnover reached $2.9 billion",
            "published": "2025-06-01",
            "dateline": "Baku",
            "language": "en",
            "text": SECOND_TEXT,
        },
    )
    assert response.status_code == 201, response.text
    source: dict[str, Any] = response.json().get("source", response.json())
    assert source["text"] == SECOND_TEXT
    return source


def post_turnover(writer: TestClient, source_id: str, time: dict[str, Any]) -> dict[str, Any]:
    start = SECOND_TEXT.index(SECOND_EVIDENCE)
    body = {
        "kind": "trade_turnover",
        "statement": "Trade turnover between Azerbaijan and China reached $2.9 billion in 2024.",
        "subject": "AZE",
        "counterpart": "CHN",
        "direction": "bilateral",
        "quantity": {
            "value": "2900000000",
            "unit": "USD",
            "comparator": "exact",
            "text": "$2.9 billion",
        },
        "time": time,
        "evidence": {
            "source_id": source_id,
            "start": start,
            "end": start + len(SECOND_EVIDENCE),
            "text": SECOND_EVIDENCE,
        },
    }
    response = writer.post("/v1/facts", json=body)
    assert response.status_code == 201, response.text
    fact: dict[str, Any] = response.json()
    assert fact["evidence"]["text"] == SECOND_EVIDENCE
    return fact


LAST_YEAR = {"type": "date", "date": "2024", "text": "last year"}


def correct_investment(writer: TestClient) -> datetime:
    """Correct China's investment to an exact $942.3 million; return a moment before it."""
    path = f"/v1/facts/{CHN_TO_AZE}"
    etag = writer.get(path).headers["etag"]
    before = datetime.now(UTC)
    response = writer.patch(
        path,
        json={
            "quantity": {
                "value": "942300000",
                "unit": "USD",
                "comparator": "exact",
                "hedge": None,
                "text": None,
            },
            "reason": "Corrected to the exact figure reported later.",
        },
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert response.json()["revision"] == 2
    return before


# --- the dossier ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"), [("CHN", "AZE"), ("az", "cn"), ("CN", "aze"), ("chn", "AZ"), ("AZE", "cn")]
)
def test_dossier_is_order_insensitive_and_takes_alpha_2(client: TestClient, a: str, b: str) -> None:
    reference = client.get("/v1/relations/AZE/CHN")
    other = client.get(f"/v1/relations/{a}/{b}")
    assert ok(other) == ok(reference)
    assert other.headers["etag"] == reference.headers["etag"]
    assert [c["id"] for c in other.json()["pair"]] == ["AZE", "CHN"]
    assert [c["name"] for c in other.json()["pair"]] == ["Azerbaijan", "China"]


def test_dossier_latest_figure_per_indicator_and_direction(client: TestClient) -> None:
    found = indicators(dossier(client))
    assert {key: item["latest"]["id"] for key, item in found.items()} == EXPECTED_INDICATORS
    for key, item in found.items():
        assert item["facts"] == 1, key
        # the latest figure is the fact itself, exactly as GET /v1/facts/{id} gives it
        assert item["latest"] == ok(client.get(f"/v1/facts/{item['latest']['id']}")), key
        # and the indicator points at the series that charts it
        series_url = httpx.URL(item["series"])
        assert series_url.path == "/v1/series"
        points = ok(client.get(item["series"]))["points"]
        assert points[-1]["fact_id"] == item["latest"]["id"], key

    china = found[("investment", "CHN", "AZE")]
    assert china["from"]["name"] == "China"
    assert china["to"]["name"] == "Azerbaijan"
    assert china["latest"]["direction"] == "subject_to_counterpart"
    assert china["latest"]["quantity"] == {
        "value": "1000000000",
        "unit": "USD",
        "comparator": "approx",
        "hedge": "nearly",
        "low": "900000000",
        "high": "1000000000",
        "text": "nearly $1 billion",
    }
    assert china["latest"]["time"]["start"] == "1995"
    assert china["latest"]["time"]["text"] == "since 1995"

    azerbaijan = found[("investment", "AZE", "CHN")]
    assert azerbaijan["latest"]["quantity"]["value"] == "2000000000"
    assert azerbaijan["latest"]["quantity"]["comparator"] == "approx"
    assert azerbaijan["latest"]["quantity"]["hedge"] == "around"
    assert azerbaijan["latest"]["quantity"]["low"] == "1800000000"
    assert azerbaijan["latest"]["quantity"]["high"] == "2200000000"

    turnover = found[("trade_turnover", None, None)]["latest"]
    assert turnover["quantity"]["value"] == "3500000000"
    assert turnover["quantity"]["unit"] == "USD"
    assert turnover["quantity"]["comparator"] == "more_than"
    assert turnover["quantity"]["hedge"] == "surpassing"
    assert turnover["quantity"]["high"] is None
    assert (turnover["time"]["start"], turnover["time"]["end"]) == ("2020", "2025-04-28")

    growth = found[("trade_growth", None, None)]["latest"]
    assert growth["quantity"]["value"] == "2"
    assert growth["quantity"]["unit"] == "ratio"
    assert growth["quantity"]["comparator"] == "more_than"
    assert growth["quantity"]["text"] == "more than doubled"

    rank = found[("partner_rank", "CHN", "AZE")]
    assert rank["from"]["id"] == "CHN"  # China ranks fourth among Azerbaijan's partners
    assert rank["latest"]["quantity"]["value"] == "4"
    assert rank["latest"]["quantity"]["unit"] == "rank"
    assert rank["latest"]["quantity"]["comparator"] == "exact"
    assert rank["latest"]["evidence"]["text"] == SEED_FACTS[RANK]["evidence"]["text"]

    for item in found.values():
        seed = SEED_FACTS[item["latest"]["id"]]
        assert item["latest"]["evidence"] == {"source_id": SEED_SOURCE, **seed["evidence"]}
        assert item["latest"]["quantity"]["hedge"] == seed["quantity"]["hedge"]


def test_dossier_has_no_conflicts_on_the_seed(client: TestClient) -> None:
    assert dossier(client)["conflicts"] == []


def test_dossier_agreements_oldest_first_undated_last(client: TestClient) -> None:
    agreements = dossier(client)["agreements"]
    seed_agreements = {i for i, f in SEED_FACTS.items() if f["kind"] == "agreement"}
    assert {a["id"] for a in agreements} == seed_agreements
    assert len(agreements) == len(seed_agreements)
    ids = [a["id"] for a in agreements]
    assert ids[:2] == ["aze-chn-agreement-beijing-forum-2019", "aze-chn-agreement-2024-07"]
    assert set(ids[2:]) == {
        "aze-chn-agreement-joint-declaration",
        "aze-chn-agreements-several-bilateral",
    }
    dated = [a for a in agreements if a["signed"] is not None]
    undated = [a for a in agreements if a["signed"] is None]
    assert agreements == dated + undated
    days = [a["signed"]["first_day"] for a in dated]
    assert days == sorted(days)
    forum = agreements[0]
    assert forum["signed"]["date"] == "2019"
    assert forum["event"]["name"] == "Beijing International Forum"
    assert forum["documents"] == 10
    assert [p["id"] for p in forum["parties"]] == ["AZE", "CHN"]
    for agreement in agreements:
        seed = SEED_FACTS[agreement["id"]]
        assert agreement["title"] == seed["agreement"]["title"]
        assert agreement["evidence"]["text"] == seed["evidence"]["text"]


def test_dossier_quotes_with_speakers(client: TestClient) -> None:
    quotes = dossier(client)["quotes"]
    assert {q["id"] for q in quotes} == set(SEED_QUOTES)
    assert len(quotes) == len(SEED_QUOTES)
    names = {
        "arzukhan-alizadeh": "Arzukhan Alizadeh",
        "azer-allahveranov": "Azer Allahveranov",
    }
    for quote in quotes:
        seed = SEED_QUOTES[quote["id"]]
        assert quote["speaker"] == {
            "id": seed["speaker"],
            "name": names[seed["speaker"]],
            "role": seed["speaker_role"],
        }
        assert quote["text"] == seed["evidence"]["text"]
        assert quote["evidence"] == {"source_id": SEED_SOURCE, **seed["evidence"]}
    dates = [q["date"] for q in quotes]
    assert dates == sorted(dates, reverse=True)


def test_dossier_sources(client: TestClient) -> None:
    sources = dossier(client)["sources"]
    assert [s["id"] for s in sources] == [SEED_SOURCE]
    (source,) = sources
    assert source["url"] == SEED["source"]["url"]
    assert source["title"] == SEED["source"]["title"]
    assert source["published"] == SEED["source"]["published"]
    assert source["outlet"]["id"] == "trend"
    assert "text" not in source


@pytest.mark.parametrize(
    ("a", "b", "param"),
    [
        ("XXX", "CHN", "a"),
        ("AZE", "ZZ", "b"),
        ("12", "CHN", "a"),
        ("AZE", "C", "b"),
        ("AZEX", "CHN", "a"),
        ("AZE", "C-N", "b"),
    ],
)
def test_dossier_bad_codes_are_400(client: TestClient, a: str, b: str, param: str) -> None:
    assert_problem(client.get(f"/v1/relations/{a}/{b}"), 400, param)


@pytest.mark.parametrize(("a", "b"), [("AZE", "AZE"), ("AZE", "az"), ("cn", "CHN")])
def test_dossier_same_country_twice_is_400(client: TestClient, a: str, b: str) -> None:
    assert_problem(client.get(f"/v1/relations/{a}/{b}"), 400)


def test_dossier_unknown_parameter_and_bad_as_of_are_400(client: TestClient) -> None:
    assert_problem(client.get("/v1/relations/AZE/CHN", params={"limit": "5"}), 400, "limit")
    assert_problem(client.get("/v1/relations/AZE/CHN", params={"as_of": "yesterday"}), 400)


def test_dossier_as_of_before_a_correction(writer: TestClient) -> None:
    before = correct_investment(writer)

    now = indicators(dossier(writer))[("investment", "CHN", "AZE")]["latest"]
    assert now["id"] == CHN_TO_AZE
    assert now["revision"] == 2
    assert now["quantity"]["value"] == "942300000"
    assert now["quantity"]["comparator"] == "exact"
    assert now["quantity"]["hedge"] is None

    then_body = dossier(writer, "CHN", "AZE", as_of=before.isoformat())
    then = indicators(then_body)[("investment", "CHN", "AZE")]["latest"]
    assert then["id"] == CHN_TO_AZE
    assert then["revision"] == 1
    assert then["quantity"]["value"] == "1000000000"
    assert then["quantity"]["comparator"] == "approx"
    assert then["quantity"]["hedge"] == "nearly"
    # the rest of the dossier is as it was: the other figures did not change
    assert set(indicators(then_body)) == set(EXPECTED_INDICATORS)
    assert len(then_body["agreements"]) == 4
    assert len(then_body["quotes"]) == len(SEED_QUOTES)

    # before anything was stored, there was nothing to say about the pair
    empty = dossier(writer, as_of="2000-01-01T00:00:00Z")
    assert (empty["indicators"], empty["conflicts"], empty["agreements"]) == ([], [], [])
    assert (empty["quotes"], empty["sources"]) == ([], [])


# --- conflicts ------------------------------------------------------------------------------


def test_a_second_source_with_another_figure_is_a_conflict(writer: TestClient) -> None:
    source = post_second_source(writer)
    # ingestion only proposes drafts: no conflict until a figure is published
    assert dossier(writer)["conflicts"] == []
    before = datetime.now(UTC)
    new = post_turnover(writer, source["id"], LAST_YEAR)
    assert new["time"]["first_day"] == "2024-01-01"
    assert new["time"]["last_day"] == "2024-12-31"

    body = dossier(writer, "CHN", "AZE")
    assert body == dossier(writer, "AZE", "CHN")
    assert len(body["conflicts"]) == 1
    (conflict,) = body["conflicts"]
    assert conflict["indicator"] == "trade_turnover"
    assert (conflict["from"], conflict["to"]) == (None, None)
    by_id = {f["id"]: f for f in conflict["facts"]}
    assert set(by_id) == {TURNOVER, new["id"]}
    assert len(conflict["facts"]) == 2
    # side by side, each with its own source and its own words, exactly as published
    assert by_id[TURNOVER]["evidence"]["source_id"] == SEED_SOURCE
    assert by_id[new["id"]]["evidence"]["source_id"] == source["id"]
    assert by_id[new["id"]]["evidence"]["text"] == SECOND_EVIDENCE
    for fact_id, fact in by_id.items():
        assert fact == ok(writer.get(f"/v1/facts/{fact_id}"))

    # the latest figure is one of the two, unchanged: not an average, not a merged hedge
    turnover = indicators(body)[("trade_turnover", None, None)]
    assert turnover["facts"] == 2
    assert turnover["latest"]["id"] in by_id
    assert turnover["latest"] == by_id[turnover["latest"]["id"]]
    assert turnover["latest"]["id"] == TURNOVER  # its period ends later (2025-04-28)
    assert turnover["latest"]["quantity"]["value"] == "3500000000"
    assert turnover["latest"]["quantity"]["comparator"] == "more_than"

    # no other indicator is touched
    for key, item in indicators(body).items():
        if key != ("trade_turnover", None, None):
            assert item["facts"] == 1
            assert item["latest"]["id"] == EXPECTED_INDICATORS[key]
    assert [s["id"] for s in body["sources"]] == [SEED_SOURCE, source["id"]]

    # as it stood before the second figure: no conflict
    earlier = dossier(writer, as_of=before.isoformat())
    assert earlier["conflicts"] == []
    assert indicators(earlier)[("trade_turnover", None, None)]["facts"] == 1


def test_a_different_figure_for_another_period_is_no_conflict(writer: TestClient) -> None:
    source = post_second_source(writer)
    old = post_turnover(writer, source["id"], {"type": "date", "date": "2015", "text": None})
    body = dossier(writer)
    assert body["conflicts"] == []
    turnover = indicators(body)[("trade_turnover", None, None)]
    assert turnover["facts"] == 2
    assert turnover["latest"]["id"] == TURNOVER
    points = series(writer, "trade_turnover", "AZE-CHN")["points"]
    assert [p["fact_id"] for p in points] == [old["id"], TURNOVER]


# --- series ---------------------------------------------------------------------------------


def assert_point_is_the_fact(client: TestClient, point: dict[str, Any]) -> None:
    fact = ok(client.get(f"/v1/facts/{point['fact_id']}"))
    quantity, time = fact["quantity"], fact["time"]
    # Points are JSON numbers, for charts; `exact` is the fact's exact decimal string.
    assert point["exact"] == quantity["value"]
    assert point["value"] == float(quantity["value"])
    assert point["comparator"] == quantity["comparator"]
    assert point["hedge"] == quantity["hedge"]
    for bound in ("low", "high"):
        expected = quantity[bound]
        assert point[bound] == (None if expected is None else float(expected))
    assert point["unit"] == quantity["unit"]
    assert point["text"] == quantity["text"]
    assert point["first_day"] == time["first_day"]
    assert point["last_day"] == time["last_day"]
    assert point["source_id"] == fact["evidence"]["source_id"]


def test_series_of_trade_turnover(client: TestClient) -> None:
    body = series(client, "trade_turnover", "AZE-CHN")
    assert body["indicator"] == "trade_turnover"
    assert body["direction"] == "bilateral"
    assert body["unit"] == "USD"
    assert [c["id"] for c in body["pair"]] == ["AZE", "CHN"]
    assert len(body["points"]) == 1
    (point,) = body["points"]
    assert point["fact_id"] == TURNOVER
    assert point["value"] == 3500000000
    assert point["exact"] == "3500000000"
    assert point["comparator"] == "more_than"
    assert point["low"] == 3500000000
    assert point["high"] is None
    assert (point["first_day"], point["last_day"]) == ("2020-01-01", "2025-04-28")
    assert point["text"] == "surpassing $3.5 billion"
    assert_point_is_the_fact(client, point)
    # bilateral: either order, either code form, gives the same points
    for pair in ("CHN-AZE", "az-cn", "AZE/CHN"):
        assert series(client, "trade_turnover", pair)["points"] == body["points"], pair


def test_series_points_are_ordered_by_time(writer: TestClient) -> None:
    source = post_second_source(writer)
    new = post_turnover(writer, source["id"], LAST_YEAR)
    points = series(writer, "trade_turnover", "AZE-CHN")["points"]
    assert [p["fact_id"] for p in points] == [new["id"], TURNOVER]
    keys = [(p["last_day"], p["first_day"]) for p in points]
    assert keys == sorted(keys)
    for point in points:
        assert_point_is_the_fact(writer, point)
    assert points[0]["value"] == 2900000000
    assert points[0]["comparator"] == "exact"
    assert points[0]["low"] == points[0]["high"] == 2900000000
    assert points[0]["source_id"] == source["id"]


def test_investment_series_is_directed(client: TestClient) -> None:
    china = series(client, "investment", "CHN-AZE")
    assert china["direction"] == "subject_to_counterpart"
    assert [c["id"] for c in china["pair"]] == ["CHN", "AZE"]
    assert [p["fact_id"] for p in china["points"]] == [CHN_TO_AZE]
    assert china["points"][0]["value"] == 1000000000
    assert china["points"][0]["hedge"] == "nearly"
    assert china["points"][0]["comparator"] == "approx"
    assert_point_is_the_fact(client, china["points"][0])

    azerbaijan = series(client, "investment", "AZE-CHN")
    assert [c["id"] for c in azerbaijan["pair"]] == ["AZE", "CHN"]
    assert [p["fact_id"] for p in azerbaijan["points"]] == [AZE_TO_CHN]
    assert azerbaijan["points"][0]["value"] == 2000000000
    assert azerbaijan["points"][0]["hedge"] == "around"
    assert_point_is_the_fact(client, azerbaijan["points"][0])

    assert [p["fact_id"] for p in series(client, "partner_rank", "CHN-AZE")["points"]] == [RANK]
    assert series(client, "partner_rank", "AZE-CHN")["points"] == []


def test_series_as_of_before_a_correction(writer: TestClient) -> None:
    before = correct_investment(writer)
    (now,) = series(writer, "investment", "CHN-AZE")["points"]
    assert (now["fact_id"], now["exact"], now["comparator"]) == (CHN_TO_AZE, "942300000", "exact")
    assert now["value"] == 942300000
    assert now["hedge"] is None
    (then,) = series(writer, "investment", "CHN-AZE", as_of=before.isoformat())["points"]
    assert (then["fact_id"], then["exact"], then["comparator"]) == (
        CHN_TO_AZE,
        "1000000000",
        "approx",
    )
    assert then["hedge"] == "nearly"
    empty = series(writer, "investment", "CHN-AZE", as_of="2000-01-01T00:00:00Z")
    assert empty["points"] == []


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"indicator": "gdp", "pair": "AZE-CHN"}, "indicator"),
        ({"pair": "AZE-CHN"}, "indicator"),
        ({"indicator": "investment", "pair": "AZE-XXX"}, "pair"),
        ({"indicator": "investment", "pair": "AZE"}, "pair"),
        ({"indicator": "investment", "pair": "AZE-CHN-RUS"}, "pair"),
        ({"indicator": "investment", "pair": "AZE-AZE"}, "pair"),
        ({"indicator": "investment"}, "pair"),
        ({"indicator": "investment", "pair": "AZE-CHN", "bogus": "1"}, "bogus"),
    ],
)
def test_series_bad_indicator_or_pair_is_400(
    client: TestClient, params: dict[str, str], param: str
) -> None:
    assert_problem(client.get("/v1/series", params=params), 400, param)


def test_series_of_a_pair_unknown_to_the_data_is_empty_like_the_dossier(
    client: TestClient,
) -> None:
    """USA is a valid code but no entity yet: the dossier and the series are 200 and empty,
    both naming the two countries (from ISO 3166-1), as every list is for such a code."""
    dossier = client.get("/v1/relations/AZE/USA")
    assert dossier.status_code == 200
    assert [c["id"] for c in dossier.json()["pair"]] == ["AZE", "USA"]
    assert dossier.json()["indicators"] == []
    series = client.get("/v1/series", params={"indicator": "investment", "pair": "AZE-USA"})
    assert series.status_code == 200
    assert series.json()["points"] == []
    assert [c["name"] for c in series.json()["pair"]] == ["Azerbaijan", "United States"]


# --- facets ---------------------------------------------------------------------------------


def expected_facets(facts: list[dict[str, Any]]) -> dict[str, Any]:
    kind: Counter[str] = Counter()
    country: Counter[str] = Counter()
    speaker: Counter[str] = Counter()
    source: Counter[str] = Counter()
    year: Counter[str] = Counter()
    for fact in facts:
        kind[fact["kind"]] += 1
        country[fact["subject"]["id"]] += 1
        if fact["counterpart"] is not None:
            country[fact["counterpart"]["id"]] += 1
        if fact["claimed_by"] is not None:
            speaker[fact["claimed_by"]["id"]] += 1
        source[fact["evidence"]["source_id"]] += 1
        if fact["time"] is not None:
            year[fact["time"]["first_day"][:4]] += 1
    return {
        "total": len(facts),
        "kind": dict(kind),
        "country": dict(country),
        "speaker": dict(speaker),
        "source": dict(source),
        "year": dict(year),
    }


def counted(facets: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"total": facets["total"]}
    for name in ("kind", "country", "speaker", "source", "year"):
        values = [c["value"] for c in facets[name]]
        assert len(values) == len(set(values)), f"{name} lists a value twice: {values}"
        assert all(c["count"] > 0 for c in facets[name]), facets[name]
        result[name] = {c["value"]: c["count"] for c in facets[name]}
    return result


FACET_FILTERS: list[list[tuple[str, str]]] = [
    [],
    [("country", "AZE")],
    [("country", "cn")],
    [("kind", "investment")],
    [("kind", "investment"), ("kind", "agreement")],
    [("speaker", "azer-allahveranov")],
    [("speaker", "arzukhan-alizadeh"), ("kind", "agreement")],
    [("from", "2020"), ("to", "2024")],
    [("to", "1995")],
    [("from", "2025-05")],
    [("country", "CHN"), ("counterpart", "AZE"), ("direction", "subject_to_counterpart")],
    [("source", SEED_SOURCE), ("from", "2019")],
    [("country", "RUS")],
]


@pytest.mark.parametrize("params", FACET_FILTERS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p))
def test_facets_equal_counts_from_the_list(
    client: TestClient, params: list[tuple[str, str]]
) -> None:
    facets = ok(client.get("/v1/facts/facets", params=params))
    assert counted(facets) == expected_facets(all_facts(client, params))
    for name in ("kind", "country", "speaker", "source"):
        counts = [c["count"] for c in facets[name]]
        assert counts == sorted(counts, reverse=True), name
    years = [c["value"] for c in facets["year"]]
    assert years == sorted(years)


def test_facets_labels(client: TestClient) -> None:
    facets = ok(client.get("/v1/facts/facets"))
    assert facets["total"] == len(SEED_FACTS)
    labels = {(c["value"], c["label"]) for c in facets["country"]}
    assert labels == {("AZE", "Azerbaijan"), ("CHN", "China")}
    speakers = {c["value"]: (c["label"], c["count"]) for c in facets["speaker"]}
    by_speaker = Counter(f["claimed_by"] for f in SEED_FACTS.values())
    assert speakers == {
        "arzukhan-alizadeh": ("Arzukhan Alizadeh", by_speaker["arzukhan-alizadeh"]),
        "azer-allahveranov": ("Azer Allahveranov", by_speaker["azer-allahveranov"]),
    }
    assert facets["source"] == [
        {"value": SEED_SOURCE, "label": SEED["source"]["title"], "count": len(SEED_FACTS)}
    ]


def test_facets_follow_a_second_source(writer: TestClient) -> None:
    source = post_second_source(writer)
    post_turnover(writer, source["id"], LAST_YEAR)
    for params in ([], [("kind", "trade_turnover")], [("source", source["id"])], [("to", "2024")]):
        facets = ok(writer.get("/v1/facts/facets", params=params))
        assert counted(facets) == expected_facets(all_facts(writer, params)), params
    by_source = {c["value"]: c["count"] for c in ok(writer.get("/v1/facts/facets"))["source"]}
    assert by_source == {SEED_SOURCE: len(SEED_FACTS), source["id"]: 1}
    # the drafts that ingestion proposed are counted only when asked for
    drafts = [("status", "draft")]
    facets = ok(writer.get("/v1/facts/facets", params=drafts))
    assert counted(facets) == expected_facets(all_facts(writer, drafts))


@pytest.mark.parametrize("param", ["bogus", "limit", "cursor", "sort", "format"])
def test_facets_unknown_parameter_is_400(client: TestClient, param: str) -> None:
    assert_problem(client.get("/v1/facts/facets", params={param: "1"}), 400, param)


def test_facets_bad_filter_values_are_400(client: TestClient) -> None:
    assert_problem(client.get("/v1/facts/facets", params={"country": "XXX"}), 400, "country")
    assert_problem(client.get("/v1/facts/facets", params={"speaker": "nobody"}), 400, "speaker")
    assert_problem(client.get("/v1/facts/facets", params={"from": "20x0"}), 400, "from")
