"""Drafts and rejected records are editorial material: only keys of scope write or admin
see them, in lists, items, revisions, facets, exports, the change feed, relations, series
and pages. Anonymous callers and read keys see published records, and retracted ones.

And the OpenAPI document says what security really is: reads anonymous (unless the server
requires keys for reads), writes with a key.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import create_api_key, make_settings
from fastapi.testclient import TestClient

from app.main import create_app

ARTICLE = (
    "BAKU, Azerbaijan, June 2. Chinese companies have invested $942.3 million in "
    "Azerbaijan's economy since 1995, the Ministry of Economy said. Trade turnover between "
    "Azerbaijan and China reached $2.1 billion in 2024. "
    '"We will deepen our cooperation with China," Minister Mikayil Jabbarov said.'
)


@dataclass
class Newsroom:
    client: TestClient
    write: dict[str, str]
    read: dict[str, str]
    admin: dict[str, str]
    drafts: list[str]
    """Draft fact ids (still drafts)."""
    rejected: str
    """A rejected fact id."""
    published: str
    """A fact that was a draft, then published (revision 1 draft, 2 published)."""
    quote: str
    """A draft quote id."""

    @property
    def callers(self) -> dict[str, dict[str, str]]:
        return {"anonymous": {}, "read": self.read, "write": self.write, "admin": self.admin}

    @property
    def editorial(self) -> set[str]:
        return {*self.drafts, self.rejected, self.quote}


def _etag(client: TestClient, path: str, headers: dict[str, str]) -> str:
    return client.get(path, headers=headers).headers["ETag"]


@pytest.fixture
def newsroom(fresh_client: TestClient, fresh_db_url: str, write_key: str) -> Newsroom:
    write = {"Authorization": f"Bearer {write_key}"}
    read = {"Authorization": f"Bearer {create_api_key(fresh_db_url, 'dash', 'read')}"}
    admin = {"Authorization": f"Bearer {create_api_key(fresh_db_url, 'chief', 'admin')}"}
    response = fresh_client.post(
        "/v1/sources",
        headers=write,
        json={
            "outlet": "trend",
            "title": "Chinese investment in Azerbaijan reaches $942.3 million",
            "published": "2025-06-02",
            "dateline": "Baku",
            "language": "en",
            "text": ARTICLE,
        },
    )
    assert response.status_code == 201, response.text
    candidates = response.json()["candidates"]
    facts = [f["id"] for f in candidates["facts"]]
    quotes = [q["id"] for q in candidates["quotes"]]
    assert len(facts) >= 2 and quotes, candidates
    investment = next(f["id"] for f in candidates["facts"] if f["kind"] == "investment")
    other = next(f for f in facts if f != investment)
    rejected = fresh_client.post(
        f"/v1/facts/{other}/reject",
        headers={**write, "If-Match": _etag(fresh_client, f"/v1/facts/{other}", write)},
        json={"reason": "Not in the article as such."},
    )
    assert rejected.status_code == 200, rejected.text
    # A second ingested article gives a draft that stays a draft, and one to publish.
    second = fresh_client.post(
        "/v1/sources",
        headers=write,
        json={
            "outlet": "trend",
            "title": "Trade between Azerbaijan and China",
            "published": "2025-07-01",
            "language": "en",
            "text": "BAKU, Azerbaijan, July 1. Chinese companies have invested $1.2 billion "
            "in Azerbaijan's economy since 2000, the Ministry of Economy said.",
        },
    )
    assert second.status_code == 201, second.text
    to_publish = second.json()["candidates"]["facts"][0]["id"]
    published = fresh_client.post(
        f"/v1/facts/{to_publish}/publish",
        headers={**write, "If-Match": _etag(fresh_client, f"/v1/facts/{to_publish}", write)},
    )
    assert published.status_code == 200, published.text
    return Newsroom(
        client=fresh_client,
        write=write,
        read=read,
        admin=admin,
        drafts=[investment],
        rejected=other,
        published=to_publish,
        quote=quotes[0],
    )


EDITORIAL_STATUSES = [("status", "draft"), ("status", "rejected")]
EVERY_STATUS = [*EDITORIAL_STATUSES, ("status", "published"), ("status", "retracted")]


def _ids(client: TestClient, path: str, headers: dict[str, str], params: Any = ()) -> set[str]:
    response = client.get(path, headers=headers, params=[("limit", "500"), *params])
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.parametrize("path", ["/v1/facts", "/v1/quotes", "/v1/agreements"])
def test_lists_show_drafts_and_rejected_only_to_writers(newsroom: Newsroom, path: str) -> None:
    for who, headers in newsroom.callers.items():
        seen = _ids(newsroom.client, path, headers, EVERY_STATUS)
        asked = _ids(newsroom.client, path, headers, EDITORIAL_STATUSES)
        if who in ("write", "admin"):
            if path == "/v1/facts":
                assert {*newsroom.drafts, newsroom.rejected} <= seen
                assert {*newsroom.drafts, newsroom.rejected} == asked
            if path == "/v1/quotes":
                assert newsroom.quote in asked
        else:
            assert not seen & newsroom.editorial, who
            assert asked == set(), who
    # Published records are there for everyone, retracted ones as before.
    if path == "/v1/facts":
        assert newsroom.published in _ids(newsroom.client, path, {})


def test_items_of_drafts_are_404_without_a_write_key(newsroom: Newsroom) -> None:
    paths = [
        *(f"/v1/facts/{i}" for i in [*newsroom.drafts, newsroom.rejected]),
        *(f"/v1/facts/{i}/revisions" for i in [*newsroom.drafts, newsroom.rejected]),
        *(f"/v1/facts/{i}/revisions/1" for i in newsroom.drafts),
        f"/v1/quotes/{newsroom.quote}",
        f"/v1/quotes/{newsroom.quote}/revisions",
        f"/v1/quotes/{newsroom.quote}/revisions/1",
        f"/v1/facts/{newsroom.drafts[0]}?as_of=2999-01-01T00:00:00Z",
    ]
    for path in paths:
        for who, headers in newsroom.callers.items():
            response = newsroom.client.get(path, headers=headers)
            if who in ("write", "admin"):
                assert response.status_code == 200, (who, path, response.text)
            else:
                assert response.status_code == 404, (who, path, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                # Nothing of the draft leaks in the problem either.
                assert "942.3" not in response.text


def test_a_published_former_draft_shows_only_its_public_revisions(newsroom: Newsroom) -> None:
    fact = newsroom.published
    public = newsroom.client.get(f"/v1/facts/{fact}/revisions").json()
    assert [r["number"] for r in public] == [2]
    assert newsroom.client.get(f"/v1/facts/{fact}/revisions/1").status_code == 404
    assert newsroom.client.get(f"/v1/facts/{fact}/revisions/2").status_code == 200
    full = newsroom.client.get(f"/v1/facts/{fact}/revisions", headers=newsroom.write).json()
    assert [r["number"] for r in full] == [1, 2]


def test_a_draft_cannot_be_retracted_into_public_view(newsroom: Newsroom) -> None:
    """Retracted records are public, so a draft is rejected, never retracted: the retract
    is a 409 that says so, and the draft stays invisible to anonymous callers."""
    client, draft = newsroom.client, newsroom.drafts[0]
    path = f"/v1/facts/{draft}"
    response = client.post(
        f"{path}/retract",
        json={"reason": "Not reviewed."},
        headers={**newsroom.write, "If-Match": _etag(client, path, newsroom.write)},
    )
    assert response.status_code == 409, response.text
    assert "Reject a draft instead" in response.json()["detail"]
    assert client.get(path).status_code == 404
    assert client.get(path, headers=newsroom.write).json()["status"] == "draft"


def test_facets_count_drafts_only_for_writers(newsroom: Newsroom) -> None:
    def total(headers: dict[str, str]) -> int:
        response = newsroom.client.get(
            "/v1/facts/facets", headers=headers, params=EDITORIAL_STATUSES
        )
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert total({}) == 0
    assert total(newsroom.read) == 0
    assert total(newsroom.write) == len(newsroom.drafts) + 1


def test_exports_leave_drafts_out_without_a_write_key(newsroom: Newsroom) -> None:
    for who, headers in newsroom.callers.items():
        csv_text = newsroom.client.get(
            "/v1/facts", headers=headers, params=[("format", "csv"), *EVERY_STATUS]
        ).text
        ndjson = newsroom.client.get(
            "/v1/export/facts.ndjson", headers=headers, params=EVERY_STATUS
        ).text
        exported = {json.loads(line)["id"] for line in ndjson.splitlines()}
        if who in ("write", "admin"):
            assert all(i in csv_text for i in newsroom.drafts)
            assert {*newsroom.drafts, newsroom.rejected} <= exported
        else:
            assert not any(i in csv_text for i in newsroom.editorial), who
            assert not exported & newsroom.editorial, who
            assert newsroom.published in exported


def _feed(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    since = None
    while True:
        params = {"limit": "500", **({"since": since} if since else {})}
        page = client.get("/v1/changes", headers=headers, params=params).json()
        items.extend(page["items"])
        since = page["next"]
        if not page["has_more"]:
            return items


def test_the_change_feed_hides_draft_and_rejected_revisions(newsroom: Newsroom) -> None:
    for who, headers in newsroom.callers.items():
        feed = _feed(newsroom.client, headers)
        changed = {c["id"] for c in feed}
        if who in ("write", "admin"):
            assert newsroom.editorial <= changed
            assert any(c["id"] == newsroom.published and c["revision"] == 1 for c in feed)
        else:
            assert not changed & newsroom.editorial, who
            # The publication of a former draft is a public change; its draft creation is not.
            published = [c for c in feed if c["id"] == newsroom.published]
            assert [(c["revision"], c["action"]) for c in published] == [(2, "publish")]


def test_relations_series_and_pages_never_show_drafts(newsroom: Newsroom) -> None:
    for headers in newsroom.callers.values():
        for path in (
            "/v1/relations/AZE/CHN",
            "/v1/series?indicator=investment&pair=CHN-AZE",
            "/v1/series?indicator=trade_turnover&pair=AZE-CHN",
            "/",
            "/pairs/AZE-CHN",
        ):
            response = newsroom.client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            for ident in newsroom.editorial:
                assert ident not in response.text, (path, ident)
            assert "942.3" not in response.text


def test_keyed_reads_are_private_to_caches(newsroom: Newsroom) -> None:
    """A write key's answer may hold drafts: no shared cache may keep it for others."""
    keyed = newsroom.client.get("/v1/facts", headers=newsroom.write)
    assert keyed.headers["Cache-Control"].startswith("private")
    anonymous = newsroom.client.get("/v1/facts")
    assert anonymous.headers["Cache-Control"].startswith("public")
    for response in (keyed, anonymous):
        assert "Authorization" in response.headers["Vary"]


# --- the document -----------------------------------------------------------------------


@pytest.fixture
def document_for(tmp_path: Path) -> Iterator[Any]:
    apps = []

    def build(**settings: object) -> dict[str, Any]:
        url = f"sqlite:///{tmp_path / f'doc-{len(apps)}.sqlite3'}"
        app = create_app(make_settings(url, **settings))
        apps.append(app)
        document: dict[str, Any] = app.openapi()
        return document

    yield build
    for app in apps:
        app.state.engine.dispose()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_the_document_says_reads_are_anonymous_and_writes_need_a_key(document_for: Any) -> None:
    document = document_for()
    assert "security" not in document  # no global requirement
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    for method, path, operation in _operations(document):
        if method == "get":
            assert "security" not in operation, (method, path)
        else:
            assert operation["security"] == [{"ApiKey": []}], (method, path)
    facts = document["paths"]["/v1/facts"]["get"]["description"]
    assert "drafts" in facts and "write or admin" in facts


def test_the_document_follows_require_key_for_reads(document_for: Any) -> None:
    document = document_for(require_key_for_reads=True, response_cache_mb=0)
    for method, path, operation in _operations(document):
        if path.startswith("/v1"):
            assert operation["security"] == [{"ApiKey": []}], (method, path)
        else:  # health, readiness and metrics stay open
            assert "security" not in operation, (method, path)
