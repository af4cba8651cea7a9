"""What dashboards and BI tools trip over: CSV that never truncates silently, CSV of
series, numbers they can chart, empty answers for valid codes, forgiving units, clear
time windows, one error code per kind of mistake, and CSV that spreadsheets cannot run.

pandas is not a dependency of the service; the csv module reads CSV the way
`pandas.read_csv` does (a header row, then one row per record)."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from conftest import fact_body, make_settings
from fastapi.testclient import TestClient

from app.http.formats import FORMULA_STARTS
from app.main import create_app

PROBLEM_JSON = "application/problem+json"


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _all_ids(client: TestClient, path: str, params: Any = (), limit: int = 7) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = client.get(
            path,
            params=[("limit", str(limit)), *params, *([("cursor", cursor)] if cursor else [])],
        ).json()
        ids.extend(item["id"] for item in page["items"])
        cursor = page["next"]
        if cursor is None:
            return ids


# --- CSV: every row --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_pages(seeded_db_url: str) -> Iterator[TestClient]:
    """Pages of 1 and stream batches of 2 (PAGE_SIZE_MAX), so the seed spans many."""
    app = create_app(make_settings(seeded_db_url, page_size_default=1, page_size_max=2))
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.mark.parametrize("path", ["/v1/facts", "/v1/quotes", "/v1/agreements", "/v1/entities"])
def test_csv_without_limit_has_every_matching_row(small_pages: TestClient, path: str) -> None:
    """More rows than one page and than one stream batch: one CSV request still has them
    all, in the list's order, and no Link to a next page."""
    expected = _all_ids(small_pages, path, limit=2)
    assert len(expected) > 3, "the seed must span several stream batches"
    response = small_pages.get(path, params={"format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "link" not in response.headers
    assert [row["id"] for row in _rows(response.text)] == expected
    by_accept = small_pages.get(path, headers={"Accept": "text/csv"})
    assert by_accept.text == response.text


def test_csv_with_an_explicit_limit_is_that_page_and_says_so(client: TestClient) -> None:
    response = client.get("/v1/facts", params={"format": "csv", "limit": 2})
    assert len(_rows(response.text)) == 2
    assert 'rel="next"' in response.headers["Link"]


def test_csv_stream_starts_at_the_cursor_and_honours_filters(client: TestClient) -> None:
    every = _all_ids(client, "/v1/facts", [("country", "AZE")])
    first = client.get("/v1/facts", params={"country": "AZE", "limit": 2}).json()
    rest = client.get(
        "/v1/facts", params={"country": "AZE", "format": "csv", "cursor": first["next"]}
    )
    assert [row["id"] for row in _rows(rest.text)] == every[2:]


def test_a_bad_filter_on_csv_is_still_a_problem(client: TestClient) -> None:
    response = client.get("/v1/facts", params={"format": "csv", "country": "XX"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON


# --- CSV injection ------------------------------------------------------------------------------


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_cells_that_look_like_formulas_are_neutralised(writer: TestClient, start: str) -> None:
    statement = f'{start}HYPERLINK("http://evil.example","x") said someone'
    created = writer.post(
        "/v1/facts",
        json=fact_body(
            statement,
            kind="trade_growth",
            quantity={"value": "-7.1", "unit": "percent", "comparator": "exact"},
        ),
    )
    assert created.status_code == 201, created.text
    fact_id = created.json()["id"]
    rows = _rows(writer.get("/v1/facts", params={"format": "csv", "kind": "trade_growth"}).text)
    row = next(r for r in rows if r["id"] == fact_id)
    assert row["statement"] == "'" + statement
    # Numbers stay numbers: a fall of 7.1% is still -7.1.
    assert row["quantity.value"] == "-7.1"
    assert row["quantity.low"] == "-7.1"
    # JSON is not a spreadsheet: it keeps the words as they are.
    assert writer.get(f"/v1/facts/{fact_id}").json()["statement"] == statement


def test_ordinary_text_is_untouched(client: TestClient) -> None:
    rows = _rows(client.get("/v1/facts", params={"format": "csv"}).text)
    by_id = {r["id"]: r for r in rows}
    fact = client.get("/v1/facts/aze-chn-investment-chn-to-aze-since-1995").json()
    assert by_id[fact["id"]]["statement"] == fact["statement"]


# --- series ---------------------------------------------------------------------------------


def test_series_points_are_json_numbers_with_the_exact_decimal_beside(client: TestClient) -> None:
    series = client.get("/v1/series", params={"indicator": "investment", "pair": "CHN-AZE"})
    assert series.status_code == 200
    points = series.json()["points"]
    assert points
    for point in points:
        assert isinstance(point["value"], int | float)
        assert point["low"] is None or isinstance(point["low"], int | float)
        assert point["high"] is None or isinstance(point["high"], int | float)
        fact = client.get(f"/v1/facts/{point['fact_id']}").json()
        assert point["exact"] == fact["quantity"]["value"]  # the exact string
        assert isinstance(fact["quantity"]["value"], str)  # facts keep exact decimals
        assert point["value"] == float(fact["quantity"]["value"])


@pytest.mark.parametrize("how", ["format", "accept"])
def test_series_as_csv(client: TestClient, how: str) -> None:
    params = {"indicator": "trade_turnover", "pair": "AZE-CHN"}
    if how == "format":
        response = client.get("/v1/series", params={**params, "format": "csv"})
    else:
        response = client.get("/v1/series", params=params, headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = _rows(response.text)
    points = client.get("/v1/series", params=params).json()["points"]
    assert [r["fact_id"] for r in rows] == [p["fact_id"] for p in points]
    assert [float(r["value"]) for r in rows] == [p["value"] for p in points]
    assert {"first_day", "last_day", "value", "low", "high", "unit"} <= set(rows[0])


# --- valid codes with nothing known: 200, empty ------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/relations/FRA/DEU",
        "/v1/relations/fr/de",
        "/v1/series?indicator=trade_turnover&pair=FRA-DEU",
        "/v1/series?indicator=investment&pair=DEU-FRA",
        "/v1/facts?country=FRA",
        "/v1/quotes?country=FRA",
        "/v1/agreements?country=FRA",
        "/v1/facts/facets?country=FRA",
        "/pairs/FRA-DEU",
    ],
)
def test_a_valid_pair_without_facts_is_200_and_empty(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text
    if path.startswith("/pairs/"):
        assert "France" in response.text and "Germany" in response.text
        return
    body = response.json()
    if "items" in body:
        assert body["items"] == []
    elif "points" in body:
        assert body["points"] == []
        assert {c["code"] for c in body["pair"]} == {"FRA", "DEU"}
    elif "total" in body:
        assert body["total"] == 0
    else:
        assert body["indicators"] == body["agreements"] == body["quotes"] == []
        assert [c["name"] for c in body["pair"]] == ["Germany", "France"]


# --- units, windows, as_of -----------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["usd", "Usd", " USD"])
def test_units_match_in_any_case(client: TestClient, unit: str) -> None:
    upper = _all_ids(client, "/v1/facts", [("unit", "USD")])
    assert upper
    assert _all_ids(client, "/v1/facts", [("unit", unit)]) == upper
    series = client.get(
        "/v1/series", params={"indicator": "trade_turnover", "pair": "AZE-CHN", "unit": unit}
    ).json()
    assert series["points"] and series["unit"] == "USD"


def test_non_currency_units_match_in_any_case(client: TestClient) -> None:
    lower = _all_ids(client, "/v1/facts", [("unit", "documents")])
    assert lower
    assert _all_ids(client, "/v1/facts", [("unit", "Documents")]) == lower


@pytest.mark.parametrize("path", ["/v1/facts", "/v1/quotes", "/v1/agreements", "/v1/facts/facets"])
def test_from_after_to_is_400(client: TestClient, path: str) -> None:
    response = client.get(path, params={"from": "2025", "to": "2019"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "invalid_parameter"
    assert problem["invalid_params"][0]["name"] == "to"
    assert "before 'from'" in problem["detail"]
    # The same year on both sides is one year, not a mistake.
    assert client.get(path, params={"from": "2019", "to": "2019"}).status_code == 200


def test_as_of_takes_a_date_meaning_the_end_of_that_day_utc(writer: TestClient) -> None:
    fact = "aze-chn-investment-chn-to-aze-since-1995"
    etag = writer.get(f"/v1/facts/{fact}").headers["ETag"]
    patched = writer.patch(
        f"/v1/facts/{fact}",
        headers={"If-Match": etag},
        json={"statement": "Corrected statement.", "reason": "test"},
    )
    assert patched.status_code == 200, patched.text
    today = patched.json()["updated_at"][:10]
    created = writer.get(f"/v1/facts/{fact}/revisions").json()[0]["valid_from"]
    # A date is the end of that day: today's correction counts (the start of the day
    # would have found nothing, the seed being loaded today).
    assert created[:10] == today
    assert writer.get(f"/v1/facts/{fact}", params={"as_of": today}).json()["revision"] == 2
    day_before = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    assert writer.get(f"/v1/facts/{fact}", params={"as_of": day_before}).status_code == 404
    # A time without an offset is UTC: the same answer as with Z.
    naive = writer.get(f"/v1/facts/{fact}", params={"as_of": f"{today}T23:59:59"}).json()
    aware = writer.get(f"/v1/facts/{fact}", params={"as_of": f"{today}T23:59:59Z"}).json()
    assert naive == aware
    listed = writer.get("/v1/facts", params={"as_of": today, "limit": 500}).json()["items"]
    assert any(f["id"] == fact and f["revision"] == 2 for f in listed)


@pytest.mark.parametrize("value", ["2025-13-01", "2025-02-30", "yesterday", "2025-01-01T25:00"])
def test_a_bad_as_of_is_400(client: TestClient, value: str) -> None:
    response = client.get("/v1/facts", params={"as_of": value})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"


# --- one error code per kind of mistake ------------------------------------------------------


BAD_VALUES = [
    "/v1/facts?country=XX",
    "/v1/quotes?country=XX",
    "/v1/agreements?country=XX",
    "/v1/facts/facets?country=XX",
    "/v1/relations/XX/CHN",
    "/v1/relations/00/00",
    "/v1/series?indicator=trade_turnover&pair=XX-CHN",
    "/pairs/XX-CHN",
    "/v1/facts?limit=100000",
    "/v1/facts?limit=0",
    "/v1/changes?limit=100000",
    "/v1/facts?cursor=forged",
    "/v1/changes?since=forged",
    "/v1/facts?as_of=soon",
    "/v1/relations/AZE/CHN?as_of=soon",
    "/v1/facts/aze-chn-investment-chn-to-aze-since-1995?as_of=soon",
    "/v1/facts?speaker=nobody",
    "/v1/facts?from=2025&to=2019",
]
UNKNOWN = [
    "/v1/facts?colour=red",
    "/v1/quotes?colour=red",
    "/v1/relations/AZE/CHN?colour=red",
    "/v1/series?indicator=trade_turnover&pair=AZE-CHN&colour=red",
    "/v1/entities/AZE?colour=red",
    "/v1/sources/trend-4036385?colour=red",
    "/v1/changes?colour=red",
    "/v1/export/facts.ndjson?colour=red",
    "/v1/facts/aze-chn-investment-chn-to-aze-since-1995?colour=red",
]


@pytest.mark.parametrize("path", BAD_VALUES)
def test_a_bad_parameter_value_is_invalid_parameter_everywhere(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "invalid_parameter"


@pytest.mark.parametrize("path", UNKNOWN)
def test_an_unknown_parameter_is_unknown_parameter_everywhere(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] == "unknown_parameter"
    assert problem["invalid_params"] == [{"name": "colour", "reason": "unknown query parameter"}]


def test_a_bad_body_is_validation_failed_and_bad_json_is_malformed(writer: TestClient) -> None:
    bad = writer.post("/v1/facts", json={"kind": "nope"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"
    broken = writer.post("/v1/facts", content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["code"] == "malformed_json"


# --- HTML pages and the favicon ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [("/pairs/XX-CHN", 400), ("/pairs/AZE", 400), ("/sources/nothing-here", 404)],
)
def test_html_pages_answer_errors_as_html(client: TestClient, path: str, status: int) -> None:
    """A browser asks for HTML and gets an HTML page; a script (Accept: */* or JSON) gets
    the same error as problem+json."""
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get(path, headers={"Accept": browser})
    assert response.status_code == status
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>" in response.text and 'href="/"' in response.text
    assert "Content-Security-Policy" in response.headers
    script = client.get(path)
    assert script.status_code == status
    assert script.headers["content-type"] == PROBLEM_JSON


def test_a_browser_gets_an_html_404_and_an_api_client_a_problem(client: TestClient) -> None:
    page = client.get("/no-such-page", headers={"Accept": "text/html,*/*"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    api = client.get("/v1/no-such-thing", headers={"Accept": "text/html,*/*"})
    assert api.status_code == 404 and api.headers["content-type"] == PROBLEM_JSON
    assert json.loads(api.text)["code"] == "not_found"


def test_favicon(client: TestClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert 'rel="icon"' in client.get("/").text
