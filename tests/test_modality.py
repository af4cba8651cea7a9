"""Targets and forecasts are facts of their own: filterable, shown apart, never a pair's
reported figure (dossier latest, series, conflicts)."""

from typing import Any

from conftest import SEED_SOURCE_ID, SEED_TEXT
from fastapi.testclient import TestClient

PHRASE = (
    "trade turnover between Azerbaijan and China has more than doubled, surpassing $3.5 billion"
)


def target_body(**fields: Any) -> dict[str, Any]:
    """A trade target for AZE-CHN, worded as a goal, citing a phrase of the seed article."""
    start = SEED_TEXT.index(PHRASE)
    return {
        "kind": "trade_turnover",
        "statement": "Azerbaijan and China aim to raise trade turnover to $10 billion by 2030.",
        "subject": "AZE",
        "counterpart": "CHN",
        "quantity": {"value": "10000000000", "unit": "USD", "comparator": "exact"},
        "time": {"type": "date", "date": "2030"},
        "modality": "target",
        "claimed_by": "arzukhan-alizadeh",
        "evidence": {
            "source_id": SEED_SOURCE_ID,
            "start": start,
            "end": start + len(PHRASE),
            "text": PHRASE,
        },
        **fields,
    }


def test_existing_facts_are_reported(client: TestClient) -> None:
    facts = client.get("/v1/facts", params={"limit": 100}).json()["items"]
    assert facts and {f["modality"] for f in facts} == {"reported"}


def test_a_target_is_kept_apart_from_reported_figures(writer: TestClient) -> None:
    before = writer.get("/v1/relations/AZE/CHN").json()
    turnover = next(i for i in before["indicators"] if i["indicator"] == "trade_turnover")
    created = writer.post("/v1/facts", json=target_body())
    assert created.status_code == 201, created.text
    target = created.json()
    assert target["modality"] == "target"

    dossier = writer.get("/v1/relations/AZE/CHN").json()
    after = next(i for i in dossier["indicators"] if i["indicator"] == "trade_turnover")
    assert after["latest"]["id"] == turnover["latest"]["id"]
    assert after["facts"] == turnover["facts"]
    assert [t["id"] for t in dossier["targets"]] == [target["id"]]
    assert dossier["targets"][0]["claimed_by"]["id"] == "arzukhan-alizadeh"
    assert not any(f["id"] == target["id"] for c in dossier["conflicts"] for f in c["facts"])

    points = writer.get(
        "/v1/series", params={"indicator": "trade_turnover", "pair": "AZE-CHN"}
    ).json()["points"]
    assert target["id"] not in {p["fact_id"] for p in points}

    only = writer.get("/v1/facts", params={"modality": "target"}).json()["items"]
    assert [f["id"] for f in only] == [target["id"]]
    reported = writer.get("/v1/facts", params={"modality": "reported", "limit": 200}).json()
    assert target["id"] not in {f["id"] for f in reported["items"]}

    page = writer.get("/pairs/AZE-CHN")
    assert "Targets and forecasts" in page.text and target["id"] in page.text

    csv = writer.get("/v1/facts", params={"modality": "target", "format": "csv"}).text
    header, row = csv.splitlines()[:2]
    assert "modality" in header.split(",")
    assert "target" in row.split(",")


def test_modality_is_validated_and_corrected_like_any_field(writer: TestClient) -> None:
    bad = writer.post("/v1/facts", json=target_body(modality="wish"))
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    created = writer.post("/v1/facts", json=target_body()).json()
    etag = writer.get(f"/v1/facts/{created['id']}").headers["etag"]
    fixed = writer.patch(
        f"/v1/facts/{created['id']}",
        json={"modality": "forecast", "reason": "It is an expectation, not a goal."},
        headers={"If-Match": etag},
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["modality"] == "forecast" and fixed.json()["revision"] == 2


def test_a_fall_is_a_negative_percent_and_only_a_percent_can_be_negative(
    writer: TestClient,
) -> None:
    fall = target_body(
        kind="trade_growth",
        modality="reported",
        quantity={"value": "-7.1", "unit": "percent", "comparator": "exact"},
    )
    assert writer.post("/v1/facts", json=fall).status_code == 201
    negative_money = target_body(quantity={"value": "-5", "unit": "USD", "comparator": "exact"})
    refused = writer.post("/v1/facts", json=negative_money)
    assert refused.status_code == 422
    assert "percent" in refused.text


def test_a_share_in_percent_is_its_own_indicator_not_the_latest_turnover(
    writer: TestClient,
) -> None:
    """Indicators are per unit: a percent figure never stands as the pair's latest trade
    turnover beside the dollar figures, and each series link charts one unit."""
    share = target_body(
        modality="reported",
        quantity={"value": "57", "unit": "percent", "comparator": "exact"},
        time={"type": "date", "date": "2026"},
    )
    assert writer.post("/v1/facts", json=share).status_code == 201
    indicators = writer.get("/v1/relations/AZE/CHN").json()["indicators"]
    turnover = [i for i in indicators if i["indicator"] == "trade_turnover"]
    assert sorted(i["latest"]["quantity"]["unit"] for i in turnover) == ["USD", "percent"]
    for indicator in turnover:
        unit = indicator["latest"]["quantity"]["unit"]
        points = writer.get(indicator["series"]).json()["points"]
        assert points and {p["unit"] for p in points} == {unit}
