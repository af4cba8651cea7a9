"""Entities, sources, the /v1 index, the root redirect, liveness and readiness."""

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pycountry
import pytest
import yaml
from conftest import Database, make_settings
from fastapi.testclient import TestClient

from app.db.migrate import head_revision
from app.main import create_app

DATA_DIR = Path(__file__).resolve().parent.parent / "app/seed/data"
SEED = yaml.safe_load((DATA_DIR / "trend-4036385.yaml").read_text(encoding="utf-8"))
SOURCE = SEED["source"]
SOURCE_TEXT = (DATA_DIR / SOURCE["text_file"]).read_text(encoding="utf-8")
ENTITIES: dict[str, dict[str, Any]] = {e["id"]: e for e in SEED["entities"]}
PROBLEM_JSON = "application/problem+json"
LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def entity_ids(client: TestClient, params: list[tuple[str, str]] | None = None) -> list[str]:
    response = client.get("/v1/entities", params=[*(params or []), ("limit", "500")])
    assert response.status_code == 200, response.text
    return [e["id"] for e in response.json()["items"]]


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["status"] == status
    return dict(problem)


# --- entities --------------------------------------------------------------------------------


def test_entities_list_every_seed_entity(client: TestClient) -> None:
    """Every curated entity is listed once, ordered by id."""
    got = entity_ids(client)
    assert sorted(got) == sorted(ENTITIES)
    assert got == sorted(got)


@pytest.mark.parametrize(
    "kinds", [["country"], ["person"], ["organization"], ["initiative", "event"]]
)
def test_entities_by_kind(client: TestClient, kinds: list[str]) -> None:
    """`kind` is repeatable: any of the kinds."""
    got = set(entity_ids(client, [("kind", k) for k in kinds]))
    assert got == {i for i, e in ENTITIES.items() if e["kind"] in kinds}
    assert got


@pytest.mark.parametrize("code", ["AZE", "aze", "AZ", "az"])
def test_entities_by_code_accepts_alpha2(client: TestClient, code: str) -> None:
    """A country code filter accepts alpha-3 and alpha-2, any case."""
    assert entity_ids(client, [("code", code)]) == ["AZE"]


def test_entities_by_code_of_a_country_not_in_the_seed(client: TestClient) -> None:
    """A valid code with no entity is an empty page, not an error."""
    assert entity_ids(client, [("code", "USA")]) == []


@pytest.mark.parametrize(
    "name", ["alizadeh", "ALIZADEH", "president of china", "Milli Majlis", "shanghai", "Trend"]
)
def test_entities_by_name_matches_name_or_alias(client: TestClient, name: str) -> None:
    """`name` matches the name or any alias, case-insensitively, word by word."""
    words = name.lower().split()

    def matches(entity_id: str) -> bool:
        entity = ENTITIES[entity_id]
        texts = [str(entity.get("name") or entity_id), *(entity.get("aliases") or [])]
        if entity["kind"] == "country":
            texts.append(pycountry.countries.get(alpha_3=entity_id).name)
        return all(any(w in t.lower() for t in texts) for w in words)

    expected = {i for i in ENTITIES if matches(i)}
    assert expected
    assert set(entity_ids(client, [("name", name)])) == expected


def test_entity_name_by_alias_only(client: TestClient) -> None:
    """'president of China' is only an alias of Xi Jinping, and still finds him."""
    assert entity_ids(client, [("name", "President of China")]) == ["xi-jinping"]


def test_country_names_come_from_pycountry(client: TestClient) -> None:
    """Country entities are named by the ISO library, not by hand."""
    for code in ("AZE", "CHN"):
        entity = client.get(f"/v1/entities/{code}").json()
        record = pycountry.countries.get(alpha_3=code)
        assert entity["name"] == (getattr(record, "common_name", None) or record.name)
        assert entity["code"] == code
        assert entity["kind"] == "country"
    assert client.get("/v1/entities/AZE").json()["name"] == "Azerbaijan"
    assert client.get("/v1/entities/CHN").json()["name"] == "China"


def test_entity_with_roles(client: TestClient) -> None:
    """A person comes with the roles they held, and each role's organization."""
    entity = client.get("/v1/entities/arzukhan-alizadeh").json()
    assert entity["kind"] == "person"
    assert entity["name"] == "Arzukhan Alizadeh"
    assert entity["aliases"] == ["Alizadeh"]
    assert entity["roles"] == [
        {
            "title": "Member of the National Assembly of Azerbaijan",
            "organization": {
                "id": "milli-majlis",
                "kind": "organization",
                "name": ENTITIES["milli-majlis"]["name"],
                "code": None,
            },
            "text": "MP",
            "start": None,
            "end": None,
        }
    ]


def test_every_person_has_their_seed_roles(client: TestClient) -> None:
    """Roles round-trip from the seed for every person, organization or not."""
    for entity_id, seed in ENTITIES.items():
        entity = client.get(f"/v1/entities/{entity_id}").json()
        expected = [(r["title"], r["organization"], r["text"]) for r in seed.get("roles") or []]
        got = [
            (r["title"], r["organization"]["id"] if r["organization"] else None, r["text"])
            for r in entity["roles"]
        ]
        assert got == expected


def test_event_entities_keep_their_reduced_date(client: TestClient) -> None:
    """Events keep the date as precisely as the source gave it."""
    assert client.get("/v1/entities/beijing-forum-2019").json()["date"] == "2019"
    assert client.get("/v1/entities/sco-summit-2025").json()["date"] == "2025-08"
    assert client.get("/v1/entities/leaders-meeting").json()["date"] is None


def test_entities_pagination(client: TestClient) -> None:
    """Pages of 5 entities, followed through the Link header, cover every entity once."""
    seen: list[str] = []
    response = client.get("/v1/entities", params={"limit": "5"})
    for _ in range(50):
        body = response.json()
        seen.extend(e["id"] for e in body["items"])
        if body["next"] is None:
            break
        match = LINK_NEXT.search(response.headers["link"])
        assert match
        response = client.get(match.group(1))
    assert seen == entity_ids(client)
    assert len(seen) == len(set(seen)) == len(ENTITIES)


def test_unknown_entity_is_a_404(client: TestClient) -> None:
    """A missing entity is a problem+json 404."""
    assert assert_problem(client.get("/v1/entities/nobody"), 404)["code"] == "not_found"


# --- sources ---------------------------------------------------------------------------------


def test_sources_list_has_no_text(client: TestClient) -> None:
    """The list is a summary: the full text is only on the item."""
    body = client.get("/v1/sources").json()
    assert [s["id"] for s in body["items"]] == [SOURCE["id"]]
    (summary,) = body["items"]
    assert "text" not in summary
    assert summary["sha256"] == hashlib.sha256(SOURCE_TEXT.encode()).hexdigest()
    assert summary["outlet"]["id"] == SOURCE["outlet"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"outlet": "trend"}, [SOURCE["id"]]),
        ({"outlet": "un"}, []),
        ({"language": "en"}, [SOURCE["id"]]),
        ({"language": "az"}, []),
    ],
)
def test_sources_filters(client: TestClient, params: dict[str, str], expected: list[str]) -> None:
    """Sources filter by outlet and language."""
    body = client.get("/v1/sources", params=params).json()
    assert [s["id"] for s in body["items"]] == expected


def test_source_item(client: TestClient) -> None:
    """One source: the full text exactly as shipped, its SHA-256, date and dateline."""
    response = client.get(f"/v1/sources/{SOURCE['id']}")
    assert response.status_code == 200
    source = response.json()
    assert source["text"] == SOURCE_TEXT
    assert source["sha256"] == hashlib.sha256(source["text"].encode("utf-8")).hexdigest()
    assert source["published"] == "2025-04-28"
    assert source["dateline"] == "Baku"
    assert source["language"] == "en"
    assert source["url"] == SOURCE["url"]
    assert source["title"] == SOURCE["title"]
    assert source["outlet"] == {
        "id": "trend",
        "kind": "organization",
        "name": "Trend News Agency",
        "code": None,
    }


def test_unknown_source_is_a_404(client: TestClient) -> None:
    """A missing source is a problem+json 404."""
    assert assert_problem(client.get("/v1/sources/nowhere"), 404)["code"] == "not_found"


# --- index, root, health ---------------------------------------------------------------------


def test_v1_index_lists_working_resources(client: TestClient) -> None:
    """GET /v1 names each collection, and each href answers; the five lists with a page."""
    index = client.get("/v1").json()
    assert index["version"] == "v1"
    assert index["docs"] == "/docs"
    hrefs = {r["name"]: r["href"] for r in index["resources"]}
    for name in ("facts", "quotes", "agreements", "entities", "sources"):
        assert hrefs.get(name) == f"/v1/{name}"
        assert set(client.get(hrefs[name]).json()) == {"items", "next", "limit"}
    for resource in index["resources"]:
        assert resource["description"]
        assert client.get(resource["href"]).status_code == 200, resource


def test_root_points_a_person_to_the_docs(client: TestClient) -> None:
    """A person opening the bare address gets the overview page, which links to the docs."""
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/docs"' in response.text


def test_healthz(client: TestClient) -> None:
    """Liveness answers without any dependency."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_on_a_migrated_database(client: TestClient) -> None:
    """Ready when the schema is at the head revision this code expects."""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "schema_revision": head_revision(),
        "expected_revision": head_revision(),
    }


def test_readyz_on_an_unmigrated_database_is_a_503_problem(empty_db: Database) -> None:
    """An empty database is not ready: 503 in problem+json, telling the operator to migrate."""
    application = create_app(make_settings(empty_db.url))
    try:
        with TestClient(application) as test_client:
            response = test_client.get("/readyz")
    finally:
        application.state.engine.dispose()
    problem = assert_problem(response, 503)
    assert problem["code"] == "not_ready"
    assert "upgrade" in problem["detail"]
    assert "Traceback" not in json.dumps(problem)
