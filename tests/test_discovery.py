"""Finding what there is: the country pairs (GET /v1/relations), the outlets, and how to
make an outlet when a source names one that does not exist."""

from typing import Any

from conftest import fact_body
from fastapi.testclient import TestClient


def _pairs(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/v1/relations")
    assert response.status_code == 200, response.text
    return {"-".join(c["id"] for c in item["pair"]): item for item in response.json()["items"]}


def test_relations_lists_the_pairs_with_counts_dates_and_links(client: TestClient) -> None:
    pairs = _pairs(client)
    assert set(pairs) == {"AZE-CHN"}
    pair = pairs["AZE-CHN"]
    facts = client.get(
        "/v1/facts", params={"country": "AZE", "counterpart": "CHN", "limit": 500}
    ).json()["items"]
    assert pair["facts"] == len(facts)
    assert pair["sources"] == len({f["evidence"]["source_id"] for f in facts})
    assert pair["latest"] == max(f["time"]["last_day"] for f in facts if f["time"])
    assert pair["dossier"] == "/v1/relations/AZE/CHN"
    assert client.get(pair["dossier"]).status_code == 200
    assert pair["page"] == "/pairs/AZE-CHN"
    assert client.get(pair["page"]).status_code == 200
    # Every series link charts something, and the dossier's indicators are all linked.
    hrefs = {link["href"] for link in pair["series"]}
    for href in hrefs:
        assert client.get(href).json()["points"], href
    dossier = client.get(pair["dossier"]).json()
    whole = {i["series"] for i in dossier["indicators"] if i["sector"] is None}
    assert whole == hrefs


def test_a_new_pair_appears_and_drafts_do_not_count(writer: TestClient) -> None:
    created = writer.post(
        "/v1/facts",
        json=fact_body(
            "Russia invested in Azerbaijan.", subject="RUS", counterpart="AZE", kind="investment"
        ),
    )
    assert created.status_code == 201, created.text
    pairs = _pairs(writer)
    assert pairs["AZE-RUS"]["facts"] == 1
    assert pairs["AZE-RUS"]["dossier"] == "/v1/relations/AZE/RUS"
    before = pairs["AZE-CHN"]["facts"]
    drafts = writer.post(
        "/v1/sources",
        json={
            "outlet": "trend",
            "title": "Chinese investment",
            "published": "2025-06-02",
            "language": "en",
            "text": "BAKU, Azerbaijan, June 2. Chinese companies have invested $942.3 million "
            "in Azerbaijan's economy since 1995, the Ministry of Economy said.",
        },
    )
    assert drafts.status_code == 201 and drafts.json()["candidates"]["facts"]
    assert _pairs(writer)["AZE-CHN"]["facts"] == before


def test_relations_takes_no_parameters(client: TestClient) -> None:
    response = client.get("/v1/relations", params={"country": "AZE"})
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_parameter"


def test_the_api_index_points_to_pairs_and_outlets(client: TestClient) -> None:
    hrefs = {r["href"] for r in client.get("/v1").json()["resources"]}
    assert {"/v1/relations", "/v1/entities?outlet=true"} <= hrefs


def test_outlets_are_findable(writer: TestClient) -> None:
    outlets = writer.get("/v1/entities", params={"outlet": "true"}).json()["items"]
    assert [o["id"] for o in outlets] == ["trend"]
    others = writer.get("/v1/entities", params={"outlet": "false", "limit": 500}).json()["items"]
    assert "trend" not in {o["id"] for o in others} and others
    # A new outlet, once a source names it, is listed too.
    made = writer.post("/v1/entities", json={"kind": "organization", "name": "Caspian News"})
    assert made.status_code == 201, made.text
    outlet = made.json()["id"]
    source = writer.post(
        "/v1/sources",
        json={
            "outlet": outlet,
            "title": "A note",
            "published": "2025-06-03",
            "language": "en",
            "text": "BAKU, Azerbaijan, June 3. Nothing to extract here.",
        },
    )
    assert source.status_code == 201, source.text
    listed = writer.get("/v1/entities", params={"outlet": "true"}).json()["items"]
    assert {o["id"] for o in listed} == {"trend", outlet}


def test_an_unknown_outlet_says_how_to_make_one(writer: TestClient) -> None:
    response = writer.post(
        "/v1/sources",
        json={
            "outlet": "caspian-news",
            "title": "A note",
            "published": "2025-06-03",
            "language": "en",
            "text": "BAKU, Azerbaijan, June 3. Nothing to extract here.",
        },
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["invalid_params"][0]["name"] == "body.outlet"
    reason = problem["invalid_params"][0]["reason"]
    assert "GET /v1/entities?outlet=true" in reason
    assert "POST /v1/entities" in reason and '"kind": "organization"' in reason
    # Nothing was stored.
    assert writer.get("/v1/sources").json()["items"][0]["id"] == "trend-4036385"
    assert len(writer.get("/v1/sources").json()["items"]) == 1
