"""The editor's desk (/desk) through the real app on a real migrated database, both backends.

Sign-in exchanges a write key for a database session (cookie HttpOnly, SameSite=Strict,
Secure behind HTTPS); every action needs its CSRF token; expired, signed-out and read-scope
sessions are refused; the key is never logged; failed sign-ins are rate limited. Actions go
through the API's own service functions: the revisions, actors, reasons and change feed read
through /v1 say exactly what the editor did.
"""

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from conftest import create_api_key, make_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine, utcnow
from app.desk.models import DeskSession
from app.main import create_app

PROBLEM_JSON = "application/problem+json"
ARTICLE = (
    "BAKU, Azerbaijan, May 12 🇦🇿. Chinese companies have invested nearly $1 billion in "
    "Azerbaijan since 1995, the minister said.\n\n"
    "Trade turnover between Azerbaijan and Georgia reached $850 million in 2024, the ministry "
    "said.\n\n"
    "Kazakhstan and Türkiye signed three agreements in Ankara last year.\n\n"
    "Separately, 𝔊eorgian investors put $95 million into Azerbaijani farms in 2023 🌾."
)
MISSED = "𝔊eorgian investors put $95 million into Azerbaijani farms in 2023"


def desk_app(settings: Settings | None = None) -> FastAPI:
    """The real app (which mounts the desk); with no settings, they come from the
    environment (how the browser test's `uvicorn --factory` builds it)."""
    return create_app(settings)


@dataclass
class Desk:
    client: TestClient
    url: str
    key: str
    source: str
    drafts: dict[str, dict[str, Any]]
    """Draft facts of the ingested article by kind."""

    def csrf(self, path: str = "/desk") -> str:
        page = self.client.get(path)
        assert page.status_code == 200, page.text
        found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
        assert found, page.text[:500]
        return found.group(1)


def sign_in(client: TestClient, key: str, **headers: str) -> Any:
    page = client.get("/desk/sign-in")
    assert page.status_code == 200
    nonce = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert nonce
    return client.post(
        "/desk/api/sign-in", json={"key": key, "csrf": nonce.group(1)}, headers=headers
    )


@pytest.fixture
def desk(fresh_db_url: str) -> Iterator[Desk]:
    key = create_api_key(fresh_db_url, "editor-ana", "write")
    application = desk_app(make_settings(fresh_db_url))
    with TestClient(application) as client:
        made = client.post(
            "/v1/sources",
            json={
                "outlet": "trend",
                "title": "Investment and trade",
                "published": "2025-05-12",
                "language": "en",
                "text": ARTICLE,
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert made.status_code == 201, made.text
        body = made.json()
        drafts = {f["kind"]: f for f in body["candidates"]["facts"]}
        assert {"investment", "trade_turnover"} <= set(drafts), drafts
        assert sign_in(client, key).status_code == 200
        yield Desk(client, fresh_db_url, key, body["source"]["id"], drafts)
    application.state.engine.dispose()


def api(desk: Desk, path: str) -> Any:
    response = desk.client.get(path, headers={"Authorization": f"Bearer {desk.key}"})
    assert response.status_code == 200, response.text
    return response.json()


def feed_for(desk: Desk, resource_id: str) -> list[tuple[int, str, str]]:
    """The change feed's entries for one record, followed from the beginning."""
    found: list[tuple[int, str, str]] = []
    page = api(desk, "/v1/changes?limit=500")
    while True:
        found += [
            (c["revision"], c["action"], c["actor"])
            for c in page["items"]
            if c["id"] == resource_id
        ]
        if not page["has_more"]:
            return found
        page = api(desk, f"/v1/changes?limit=500&since={page['next']}")


# --- sign-in and sessions ----------------------------------------------------------------


def test_sign_in_sets_a_strict_http_only_session_cookie(fresh_db_url: str) -> None:
    key = create_api_key(fresh_db_url, "editor-ana", "write")
    application = desk_app(make_settings(fresh_db_url))
    with TestClient(application) as client:
        assert client.get("/desk", follow_redirects=False).status_code == 303
        response = sign_in(client, key)
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "editor-ana"
        cookie = response.headers["set-cookie"]
        assert "econfacts_desk=" in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/desk" in cookie
        assert "Secure" not in cookie  # plain HTTP here; see the proxy test below
        token = client.cookies.get("econfacts_desk")
        assert token and token not in key
        queue = client.get("/desk")
        assert queue.status_code == 200
        assert "editor-ana" in queue.text and key not in queue.text
        assert queue.headers["cache-control"] == "no-store"
        # the database keeps the token's hash, not the token
        engine = make_engine(make_settings(fresh_db_url))
        with Session(engine) as session:
            row = session.get(DeskSession, 1)
            assert row is not None and row.token_hash != token and len(row.token_hash) == 64
        engine.dispose()
    application.state.engine.dispose()


def test_cookie_is_secure_behind_an_https_proxy(fresh_db_url: str) -> None:
    key = create_api_key(fresh_db_url, "editor-ana", "write")
    application = desk_app(make_settings(fresh_db_url))
    with TestClient(application) as client:
        response = sign_in(client, key, **{"X-Forwarded-Proto": "https"})
        assert response.status_code == 200
        assert "Secure" in response.headers["set-cookie"]
    with TestClient(application, base_url="https://desk.example") as client:
        response = sign_in(client, key)
        assert response.status_code == 200
        assert "Secure" in response.headers["set-cookie"]
    application.state.engine.dispose()


def test_a_read_key_is_refused(fresh_db_url: str, read_key: str) -> None:
    application = desk_app(make_settings(fresh_db_url))
    with TestClient(application) as client:
        response = sign_in(client, read_key)
        assert response.status_code == 403
        assert response.headers["content-type"] == PROBLEM_JSON
        assert "scope read" in response.json()["detail"]
        assert "econfacts_desk=" not in response.headers.get("set-cookie", "")
        assert client.get("/desk", follow_redirects=False).status_code == 303
        wrong = sign_in(client, "ef_nothing_here")
        assert wrong.status_code == 401 and wrong.headers["content-type"] == PROBLEM_JSON
    application.state.engine.dispose()


def test_sign_in_needs_the_forms_token(fresh_db_url: str, write_key: str) -> None:
    application = desk_app(make_settings(fresh_db_url))
    with TestClient(application) as client:
        client.get("/desk/sign-in")
        forged = client.post("/desk/api/sign-in", json={"key": write_key, "csrf": "guess"})
        assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed"
        other_site = sign_in(client, write_key, Origin="https://evil.example")
        assert other_site.status_code == 403
    application.state.engine.dispose()


def test_failed_sign_ins_are_rate_limited(fresh_db_url: str, write_key: str) -> None:
    application = desk_app(make_settings(fresh_db_url))
    with TestClient(application) as client:
        statuses = [sign_in(client, f"ef_wrong_{i}").status_code for i in range(15)]
        assert statuses[0] == 401
        assert 429 in statuses, statuses
        refused = sign_in(client, write_key)  # even the right key waits now
        assert refused.status_code == 429
        assert refused.headers["content-type"] == PROBLEM_JSON
        assert int(refused.headers["retry-after"]) >= 1
    application.state.engine.dispose()


def test_actions_need_the_csrf_token(desk: Desk) -> None:
    fact = desk.drafts["investment"]
    body = {"revision": fact["revision"]}
    url = f"/desk/api/facts/{fact['id']}/publish"
    missing = desk.client.post(url, json=body)
    assert missing.status_code == 403
    assert missing.headers["content-type"] == PROBLEM_JSON
    assert missing.json()["code"] == "csrf_failed"
    wrong = desk.client.post(url, json=body, headers={"X-CSRF-Token": "not-it"})
    assert wrong.status_code == 403
    token = desk.csrf()
    cross = desk.client.post(
        url, json=body, headers={"X-CSRF-Token": token, "Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    assert api(desk, f"/v1/facts/{fact['id']}")["status"] == "draft"
    ok = desk.client.post(url, json=body, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200, ok.text


def test_signed_out_session_is_refused(desk: Desk) -> None:
    token = desk.csrf()
    cookie = desk.client.cookies.get("econfacts_desk")
    assert (
        desk.client.post("/desk/api/sign-out", headers={"X-CSRF-Token": token}).status_code == 204
    )
    # the same cookie, replayed, no longer opens anything
    desk.client.cookies.set("econfacts_desk", cookie or "", path="/desk")
    page = desk.client.get("/desk", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/desk/sign-in")
    fact = desk.drafts["investment"]
    refused = desk.client.post(
        f"/desk/api/facts/{fact['id']}/publish",
        json={"revision": fact["revision"]},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 401
    assert refused.headers["content-type"] == PROBLEM_JSON


def test_expired_session_is_refused(desk: Desk) -> None:
    token = desk.csrf()
    engine = make_engine(make_settings(desk.url))
    with Session(engine) as session:
        session.execute(update(DeskSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    engine.dispose()
    assert desk.client.get("/desk", follow_redirects=False).status_code == 303
    fact = desk.drafts["investment"]
    refused = desk.client.post(
        f"/desk/api/facts/{fact['id']}/reject",
        json={"revision": fact["revision"], "reason": "x"},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 401


def test_the_key_is_never_logged(
    fresh_db_url: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    key = create_api_key(fresh_db_url, "editor-ana", "write")
    caplog.set_level(logging.DEBUG)
    application = desk_app(make_settings(fresh_db_url, log_level="debug"))
    with TestClient(application) as client:
        assert sign_in(client, key).status_code == 200
        assert sign_in(client, key + "x").status_code == 401
        assert sign_in(client, "ef_" + key[3:9] + "_wrong").status_code == 401
        page = client.get("/desk")
        assert key not in page.text
    application.state.engine.dispose()
    secret = key.split("_", 2)[2]
    logged = caplog.text + "".join(capfd.readouterr())
    assert "/desk/api/sign-in" in logged  # the requests were logged...
    assert secret not in logged  # ...but never the key


# --- the pages ----------------------------------------------------------------------------


def test_queue_lists_sources_with_drafts_and_filters(desk: Desk) -> None:
    page = desk.client.get("/desk")
    assert f'data-source="{desk.source}"' in page.text
    assert "Investment and trade" in page.text
    assert desk.client.get("/desk?pair=CHN-AZE").text.count(f'data-source="{desk.source}"') == 1
    assert f'data-source="{desk.source}"' not in desk.client.get("/desk?pair=USA-FRA").text
    assert f'data-source="{desk.source}"' in desk.client.get("/desk?outlet=trend").text
    assert f'data-source="{desk.source}"' not in desk.client.get("/desk?outlet=nobody").text
    bad = desk.client.get("/desk?pair=nonsense")
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html")


def test_review_page_highlights_every_draft(desk: Desk) -> None:
    page = desk.client.get(f"/desk/sources/{desk.source}")
    assert page.status_code == 200
    for fact in desk.drafts.values():
        assert f'data-id="{fact["id"]}"' in page.text
        assert re.search(rf'<mark data-start="\d+" data-ids="[^"]*{fact["id"]}', page.text)
    assert "≈ $1 billion" in page.text  # value and comparator as an editor writes them
    missing = desk.client.get("/desk/sources/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


# --- actions make ordinary revisions ------------------------------------------------------


def test_edit_publish_reject_and_add_are_revisions_with_actor_and_reason(desk: Desk) -> None:
    token = desk.csrf()
    headers = {"X-CSRF-Token": token}
    turnover, investment = desk.drafts["trade_turnover"], desk.drafts["investment"]

    form = form_of(desk, turnover["id"])
    form.update(comparator="more_than", modality="forecast")
    edited = desk.client.patch(
        f"/desk/api/facts/{turnover['id']}",
        json={"revision": 1, "reason": "The ministry said 'over'.", "fields": form},
        headers=headers,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json() == {"id": turnover["id"], "revision": 2, "status": "draft"}
    stale = desk.client.post(
        f"/desk/api/facts/{turnover['id']}/publish", json={"revision": 1}, headers=headers
    )
    assert stale.status_code == 412 and stale.headers["content-type"] == PROBLEM_JSON
    published = desk.client.post(
        f"/desk/api/facts/{turnover['id']}/publish",
        json={"revision": 2, "reason": "Checked against the article."},
        headers=headers,
    )
    assert published.status_code == 200, published.text
    rejected = desk.client.post(
        f"/desk/api/facts/{investment['id']}/reject",
        json={"revision": 1, "reason": "Repeats the seed figure."},
        headers=headers,
    )
    assert rejected.status_code == 200
    no_reason = desk.client.post(
        f"/desk/api/facts/{investment['id']}/reject", json={"revision": 2}, headers=headers
    )
    assert no_reason.status_code == 422 and no_reason.headers["content-type"] == PROBLEM_JSON

    # a missed fact from a selection: offsets in code points (the article has astral chars)
    start = ARTICLE.index(MISSED)
    added = desk.client.post(
        "/desk/api/facts",
        json={
            "source_id": desk.source,
            "text": MISSED,
            "publish": True,
            "reason": "Missed by the extractor.",
            "fields": {
                "kind": "investment",
                "statement": "Georgian investors put $95 million into Azerbaijani farms in 2023.",
                "subject": "GEO",
                "counterpart": "AZE",
                "direction": "subject_to_counterpart",
                "value": "95 million",
                "unit": "USD",
                "comparator": "exact",
                "quantity_text": "$95 million",
                "time_type": "date",
                "time_date": "2023",
                "time_text": "in 2023",
                "sector": "agriculture",
                "evidence_start": start,
                "evidence_end": start + len(MISSED),
            },
        },
        headers=headers,
    )
    assert added.status_code == 201, added.text
    new_id = added.json()["id"]
    wrong_offsets = desk.client.post(
        "/desk/api/facts",
        json={
            "source_id": desk.source,
            "text": MISSED,
            "fields": {
                "kind": "investment",
                "statement": "x",
                "subject": "GEO",
                "evidence_start": start + 1,
                "evidence_end": start + 1 + len(MISSED),
            },
        },
        headers=headers,
    )
    assert wrong_offsets.status_code == 422

    # what the API says
    t = api(desk, f"/v1/facts/{turnover['id']}/revisions")
    assert [(r["number"], r["action"], r["actor"], r["reason"]) for r in t] == [
        (1, "create", "editor-ana", None),
        (2, "update", "editor-ana", "The ministry said 'over'."),
        (3, "publish", "editor-ana", "Checked against the article."),
    ]
    now = api(desk, f"/v1/facts/{turnover['id']}")
    assert now["status"] == "published"
    assert now["quantity"]["comparator"] == "more_than" and now["modality"] == "forecast"
    assert now["quantity"]["value"] == turnover["quantity"]["value"]
    inv = api(desk, f"/v1/facts/{investment['id']}/revisions")
    assert [(r["action"], r["actor"], r["reason"]) for r in inv[1:]] == [
        ("reject", "editor-ana", "Repeats the seed figure.")
    ]
    new = api(desk, f"/v1/facts/{new_id}")
    assert new["evidence"]["text"] == MISSED and new["evidence"]["start"] == start
    assert new["quantity"]["value"] == "95000000" and new["status"] == "published"
    assert [
        (r["action"], r["actor"], r["reason"]) for r in api(desk, f"/v1/facts/{new_id}/revisions")
    ] == [("create", "editor-ana", None), ("publish", "editor-ana", "Missed by the extractor.")]
    assert feed_for(desk, turnover["id"])[1:] == [
        (2, "update", "editor-ana"),
        (3, "publish", "editor-ana"),
    ]
    assert feed_for(desk, investment["id"])[1:] == [(2, "reject", "editor-ana")]
    assert feed_for(desk, new_id) == [(1, "create", "editor-ana"), (2, "publish", "editor-ana")]

    history = desk.client.get(f"/desk/facts/{turnover['id']}/history")
    assert history.status_code == 200
    assert "The ministry said &#39;over&#39;." in history.text
    assert f'href="/v1/facts/{turnover["id"]}"' in history.text
    assert "<b>modality</b>: reported → forecast" in history.text
    assert "&gt; $850 million" in history.text


def form_of(desk: Desk, fact_id: str) -> dict[str, Any]:
    """The edit form's fields of a draft, as the page renders them."""
    page = desk.client.get(f"/desk/sources/{desk.source}").text
    card = page[page.index(f'data-id="{fact_id}"') :]
    begin = card.index('<form class="edit-form"')
    form = card[begin : card.index("</form>", begin)]
    values: dict[str, Any] = {}
    for name, value in re.findall(r'<input name="(\w+)"[^>]*?value="([^"]*)"', form):
        values[name] = value
    for name, value in re.findall(r'<input name="(\w+)" type="number"[^>]*value="(\d+)"', form):
        values[name] = int(value)
    for name, options in re.findall(r'<select name="(\w+)">(.*?)</select>', form, re.S):
        chosen = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)<', options)
        values[name] = (chosen.group(1) or chosen.group(2)) if chosen else ""
    statement = re.search(r'<textarea name="statement"[^>]*>(.*?)</textarea>', form, re.S)
    assert statement
    values["statement"] = statement.group(1).replace("&#39;", "'").replace("&amp;", "&")
    values.pop("reason", None)
    return {
        k: v.replace("&#39;", "'").replace("&amp;", "&") if isinstance(v, str) else v
        for k, v in values.items()
    }


def test_publishing_into_a_conflict_warns_and_needs_confirmation(desk: Desk) -> None:
    token = desk.csrf()
    headers = {"X-CSRF-Token": token}
    turnover = desk.drafts["trade_turnover"]
    writer = {"Authorization": f"Bearer {desk.key}"}
    other = desk.client.post(
        "/v1/facts",
        json={
            "kind": "trade_turnover",
            "statement": "Turnover reached $900 million in 2024.",
            "subject": "AZE",
            "counterpart": "GEO",
            "quantity": {"value": "900000000", "unit": "USD", "comparator": "exact"},
            "time": {"type": "date", "date": "2024"},
            "evidence": turnover["evidence"],
        },
        headers=writer,
    )
    assert other.status_code == 201, other.text
    page = desk.client.get(f"/desk/sources/{desk.source}").text
    card = page[page.index(f'data-id="{turnover["id"]}"') :]
    card = card[: card.index("</article>")]
    assert "Publishing this creates a conflict" in card
    assert other.json()["id"] in card and "$900 million" in card and "$850 million" in card
    refused = desk.client.post(
        f"/desk/api/facts/{turnover['id']}/publish", json={"revision": 1}, headers=headers
    )
    assert refused.status_code == 409 and refused.json()["code"] == "conflict_with_published"
    accepted = desk.client.post(
        f"/desk/api/facts/{turnover['id']}/publish",
        json={"revision": 1, "accept_conflicts": True},
        headers=headers,
    )
    assert accepted.status_code == 200


def test_quotes_add_publish_and_reject(desk: Desk) -> None:
    headers = {"X-CSRF-Token": desk.csrf()}
    words = "Chinese companies have invested nearly $1 billion in Azerbaijan since 1995"
    start = ARTICLE.index(words)
    added = desk.client.post(
        "/desk/api/quotes",
        json={
            "source_id": desk.source,
            "text": words,
            "publish": False,
            "fields": {
                "speaker": "arzukhan-alizadeh",
                "date": "2025-05-12",
                "evidence_start": start,
                "evidence_end": start + len(words),
            },
        },
        headers=headers,
    )
    assert added.status_code == 201, added.text
    quote = added.json()
    assert quote["status"] == "draft"
    rejected = desk.client.post(
        f"/desk/api/quotes/{quote['id']}/reject",
        json={"revision": 1, "reason": "Not a quotation: reported speech."},
        headers=headers,
    )
    assert rejected.status_code == 200
    revisions = api(desk, f"/v1/quotes/{quote['id']}/revisions")
    assert [(r["action"], r["actor"], r["reason"]) for r in revisions] == [
        ("create", "editor-ana", None),
        ("reject", "editor-ana", "Not a quotation: reported speech."),
    ]


def test_every_state_changing_desk_route_needs_the_csrf_token(desk: Desk) -> None:
    """Not only the ones tried above: every POST and PATCH of the desk but sign-in (which
    has its own form token) refuses a request without the session's CSRF token."""
    from app.desk.router import router

    routes = [
        (method, route.path)
        for route in router.routes
        for method in getattr(route, "methods", set())
        if method in {"POST", "PATCH"} and not route.path.endswith("/sign-in")
    ]
    assert len(routes) >= 9
    for method, path in routes:
        url = path.replace("{fact_id}", desk.drafts["investment"]["id"]).replace(
            "{quote_id}", "quote-x"
        )
        response = desk.client.request(method, url, json={"revision": 1, "reason": "x"})
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "csrf_failed"
    assert api(desk, f"/v1/facts/{desk.drafts['investment']['id']}")["revision"] == 1
