"""GET /v1/facts and /v1/facts/{id}: every filter, sort and the keyset pagination.

The curated seed file is the oracle: expected results are computed from it here,
independently of the app's query code, so a wrong filter shows up as a diff.
"""

import base64
import calendar
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

SEED_FILE = Path(__file__).resolve().parent.parent / "app/seed/data/trend-4036385.yaml"
SEED = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
FACTS: dict[str, dict[str, Any]] = {f["id"]: f for f in SEED["facts"]}
PROBLEM_JSON = "application/problem+json"
LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')

Params = list[tuple[str, str]]


# --- oracle helpers: the documented rules, re-implemented from the seed file -----------------


def first_day(reduced: str) -> date:
    parts = [int(p) for p in reduced.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def last_day(reduced: str) -> date:
    parts = [int(p) for p in reduced.split("-")]
    if len(parts) == 1:
        return date(parts[0], 12, 31)
    if len(parts) == 2:
        return date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return date(*parts)


def covered_days(fact: dict[str, Any]) -> tuple[date, date] | None:
    """The first and last day a fact's date or period covers, or None without a time."""
    time = fact.get("time")
    if not time:
        return None
    if time["type"] == "date":
        return first_day(time["date"]), last_day(time["date"])
    return first_day(time["start"]), last_day(time["end"])


BELOW_HEDGES = {"nearly", "almost", "just under", "close to", "just short of"}


def implied_interval(fact: dict[str, Any]) -> tuple[Decimal | None, Decimal | None] | None:
    """The documented rule: exact [v,v]; nearly [0.9v,v]; around [0.9v,1.1v]; more than [v,∞)."""
    quantity = fact.get("quantity")
    if not quantity:
        return None
    value, comparator = Decimal(quantity["value"]), quantity["comparator"]
    if comparator == "exact":
        return value, value
    if comparator == "approx":
        hedge = (quantity.get("hedge") or "").lower()
        return value * Decimal("0.9"), value if hedge in BELOW_HEDGES else value * Decimal("1.1")
    if comparator in ("more_than", "at_least"):
        return value, None
    return None, value


def expected_ids(keep: Any) -> set[str]:
    return {fact_id for fact_id, fact in FACTS.items() if keep(fact)}


def list_facts(client: TestClient, params: Params | None = None) -> list[dict[str, Any]]:
    """One page big enough for every seed fact; fails loudly if the API pages anyway."""
    response = client.get("/v1/facts", params=[*(params or []), ("limit", "500")])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None
    return list(body["items"])


def fact_ids(client: TestClient, params: Params | None = None) -> list[str]:
    return [item["id"] for item in list_facts(client, params)]


def assert_problem(response: Any, status: int, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["status"] == status
    if param is not None:
        assert param in [p["name"] for p in problem["invalid_params"]], problem
    return dict(problem)


# --- the default list ------------------------------------------------------------------------


def test_default_list_is_every_published_seed_fact(client: TestClient) -> None:
    """Without filters the client gets the 17 curated facts, all published, in one page."""
    response = client.get("/v1/facts")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "next", "limit"}
    assert body["limit"] == 50
    assert body["next"] is None
    assert "link" not in response.headers
    assert len(FACTS) == 17
    assert {item["id"] for item in body["items"]} == set(FACTS)
    assert {item["status"] for item in body["items"]} == {"published"}


# --- country, counterpart, direction ----------------------------------------------------------


@pytest.mark.parametrize("code", ["AZE", "CHN"])
def test_country_matches_either_side(client: TestClient, code: str) -> None:
    """`country` finds facts where the country is the subject or the counterpart."""
    got = set(fact_ids(client, [("country", code)]))
    assert got == expected_ids(lambda f: code in (f["subject"], f.get("counterpart")))
    assert any(FACTS[i]["subject"] == code for i in got)
    assert any(FACTS[i]["counterpart"] == code for i in got)


def test_country_alpha2_lowercase_is_normalised_to_alpha3(client: TestClient) -> None:
    """Clients may send 'az'; it means AZE."""
    assert fact_ids(client, [("country", "az")]) == fact_ids(client, [("country", "AZE")])
    assert fact_ids(client, [("country", "cn")]) == fact_ids(client, [("country", "CHN")])


def test_country_is_repeatable_meaning_any_of_them(client: TestClient) -> None:
    """Repeating `country` widens the filter: a fact about any of the countries is kept."""
    assert fact_ids(client, [("country", "USA")]) == []
    assert set(fact_ids(client, [("country", "USA"), ("country", "AZE")])) == set(FACTS)


def test_counterpart_restricts_the_pair(client: TestClient) -> None:
    """A counterpart nobody in the seed deals with leaves nothing; the real one keeps all."""
    assert fact_ids(client, [("country", "AZE"), ("counterpart", "USA")]) == []
    assert set(fact_ids(client, [("country", "AZE"), ("counterpart", "CHN")])) == set(FACTS)
    assert set(fact_ids(client, [("counterpart", "cn")])) == set(FACTS)


def test_pair_filter_is_order_insensitive(client: TestClient) -> None:
    """`country=CHN&counterpart=AZE` and `country=AZE&counterpart=CHN` are the same pair."""
    forward = fact_ids(client, [("country", "CHN"), ("counterpart", "AZE")])
    backward = fact_ids(client, [("country", "AZE"), ("counterpart", "CHN")])
    assert forward == backward
    assert set(forward) == expected_ids(
        lambda f: {f["subject"], f.get("counterpart")} == {"AZE", "CHN"}
    )


@pytest.mark.parametrize(("origin", "target"), [("CHN", "AZE"), ("AZE", "CHN")])
def test_direction_makes_the_pair_directed(client: TestClient, origin: str, target: str) -> None:
    """With direction=subject_to_counterpart, CHN->AZE investment is not AZE->CHN investment."""
    got = fact_ids(
        client,
        [("country", origin), ("counterpart", target), ("direction", "subject_to_counterpart")],
    )
    expected = expected_ids(
        lambda f: (
            f["direction"] == "subject_to_counterpart"
            and f["subject"] == origin
            and f["counterpart"] == target
        )
    )
    assert set(got) == expected
    assert len(expected) == 1
    (only,) = got
    assert FACTS[only]["kind"] == "investment"


def test_direction_alone_filters_by_direction(client: TestClient) -> None:
    """`direction` is also a plain filter on the fact's direction."""
    for direction in ("subject_to_counterpart", "bilateral"):
        got = set(fact_ids(client, [("direction", direction)]))
        assert got == expected_ids(lambda f, d=direction: f["direction"] == d)


# --- kind, speaker, source, unit, comparator, status -----------------------------------------


def test_kind_single(client: TestClient) -> None:
    """`kind=investment` gives exactly the investment facts."""
    assert set(fact_ids(client, [("kind", "investment")])) == expected_ids(
        lambda f: f["kind"] == "investment"
    )


def test_kind_is_repeatable(client: TestClient) -> None:
    """Repeating `kind` keeps facts of any of the kinds."""
    kinds = {"investment", "agreement", "partner_rank"}
    got = set(fact_ids(client, [("kind", k) for k in sorted(kinds)]))
    assert got == expected_ids(lambda f: f["kind"] in kinds)


@pytest.mark.parametrize("speaker", ["arzukhan-alizadeh", "azer-allahveranov"])
def test_speaker(client: TestClient, speaker: str) -> None:
    """`speaker` keeps the facts that person claimed, with their role as printed."""
    items = list_facts(client, [("speaker", speaker)])
    assert {i["id"] for i in items} == expected_ids(lambda f: f["claimed_by"] == speaker)
    for item in items:
        assert item["claimed_by"]["id"] == speaker
        assert item["claimed_by"]["role"] == FACTS[item["id"]]["claimed_role"]


def test_speaker_unknown_is_a_400(client: TestClient) -> None:
    """A speaker id that is no entity is a client error, not an empty list."""
    assert_problem(client.get("/v1/facts", params={"speaker": "nobody"}), 400, "speaker")


def test_source(client: TestClient) -> None:
    """`source` keeps the facts traced to that article; an unknown source is a 400."""
    assert set(fact_ids(client, [("source", SEED["source"]["id"])])) == set(FACTS)
    assert_problem(client.get("/v1/facts", params={"source": "no-such-source"}), 400, "source")


@pytest.mark.parametrize("unit", ["USD", "documents", "rank", "ratio", "years"])
def test_unit(client: TestClient, unit: str) -> None:
    """`unit` keeps facts whose figure is in that unit."""
    got = set(fact_ids(client, [("unit", unit)]))
    assert got == expected_ids(lambda f: (f.get("quantity") or {}).get("unit") == unit)
    assert got


@pytest.mark.parametrize("comparator", ["exact", "approx", "more_than"])
def test_comparator(client: TestClient, comparator: str) -> None:
    """`comparator` keeps facts whose figure was worded that way."""
    got = set(fact_ids(client, [("comparator", comparator)]))
    assert got == expected_ids(lambda f: (f.get("quantity") or {}).get("comparator") == comparator)
    assert got


def test_status_defaults_to_published(client: TestClient) -> None:
    """Drafts and retracted facts are only listed when asked for; the seed has none."""
    assert fact_ids(client, [("status", "draft")]) == []
    assert fact_ids(client, [("status", "retracted")]) == []
    every = fact_ids(client, [("status", s) for s in ("draft", "published", "retracted")])
    assert set(every) == set(FACTS)
    assert fact_ids(client, [("status", "published")]) == fact_ids(client)


# --- from / to -------------------------------------------------------------------------------


def test_from_to_same_year_finds_overlapping_dates_and_periods(client: TestClient) -> None:
    """from=2024&to=2024: the July 2024 agreement and periods spanning 2024, not 2019's forum."""
    got = set(fact_ids(client, [("from", "2024"), ("to", "2024")]))
    assert "aze-chn-agreement-2024-07" in got
    assert "aze-chn-investment-chn-to-aze-since-1995" in got
    assert "aze-chn-trade-turnover-last-five-years" in got
    assert "aze-chn-agreement-beijing-forum-2019" not in got
    assert "aze-chn-diplomatic-missions-1992" not in got


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024", "2024"),
        ("2019", "2019"),
        ("2019-06", "2019-06"),
        ("2025-04-28", None),
        ("2025-04-29", None),
        ("2025-09", None),
        (None, "1991"),
        (None, "1990-12-31"),
        ("1992-01-01", "1994-12-31"),
        ("2025-04", "2025-04"),
    ],
)
def test_from_to_is_an_overlap_test(client: TestClient, start: str | None, end: str | None) -> None:
    """A fact is kept when its covered days overlap [from, to]; facts without a time are not."""
    params: Params = []
    if start:
        params.append(("from", start))
    if end:
        params.append(("to", end))

    def overlaps(fact: dict[str, Any]) -> bool:
        days = covered_days(fact)
        if days is None:
            return False
        return (start is None or days[1] >= first_day(start)) and (
            end is None or days[0] <= last_day(end)
        )

    assert set(fact_ids(client, params)) == expected_ids(overlaps)


# --- value_min / value_max -------------------------------------------------------------------


def test_value_min_respects_more_than(client: TestClient) -> None:
    """'surpassing $3.5 billion' can be above 3bn; 'nearly $1 billion' cannot."""
    got = set(fact_ids(client, [("value_min", "3000000000")]))
    assert "aze-chn-trade-turnover-last-five-years" in got
    assert "aze-chn-investment-chn-to-aze-since-1995" not in got
    assert "aze-chn-investment-aze-to-chn" not in got


def test_value_max_respects_nearly_and_around(client: TestClient) -> None:
    """'nearly $1 billion' is at most 1bn; 'around $2 billion' is not."""
    got = set(fact_ids(client, [("value_max", "1000000000")]))
    assert "aze-chn-investment-chn-to-aze-since-1995" in got
    assert "aze-chn-investment-aze-to-chn" not in got
    assert "aze-chn-trade-turnover-last-five-years" not in got


@pytest.mark.parametrize(
    ("value_min", "value_max"),
    [
        ("3000000000", None),
        ("1000000000", None),
        ("1000000001", None),
        ("2200000000", None),
        ("2200000001", None),
        (None, "1000000000"),
        (None, "900000000"),
        (None, "899999999"),
        (None, "1800000000"),
        (None, "1799999999"),
        ("1900000000", "2100000000"),
        ("5", "20"),
        ("2.5", "3.5"),
    ],
)
def test_value_filters_follow_the_documented_interval_rule(
    client: TestClient, value_min: str | None, value_max: str | None
) -> None:
    """Each fact's wording implies an interval; a value filter keeps intervals that reach it."""
    params: Params = []
    if value_min:
        params.append(("value_min", value_min))
    if value_max:
        params.append(("value_max", value_max))

    def keep(fact: dict[str, Any]) -> bool:
        interval = implied_interval(fact)
        if interval is None:
            return False
        low, high = interval
        if value_min is not None and high is not None and high < Decimal(value_min):
            return False
        return not (value_max is not None and low is not None and low > Decimal(value_max))

    assert set(fact_ids(client, params)) == expected_ids(keep)


def test_value_filter_leaves_out_facts_without_a_figure(client: TestClient) -> None:
    """value_min=0 keeps every fact with a figure and none without."""
    assert set(fact_ids(client, [("value_min", "0")])) == expected_ids(lambda f: f.get("quantity"))


def test_huge_value_filters_keep_only_open_ended_figures(client: TestClient) -> None:
    """A threshold far above any figure leaves the 'more than' facts, and does not crash."""
    got = set(fact_ids(client, [("value_min", "1e30")]))
    assert got == expected_ids(lambda f: (f.get("quantity") or {}).get("comparator") == "more_than")


def test_value_min_above_value_max_is_a_400(client: TestClient) -> None:
    """An empty range is a mistake worth telling the client about."""
    response = client.get("/v1/facts", params={"value_min": "10", "value_max": "5"})
    assert_problem(response, 400, "value_min")


@pytest.mark.parametrize("bad", ["abc", "nan", "inf"])
def test_value_filter_must_be_a_finite_number(client: TestClient, bad: str) -> None:
    """Not-a-number values are refused as bad input."""
    assert_problem(client.get("/v1/facts", params={"value_min": bad}), 400, "value_min")


# --- q ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["investment", "BILLION", "Middle Corridor", "nearly billion"])
def test_q_matches_all_words_case_insensitively(client: TestClient, q: str) -> None:
    """Every word must appear (any case) in the statement or the evidence."""
    words = q.lower().split()

    def keep(fact: dict[str, Any]) -> bool:
        texts = (fact["statement"].lower(), fact["evidence"]["text"].lower())
        return all(any(w in t for t in texts) for w in words)

    expected = expected_ids(keep)
    assert expected
    assert set(fact_ids(client, [("q", q)])) == expected


@pytest.mark.parametrize("q", ["%", "_", "' OR 1=1 --", "%billion%", "\\", "b_llion", '") OR ("1'])
def test_q_is_literal_text(client: TestClient, q: str) -> None:
    """LIKE wildcards and SQL in `q` are plain characters: nothing in the seed matches them."""
    assert fact_ids(client, [("q", q)]) == []


# --- sort ------------------------------------------------------------------------------------


def expected_order(sort: str) -> list[str]:
    """Order of every seed fact for a sort: the key, then id. Undated facts sort as the
    oldest (first with `date`, last with `-date`); facts without a figure go last."""
    descending = sort.startswith("-")
    field = sort.lstrip("-")

    def key(fact: dict[str, Any]) -> tuple[Any, str]:
        if field == "date":
            days = covered_days(fact)
            return (days[0] if days else date.min), fact["id"]
        if field == "value":
            quantity = fact.get("quantity")
            missing = Decimal("-Infinity") if descending else Decimal("Infinity")
            return (Decimal(quantity["value"]) if quantity else missing), fact["id"]
        return fact["id"], fact["id"]

    return [f["id"] for f in sorted(FACTS.values(), key=key, reverse=descending)]


SORTS = ["date", "-date", "value", "-value", "id", "-id"]


@pytest.mark.parametrize("sort", SORTS)
def test_sort_orders(client: TestClient, sort: str) -> None:
    """Each sort gives a total, stable order: key then id, missing keys last."""
    assert fact_ids(client, [("sort", sort)]) == expected_order(sort)


def test_default_sort_is_newest_first(client: TestClient) -> None:
    """Newest first by default (`-date`)."""
    assert fact_ids(client) == expected_order("-date")


def test_sort_value_ascending_reads_the_decimals(client: TestClient) -> None:
    """Sorting by value compares numbers, not strings: 4 before 10 before 33."""
    values = [
        Decimal(item["quantity"]["value"])
        for item in list_facts(client, [("sort", "value")])
        if item["quantity"]
    ]
    assert values == sorted(values)
    assert values[-1] == Decimal("3500000000")


# --- keyset pagination -----------------------------------------------------------------------


def next_link(response: Any) -> str | None:
    header = response.headers.get("link")
    if header is None:
        return None
    match = LINK_NEXT.search(header)
    assert match, header
    return match.group(1)


def walk_pages(client: TestClient, path: str, params: Params, *, via: str) -> list[str]:
    """Follow `next` (as the cursor parameter) or the Link header to the last page."""
    seen: list[str] = []
    response = client.get(path, params=params)
    for _ in range(100):
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= body["limit"]
        seen.extend(item["id"] for item in body["items"])
        link = next_link(response)
        if body["next"] is None:
            assert link is None
            return seen
        assert link is not None
        assert f"cursor={body['next']}" in link
        if via == "link":
            response = client.get(link)
        else:
            response = client.get(path, params=[*params, ("cursor", body["next"])])
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("via", ["next", "link"])
@pytest.mark.parametrize("sort", SORTS)
def test_walking_every_page_yields_the_full_list_once(
    client: TestClient, sort: str, via: str
) -> None:
    """Pages of 3 put end to end are exactly the one-page list: no gaps, no duplicates."""
    walked = walk_pages(client, "/v1/facts", [("sort", sort), ("limit", "3")], via=via)
    assert len(walked) == len(set(walked))
    assert walked == fact_ids(client, [("sort", sort)])


@pytest.mark.parametrize("via", ["next", "link"])
def test_walking_pages_keeps_repeated_filters(client: TestClient, via: str) -> None:
    """The Link header keeps repeated parameters (kind twice) and the page size."""
    params: Params = [
        ("kind", "agreement"),
        ("kind", "relationship_status"),
        ("country", "az"),
        ("limit", "2"),
    ]
    walked = walk_pages(client, "/v1/facts", params, via=via)
    assert len(walked) == len(set(walked))
    assert set(walked) == expected_ids(lambda f: f["kind"] in {"agreement", "relationship_status"})
    assert walked == fact_ids(client, params[:-1])


def test_limit_sets_the_page_size(client: TestClient) -> None:
    """`limit` is echoed and respected; 500 is allowed."""
    body = client.get("/v1/facts", params={"limit": "4"}).json()
    assert body["limit"] == 4
    assert len(body["items"]) == 4
    assert body["next"]
    assert client.get("/v1/facts", params={"limit": "500"}).status_code == 200


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten"])
def test_limit_out_of_range_is_a_400_naming_limit(client: TestClient, limit: str) -> None:
    """A page size outside 1..500 is refused with the parameter named."""
    assert_problem(client.get("/v1/facts", params={"limit": limit}), 400, "limit")


def first_cursor(client: TestClient, params: Params) -> str:
    body = client.get("/v1/facts", params=[*params, ("limit", "2")]).json()
    assert body["next"]
    return str(body["next"])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def tampered_cursors(token: str) -> list[str]:
    body, signature = token.split(".", 1)
    payload = json.loads(unb64(body))
    moved = b64(json.dumps({**payload, "i": "zzz"}, separators=(",", ":")).encode())
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [
        f"{moved}.{signature}",  # payload edited, old signature
        f"{body}.{flipped}",  # signature edited
        body,  # signature dropped
        "not-a-cursor",
        "%%%.***",
        f"{body}.{signature}x",
    ]


def test_tampered_cursor_is_a_400(client: TestClient) -> None:
    """A cursor the API did not issue is refused clearly, never a 500 or a wrong page."""
    token = first_cursor(client, [])
    for bad in tampered_cursors(token):
        response = client.get("/v1/facts", params={"limit": "2", "cursor": bad})
        assert_problem(response, 400, "cursor")


def test_cursor_reused_with_other_filters_is_a_400(client: TestClient) -> None:
    """A cursor belongs to its query: other filters or another sort must start again."""
    token = first_cursor(client, [("country", "AZE")])
    for params in (
        {"country": "CHN"},
        {"country": "AZE", "kind": "investment"},
        {"country": "AZE", "sort": "id"},
        {},
    ):
        response = client.get("/v1/facts", params={**params, "limit": "2", "cursor": token})
        assert_problem(response, 400, "cursor")


def test_cursor_survives_a_different_page_size(client: TestClient) -> None:
    """The page size is not a filter: the same cursor may fetch a bigger next page."""
    token = first_cursor(client, [("sort", "id")])
    response = client.get("/v1/facts", params={"sort": "id", "limit": "50", "cursor": token})
    assert response.status_code == 200
    assert [i["id"] for i in response.json()["items"]] == expected_order("id")[2:]


def test_cursor_from_another_resource_is_a_400(client: TestClient) -> None:
    """A quotes cursor cannot page facts."""
    token = client.get("/v1/quotes", params={"limit": "1"}).json()["next"]
    assert token
    assert_problem(client.get("/v1/facts", params={"cursor": token}), 400, "cursor")


# --- one fact --------------------------------------------------------------------------------


def test_get_fact_full_shape(client: TestClient) -> None:
    """The CHN->AZE investment fact, field by field, with decimals as JSON strings."""
    response = client.get("/v1/facts/aze-chn-investment-chn-to-aze-since-1995")
    assert response.status_code == 200
    fact = response.json()
    created, updated = fact.pop("created_at"), fact.pop("updated_at")
    for stamp in (created, updated):
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert parsed.utcoffset() == timedelta(0)
    seed = FACTS["aze-chn-investment-chn-to-aze-since-1995"]
    expected = {
        "id": "aze-chn-investment-chn-to-aze-since-1995",
        "kind": "investment",
        "statement": seed["statement"],
        "subject": {"id": "CHN", "kind": "country", "name": "China", "code": "CHN"},
        "counterpart": {"id": "AZE", "kind": "country", "name": "Azerbaijan", "code": "AZE"},
        "direction": "subject_to_counterpart",
        "quantity": {
            "value": "1000000000",
            "unit": "USD",
            "comparator": "approx",
            "hedge": "nearly",
            "low": "900000000",
            "high": "1000000000",
            "text": "nearly $1 billion",
        },
        "time": {
            "type": "period",
            "date": None,
            "precision": None,
            "start": "1995",
            "start_precision": "year",
            "end": "2025-04-28",
            "end_precision": "day",
            "text": "since 1995",
            "first_day": "1995-01-01",
            "last_day": "2025-04-28",
        },
        "claimed_by": {"id": "arzukhan-alizadeh", "name": "Arzukhan Alizadeh", "role": "MP"},
        "evidence": {
            "source_id": "trend-4036385",
            "start": 374,
            "end": 459,
            "text": "since 1995, Chinese companies have invested nearly $1 billion in "
            "Azerbaijan’s economy",
        },
        "mentions": [],
        "agreement": None,
        "status": "published",
        "revision": 1,
    }
    # Later additions to the shape are fine; every documented member must be exactly this.
    assert {key: fact.get(key, "<missing>") for key in expected} == expected


def test_every_decimal_is_a_json_string(client: TestClient) -> None:
    """Figures never pass through float: value, low and high are strings or null."""
    for item in list_facts(client):
        quantity = item["quantity"]
        if quantity is None:
            continue
        assert isinstance(quantity["value"], str)
        assert Decimal(quantity["value"]) == Decimal(FACTS[item["id"]]["quantity"]["value"])
        for bound in ("low", "high"):
            assert quantity[bound] is None or isinstance(quantity[bound], str)


def test_list_and_item_agree(client: TestClient) -> None:
    """A fact reads the same in the list and by id."""
    for item in list_facts(client):
        assert client.get(f"/v1/facts/{item['id']}").json() == item


def test_unknown_fact_is_a_404_problem(client: TestClient) -> None:
    """A missing id is a 404 in problem+json that names the id."""
    problem = assert_problem(client.get("/v1/facts/no-such-fact"), 404)
    assert "no-such-fact" in problem["detail"]
    assert problem["code"] == "not_found"
