"""Reviewing drafts through either view of a fact: /v1/facts/{id} and, for agreements,
/v1/agreements/{id}.

Both views have the same status routes (publish, reject, retract) with the same rules, and the
same ETag for a record, so an ETag read from one view is good for writes through the other,
and a stale one is refused by both. Publishing needs no reason; rejecting does.

The drafts come from the ingestion endpoint (POST /v1/sources) on a fresh seeded database:
a short article with two agreements and one investment.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from conftest import create_api_key, make_settings
from fastapi.testclient import TestClient

from app.main import create_app

PROBLEM_JSON = "application/problem+json"
SEED_AGREEMENT = "aze-chn-agreement-beijing-forum-2019"
ARTICLE = (
    "BAKU, Azerbaijan, May 12. Azerbaijan and Georgia signed seven memoranda of understanding "
    "in the fields of energy, agriculture and tourism in Tbilisi on Monday.\n\n"
    "Kazakhstan and Türkiye signed three agreements in Ankara last year.\n\n"
    "Chinese companies have invested nearly $1 billion in Azerbaijan since 1995, the "
    "minister said."
)


@dataclass
class Desk:
    """A fresh seeded database with the article's drafts. Drafts are visible only to keys
    that may write, so `client` reads with a write key ('desk'); writes send `reviewer` (a
    write key) explicitly, so their revisions name the reviewer."""

    client: TestClient
    reviewer: dict[str, str]
    agreements: list[str]
    other: str
    """A draft fact that is not an agreement."""


@pytest.fixture
def desk(fresh_db_url: str) -> Iterator[Desk]:
    desk_key = {"Authorization": f"Bearer {create_api_key(fresh_db_url, 'desk', 'write')}"}
    reviewer = {"Authorization": f"Bearer {create_api_key(fresh_db_url, 'reviewer', 'write')}"}
    application = create_app(make_settings(fresh_db_url))
    with TestClient(application) as client:
        source = {
            "outlet": "trend",
            "title": "Agreements signed",
            "published": "2025-05-12",
            "language": "en",
            "text": ARTICLE,
        }
        client.headers.update(desk_key)
        created = ok(client.post("/v1/sources", json=source), 201)
        drafts = created["candidates"]["facts"]
        assert {d["status"] for d in drafts} == {"draft"}
        agreements = [d["id"] for d in drafts if d["kind"] == "agreement"]
        others = [d["id"] for d in drafts if d["kind"] != "agreement"]
        assert len(agreements) >= 2 and others, drafts
        yield Desk(client, reviewer, agreements, others[0])
    application.state.engine.dispose()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    return problem


def invalid_names(problem: dict[str, Any]) -> set[str]:
    return {p["name"] for p in problem.get("invalid_params") or []}


def etag(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def fact_path(ident: str) -> str:
    return f"/v1/facts/{ident}"


def agreement_path(ident: str) -> str:
    return f"/v1/agreements/{ident}"


def snapshot(desk: Desk, ident: str) -> tuple[Any, Any, int]:
    """What a refused write must leave alone: the record, its history and the feed length."""
    feed = ok(desk.client.get("/v1/changes", params={"limit": 500}))
    return (
        ok(desk.client.get(fact_path(ident))),
        ok(desk.client.get(f"{fact_path(ident)}/revisions")),
        len(feed["items"]),
    )


def feed(desk: Desk) -> list[tuple[str, str, str, str]]:
    items = ok(desk.client.get("/v1/changes", params={"limit": 500}))["items"]
    return [(c["resource"], c["id"], c["action"], c["actor"]) for c in items]


# --- publish and reject through /v1/agreements ------------------------------------------------


def test_publish_a_draft_agreement_without_a_reason(desk: Desk) -> None:
    """POST /v1/agreements/{id}/publish with no body: 428 without If-Match, then published by
    the reviewer's key, answered in the agreement shape, with no reason in the revision."""
    ident = desk.agreements[0]
    path = agreement_path(ident)
    before = snapshot(desk, ident)
    assert_problem(desk.client.post(f"{path}/publish", headers=desk.reviewer), 428)
    assert snapshot(desk, ident) == before

    tag = etag(desk.client, path)
    response = desk.client.post(f"{path}/publish", headers={**desk.reviewer, "If-Match": tag})
    published = ok(response)
    assert (published["id"], published["status"], published["revision"]) == (
        ident,
        "published",
        2,
    )
    assert "title" in published and "parties" in published and "kind" not in published
    assert response.headers["etag"] not in (tag, None)
    assert (
        response.headers["etag"] == etag(desk.client, path) == etag(desk.client, fact_path(ident))
    )

    last = ok(desk.client.get(f"{path}/revisions"))[-1]
    assert (last["number"], last["action"], last["actor"], last["reason"]) == (
        2,
        "publish",
        "reviewer",
        None,
    )
    assert ("fact", ident, "publish", "reviewer") in feed(desk)
    assert ident in {a["id"] for a in ok(desk.client.get("/v1/agreements"))["items"]}

    again = desk.client.post(
        f"{path}/publish", headers={**desk.reviewer, "If-Match": etag(desk.client, path)}
    )
    assert assert_problem(again, 409)["code"] == "invalid_state"


@pytest.mark.parametrize("body", [{}, {"reason": None}, {"reason": "Checked against the article."}])
def test_publish_takes_an_empty_body_or_an_optional_reason(desk: Desk, body: Any) -> None:
    ident = desk.agreements[0]
    path = agreement_path(ident)
    ok(
        desk.client.post(
            f"{path}/publish",
            json=body,
            headers={**desk.reviewer, "If-Match": etag(desk.client, path)},
        )
    )
    last = ok(desk.client.get(f"{path}/revisions"))[-1]
    assert (last["action"], last["reason"]) == ("publish", body.get("reason"))


def test_publish_with_an_empty_reason_is_a_422(desk: Desk) -> None:
    """The note is optional, but if sent it says something."""
    path = agreement_path(desk.agreements[0])
    response = desk.client.post(
        f"{path}/publish",
        json={"reason": ""},
        headers={**desk.reviewer, "If-Match": etag(desk.client, path)},
    )
    assert "body.reason" in invalid_names(assert_problem(response, 422))


def test_reject_a_draft_agreement_needs_a_reason(desk: Desk) -> None:
    """POST /v1/agreements/{id}/reject: without a reason a 422 problem naming it (and nothing
    written); with one, rejected by the reviewer's key with that reason."""
    ident = desk.agreements[0]
    path = agreement_path(ident)
    tag = etag(desk.client, path)
    headers = {**desk.reviewer, "If-Match": tag}
    before = snapshot(desk, ident)
    no_reason = assert_problem(desk.client.post(f"{path}/reject", json={}, headers=headers), 422)
    assert invalid_names(no_reason) == {"body.reason"}
    empty = desk.client.post(f"{path}/reject", json={"reason": ""}, headers=headers)
    assert invalid_names(assert_problem(empty, 422)) == {"body.reason"}
    no_body = assert_problem(desk.client.post(f"{path}/reject", headers=headers), 422)
    assert invalid_names(no_body) == {"body"}
    assert snapshot(desk, ident) == before

    rejected = ok(
        desk.client.post(
            f"{path}/reject", json={"reason": "Not an agreement of ours."}, headers=headers
        )
    )
    assert (rejected["status"], rejected["revision"]) == ("rejected", 2)
    assert "title" in rejected and "kind" not in rejected
    last = ok(desk.client.get(f"{path}/revisions"))[-1]
    assert (last["action"], last["actor"], last["reason"]) == (
        "reject",
        "reviewer",
        "Not an agreement of ours.",
    )
    assert ("fact", ident, "reject", "reviewer") in feed(desk)
    assert ident not in {a["id"] for a in ok(desk.client.get("/v1/agreements"))["items"]}
    rejected_list = ok(desk.client.get("/v1/facts", params={"status": "rejected"}))["items"]
    assert ident in {f["id"] for f in rejected_list}
    assert ok(desk.client.get(path))["status"] == "rejected"

    # Rejected is final: no publish, no second reject, no retract.
    headers = {**desk.reviewer, "If-Match": etag(desk.client, path)}
    for action in ("publish", "reject", "retract"):
        response = desk.client.post(f"{path}/{action}", json={"reason": "x"}, headers=headers)
        assert assert_problem(response, 409)["code"] == "invalid_state", action


def test_retract_without_a_reason_is_a_422_in_both_views(desk: Desk) -> None:
    ident = desk.agreements[0]
    for path in (agreement_path(ident), fact_path(ident)):
        headers = {**desk.reviewer, "If-Match": etag(desk.client, path)}
        response = desk.client.post(f"{path}/retract", json={}, headers=headers)
        assert invalid_names(assert_problem(response, 422)) == {"body.reason"}


@pytest.mark.parametrize("action", ["publish", "reject", "retract"])
def test_agreement_routes_are_404_for_a_fact_that_is_not_an_agreement(
    desk: Desk, action: str
) -> None:
    """Even with the fact's current ETag: the agreement view has no such record, and the fact
    stays as it was."""
    before = snapshot(desk, desk.other)
    headers = {**desk.reviewer, "If-Match": etag(desk.client, fact_path(desk.other))}
    response = desk.client.post(
        f"{agreement_path(desk.other)}/{action}", json={"reason": "x"}, headers=headers
    )
    problem = assert_problem(response, 404)
    assert problem["code"] == "not_found"
    assert desk.other in problem["detail"]
    unknown = desk.client.post(
        f"{agreement_path('no-such-agreement')}/{action}", json={"reason": "x"}, headers=headers
    )
    assert_problem(unknown, 404)
    assert snapshot(desk, desk.other) == before
    assert ok(desk.client.get(fact_path(desk.other)))["status"] == "draft"


def test_agreement_reads_are_404_for_a_fact_that_is_not_an_agreement(desk: Desk) -> None:
    for accept in ("application/json", "application/ld+json"):
        response = desk.client.get(agreement_path(desk.other), headers={"Accept": accept})
        assert assert_problem(response, 404)["code"] == "not_found", accept


def test_status_routes_need_a_write_key(desk: Desk) -> None:
    path = agreement_path(desk.agreements[0])
    tag = etag(desk.client, path)
    key = desk.client.headers.pop("Authorization")
    try:
        for action in ("publish", "reject", "retract"):
            response = desk.client.post(
                f"{path}/{action}", json={"reason": "x"}, headers={"If-Match": tag}
            )
            assert_problem(response, 401)
    finally:
        desk.client.headers["Authorization"] = key


# --- one ETag per record, whichever view ------------------------------------------------------


def test_both_views_send_the_same_etag(desk: Desk) -> None:
    """Item GETs of one record agree on its ETag, and either view's ETag gives a 304 in the
    other; different records differ."""
    first, second = desk.agreements[:2]
    tag = etag(desk.client, fact_path(first))
    assert etag(desk.client, agreement_path(first)) == tag
    assert etag(desk.client, agreement_path(second)) != tag
    for path in (fact_path(first), agreement_path(first)):
        not_modified = desk.client.get(path, headers={"If-None-Match": tag})
        assert not_modified.status_code == 304, path
        assert not_modified.headers["etag"] == tag
    # JSON-LD is another representation, with an ETag of its own.
    linked = desk.client.get(fact_path(first), headers={"Accept": "application/ld+json"})
    assert linked.status_code == 200 and linked.headers["etag"] != tag


def test_an_agreement_etag_is_good_for_a_fact_write(desk: Desk) -> None:
    """The ETag of GET /v1/agreements/{id} publishes through /v1/facts/{id}/publish."""
    ident = desk.agreements[0]
    tag = etag(desk.client, agreement_path(ident))
    response = desk.client.post(
        f"{fact_path(ident)}/publish", headers={**desk.reviewer, "If-Match": tag}
    )
    published = ok(response)
    assert (published["kind"], published["status"]) == ("agreement", "published")
    assert response.headers["etag"] == etag(desk.client, agreement_path(ident))


def test_a_fact_etag_is_good_for_an_agreement_write(desk: Desk) -> None:
    """...and the ETag of GET /v1/facts/{id} rejects through /v1/agreements/{id}/reject, then
    the ETag that answer carries is good for a PATCH through /v1/facts/{id}."""
    ident = desk.agreements[0]
    tag = etag(desk.client, fact_path(ident))
    response = desk.client.post(
        f"{agreement_path(ident)}/reject",
        json={"reason": "Duplicate of another agreement."},
        headers={**desk.reviewer, "If-Match": tag},
    )
    assert ok(response)["status"] == "rejected"
    patched = desk.client.patch(
        fact_path(ident),
        json={"statement": "Azerbaijan and Georgia signed seven memoranda.", "reason": "shorter"},
        headers={**desk.reviewer, "If-Match": response.headers["etag"]},
    )
    assert ok(patched)["revision"] == 3


def test_agreement_patch_takes_the_fact_etag_and_answers_with_it(desk: Desk) -> None:
    ident = desk.agreements[0]
    response = desk.client.patch(
        agreement_path(ident),
        json={"title": "Seven memoranda"},
        headers={**desk.reviewer, "If-Match": etag(desk.client, fact_path(ident))},
    )
    assert ok(response)["title"] == "Seven memoranda"
    assert response.headers["etag"] == etag(desk.client, fact_path(ident))


@pytest.mark.parametrize("read", [fact_path, agreement_path], ids=["fact-etag", "agreement-etag"])
def test_a_stale_etag_is_412_in_both_views(desk: Desk, read: Any) -> None:
    """Once a record has a new revision, the ETag read before it (from either view) is refused
    by the writes of both views, and nothing is written."""
    ident, other = desk.agreements[:2]
    stale = etag(desk.client, read(ident))
    stale_other = etag(desk.client, read(other))
    ok(
        desk.client.post(
            f"{agreement_path(ident)}/publish", headers={**desk.reviewer, "If-Match": stale}
        )
    )
    ok(
        desk.client.patch(
            fact_path(other),
            json={"statement": "Kazakhstan and Türkiye signed three agreements.", "reason": "x"},
            headers={**desk.reviewer, "If-Match": stale_other},
        )
    )
    for path in (agreement_path(ident), fact_path(ident)):
        before = snapshot(desk, ident)
        response = desk.client.post(
            f"{path}/retract", json={"reason": "x"}, headers={**desk.reviewer, "If-Match": stale}
        )
        assert assert_problem(response, 412)["code"] == "precondition_failed", path
        assert snapshot(desk, ident) == before
    for path in (agreement_path(other), fact_path(other)):
        before = snapshot(desk, other)
        for action, body in (("publish", None), ("reject", {"reason": "x"})):
            response = desk.client.post(
                f"{path}/{action}", json=body, headers={**desk.reviewer, "If-Match": stale_other}
            )
            assert assert_problem(response, 412)["code"] == "precondition_failed", (path, action)
        patch = desk.client.patch(
            path,
            json={"statement": "Changed."} if path.startswith("/v1/facts") else {"title": "x"},
            headers={**desk.reviewer, "If-Match": stale_other},
        )
        assert_problem(patch, 412)
        assert snapshot(desk, other) == before


def test_as_of_reads_carry_the_etag_of_their_revision(desk: Desk) -> None:
    """An as_of read of an older revision has that revision's ETag, in both views (not the
    current one), and a write with it is stale."""
    ident = desk.agreements[0]
    draft_tag = etag(desk.client, agreement_path(ident))
    revision_1 = ok(desk.client.get(f"{fact_path(ident)}/revisions"))[0]
    ok(
        desk.client.post(
            f"{agreement_path(ident)}/publish", headers={**desk.reviewer, "If-Match": draft_tag}
        )
    )
    current = etag(desk.client, fact_path(ident))
    assert current != draft_tag
    then = {"as_of": revision_1["valid_from"]}
    for path in (fact_path(ident), agreement_path(ident)):
        old = desk.client.get(path, params=then)
        assert (old.json()["revision"], old.json()["status"]) == (1, "draft")
        assert old.headers["etag"] == draft_tag, path
        assert (
            desk.client.get(path, params=then, headers={"If-None-Match": draft_tag}).status_code
            == 304
        )
        assert desk.client.get(path, headers={"If-None-Match": draft_tag}).status_code == 200
    response = desk.client.post(
        f"{agreement_path(ident)}/retract",
        json={"reason": "x"},
        headers={**desk.reviewer, "If-Match": draft_tag},
    )
    assert_problem(response, 412)


def test_an_entity_rename_changes_the_record_etag(desk: Desk) -> None:
    """The record's ETag covers what it shows, so renaming its claimant (an in-place edit of
    the entity, no new revision of the fact) does not leave a stale body behind a 304."""
    paths = (agreement_path(SEED_AGREEMENT), fact_path(SEED_AGREEMENT))
    tag = etag(desk.client, paths[0])
    claimant = ok(desk.client.get(paths[0]))["claimed_by"]["id"]
    ok(
        desk.client.patch(
            f"/v1/entities/{claimant}",
            json={"name": "A. Alizadeh"},
            headers={**desk.reviewer, "If-Match": etag(desk.client, f"/v1/entities/{claimant}")},
        )
    )
    for path in paths:
        again = desk.client.get(path, headers={"If-None-Match": tag})
        assert again.status_code == 200, path
        assert again.json()["claimed_by"]["name"] == "A. Alizadeh"
        assert again.json()["revision"] == 1
        assert again.headers["etag"] != tag
    assert etag(desk.client, paths[0]) == etag(desk.client, paths[1])


# --- documentation ----------------------------------------------------------------------------


def test_openapi_documents_the_agreement_status_routes(desk: Desk) -> None:
    spec = ok(desk.client.get("/openapi.json"))
    schemas = spec["components"]["schemas"]
    for view, param in (("facts", "fact_id"), ("agreements", "agreement_id")):
        for action in ("publish", "reject", "retract"):
            operation = spec["paths"][f"/v1/{view}/{{{param}}}/{action}"]["post"]
            assert operation["summary"] and operation["description"], (view, action)
            assert {"401", "403", "404", "409", "412", "422", "428"} <= set(operation["responses"])
            headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
            assert "If-Match" in headers
            body = operation["requestBody"]
            examples = body["content"]["application/json"]["examples"]
            assert examples, (view, action)
            ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            if action == "publish":
                assert not body.get("required", False)
                assert "reason" not in schemas[ref].get("required", [])
                assert "optional" in operation["description"]
            else:
                assert body["required"] is True
                assert schemas[ref]["required"] == ["reason"]
                assert "`reason` (required" in operation["description"]
        ok_response = spec["paths"][f"/v1/{view}/{{{param}}}/publish"]["post"]["responses"]["200"]
        model = "AgreementPublic" if view == "agreements" else "FactPublic"
        assert ok_response["content"]["application/json"]["schema"]["$ref"].endswith(model)
    quote = spec["paths"]["/v1/quotes/{quote_id}/publish"]["post"]["requestBody"]
    assert not quote.get("required", False)  # publishing a quote needs no reason either
