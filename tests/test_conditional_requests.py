"""Conditional requests: strong ETags and 304 on reads; If-Match on writes, so that nobody
overwrites a change they have not seen (428 without it, 412 when stale)."""

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import Database, create_api_key, make_settings, migrated_and_seeded
from fastapi.testclient import TestClient

from app.main import create_app

PROBLEM_JSON = "application/problem+json"
STRONG_ETAG = re.compile(r'"[0-9A-Za-z_-]+"')
FACT = "aze-chn-investment-chn-to-aze-since-1995"
QUOTE = "alizadeh-energy-smart-city"
AGREEMENT = "aze-chn-agreement-beijing-forum-2019"

READS = [
    "/v1/facts",
    "/v1/facts?country=AZE&sort=id",
    f"/v1/facts/{FACT}",
    f"/v1/facts/{FACT}/revisions",
    "/v1/quotes",
    f"/v1/quotes/{QUOTE}",
    "/v1/agreements",
    f"/v1/agreements/{AGREEMENT}",
    "/v1/entities",
    "/v1/entities/AZE",
    "/v1/sources",
    "/v1/sources/trend-4036385",
    "/v1/changes",
]

# (method, path, body) of every conditional write, each valid apart from its If-Match.
WRITES = [
    ("PATCH", f"/v1/facts/{FACT}", {"statement": "Changed.", "reason": "test"}),
    ("POST", f"/v1/facts/{FACT}/retract", {"reason": "test"}),
    ("PATCH", f"/v1/quotes/{QUOTE}", {"speaker_role": "MP"}),
    ("POST", f"/v1/quotes/{QUOTE}/retract", {"reason": "test"}),
    ("PATCH", f"/v1/agreements/{AGREEMENT}", {"title": "Ten documents"}),
    ("POST", f"/v1/agreements/{AGREEMENT}/retract", {"reason": "test"}),
    ("PATCH", "/v1/entities/sco", {"description": "Founded in 2001."}),
    ("PATCH", "/v1/sources/trend-4036385", {"title": "New headline"}),
]
WRITE_IDS = [f"{m}-{p.split('/')[2]}-{p.split('/')[-1]}" for m, p, _ in WRITES]


def record_path(path: str) -> str:
    """The record a write changes: the path without a trailing /retract."""
    return path.removesuffix("/retract")


def etag_of(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def history(client: TestClient, path: str) -> tuple[Any, int]:
    """What a refused write must leave alone: the record and the length of the change feed."""
    feed = client.get("/v1/changes", params={"limit": 500}).json()
    return client.get(record_path(path)).json(), len(feed["items"])


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == code


# --- reads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", READS)
def test_reads_carry_a_strong_etag_and_answer_304(client: TestClient, path: str) -> None:
    """Every GET has a strong ETag, stable across reads; sending it back gives 304 with no
    body and the same ETag."""
    first = client.get(path)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert STRONG_ETAG.fullmatch(tag), tag
    assert client.get(path).headers["etag"] == tag
    for if_none_match in (tag, f'"something-else", {tag}', f"W/{tag}", "*"):
        again = client.get(path, headers={"If-None-Match": if_none_match})
        assert again.status_code == 304, if_none_match
        assert again.content == b""
        assert again.headers["etag"] == tag
        assert "content-type" not in again.headers
    other = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    assert other.content == first.content


def test_etags_differ_between_representations(client: TestClient) -> None:
    """Different content, different ETag: items, lists, and pages of one list."""
    tags = {etag_of(client, path) for path in READS}
    assert len(tags) == len(READS)
    page_1 = client.get("/v1/facts", params={"limit": 2, "sort": "id"})
    page_2 = client.get(
        "/v1/facts", params={"limit": 2, "sort": "id", "cursor": page_1.json()["next"]}
    )
    assert page_1.headers["etag"] != page_2.headers["etag"]


def test_etag_changes_after_a_patch(writer: TestClient) -> None:
    """A PATCH answers with the new ETag, which GET then serves; the old one no longer
    gives 304, for the item or for the lists it is in."""
    path = f"/v1/facts/{FACT}"
    old_item = etag_of(writer, path)
    old_list = etag_of(writer, "/v1/facts")
    response = writer.patch(path, json={"statement": "Changed."}, headers={"If-Match": old_item})
    assert response.status_code == 200, response.text
    new_item = response.headers["etag"]
    assert STRONG_ETAG.fullmatch(new_item)
    assert new_item != old_item
    assert etag_of(writer, path) == new_item
    assert writer.get(path, headers={"If-None-Match": old_item}).status_code == 200
    assert writer.get(path, headers={"If-None-Match": new_item}).status_code == 304
    assert writer.get("/v1/facts", headers={"If-None-Match": old_list}).status_code == 200
    assert etag_of(writer, "/v1/facts") != old_list


def test_the_write_etag_chains_into_the_next_write(writer: TestClient) -> None:
    """The ETag a PATCH returns is a valid If-Match for the next write, with no GET between."""
    path = f"/v1/facts/{FACT}"
    first = writer.patch(
        path, json={"statement": "One."}, headers={"If-Match": etag_of(writer, path)}
    )
    assert first.status_code == 200
    second = writer.patch(
        path, json={"statement": "Two."}, headers={"If-Match": first.headers["etag"]}
    )
    assert second.status_code == 200, second.text
    retract = writer.post(
        f"{path}/retract", json={"reason": "done"}, headers={"If-Match": second.headers["etag"]}
    )
    assert retract.status_code == 200, retract.text
    assert writer.get(path).json()["revision"] == 4


# --- writes ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_writer(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A writer on a database of this module's own, for writes that must be refused: each
    test checks that nothing changed."""
    db = Database(backend, tmp_path_factory.mktemp("conditional"))
    migrated_and_seeded(db.url)
    key = create_api_key(db.url, "desk", "write")
    application = create_app(make_settings(db.url))
    with TestClient(application) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client
    application.state.engine.dispose()
    db.drop()


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=WRITE_IDS)
def test_write_without_if_match_is_428(
    shared_writer: TestClient, method: str, path: str, body: dict[str, Any]
) -> None:
    """A conditional write without If-Match is 428 and changes nothing."""
    before = history(shared_writer, path)
    response = shared_writer.request(method, path, json=body)
    assert_problem(response, 428, "precondition_required")
    assert history(shared_writer, path) == before


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=WRITE_IDS)
def test_write_with_a_stale_if_match_is_412(
    shared_writer: TestClient, method: str, path: str, body: dict[str, Any]
) -> None:
    """An If-Match that is not the current ETag (stale, made up, weak, or a list without it)
    is 412 and changes nothing."""
    current = etag_of(shared_writer, record_path(path))
    before = history(shared_writer, path)
    for stale in ('"0123456789abcdef"', f"W/{current}", '"a", "b"'):
        response = shared_writer.request(method, path, json=body, headers={"If-Match": stale})
        assert_problem(response, 412, "precondition_failed")
    assert history(shared_writer, path) == before


def test_current_etag_in_a_list_and_star_are_accepted(writer: TestClient) -> None:
    """If-Match passes with a list holding the current ETag, or with `*` ("whatever is
    current"); the answer's ETag is then the record's new one."""
    for method, path, body in WRITES:
        record = record_path(path)
        forms = ["*"] if path.endswith("/retract") else [f'"x", {etag_of(writer, record)}', "*"]
        for if_match in forms:
            response = writer.request(method, path, json=body, headers={"If-Match": if_match})
            assert response.status_code == 200, (method, path, if_match, response.text)
            assert response.headers["etag"] == etag_of(writer, record)


def test_missing_record_is_404_whatever_the_if_match(shared_writer: TestClient) -> None:
    """No record to match: 404, whatever the If-Match."""
    for tag in ("*", '"abc"'):
        response = shared_writer.patch(
            "/v1/facts/no-such-fact", json={"statement": "x"}, headers={"If-Match": tag}
        )
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM_JSON


def test_stale_after_someone_elses_write(writer: TestClient) -> None:
    """Two editors read the same ETag; the second to write gets 412 and the first's change
    stands."""
    path = f"/v1/facts/{FACT}"
    seen = etag_of(writer, path)
    first = writer.patch(path, json={"statement": "Editor one."}, headers={"If-Match": seen})
    assert first.status_code == 200
    second = writer.patch(path, json={"statement": "Editor two."}, headers={"If-Match": seen})
    assert_problem(second, 412, "precondition_failed")
    late_retract = writer.post(f"{path}/retract", json={"reason": "x"}, headers={"If-Match": seen})
    assert_problem(late_retract, 412, "precondition_failed")
    current = writer.get(path).json()
    assert (current["statement"], current["revision"], current["status"]) == (
        "Editor one.",
        2,
        "published",
    )
