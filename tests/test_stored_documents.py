"""Stored fact documents (app.facts.shape) and data-version ETags (app.http.conditional).

Every fact revision row stores its public JSON (`document`), made when the row is inserted;
reads send those bytes, an entity's change remakes the documents that show it, and `db
upgrade` remakes them all when the code's shape differs. Anonymous GETs under /v1/ get an
ETag made of the data's version and the request, so that a matching If-None-Match is a 304
before any route runs; with the response cache on and off.
"""

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from conftest import create_api_key, fact_body, make_settings, seeded_copy
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, event, inspect, select, update
from sqlalchemy.pool import NullPool

from app.db.migrate import upgrade
from app.facts import shape
from app.facts.models import DocumentShape, Fact
from app.facts.schemas import FactCreate
from app.http.conditional import strong_etag
from app.main import create_app

FACT = "aze-chn-investment-chn-to-aze-since-1995"
CLAIMANT = "arzukhan-alizadeh"
PAIR = "/v1/facts?country=AZE&counterpart=CHN"
PROBLEM_JSON = "application/problem+json"
STRONG_ETAG = re.compile(r'"[0-9A-Za-z_-]+"')
FACTS = Fact.__table__  # type: ignore[attr-defined]
SHAPES = DocumentShape.__table__  # type: ignore[attr-defined]

QUANTITY_COLUMNS = (
    "value",
    "unit",
    "comparator",
    "hedge",
    "value_low",
    "value_high",
    "quantity_text",
)
TIME_COLUMNS = (
    "time_type",
    "time_start",
    "time_start_precision",
    "time_end",
    "time_end_precision",
    "time_text",
)
NOT_CONTENT = {
    # What a revision gets from the write itself rather than from the fact's input.
    "id",
    "revision",
    "valid_from",
    "valid_to",
    "action",
    "actor",
    "reason",
    "created_at",
    "status",
    "confidence",
    "document",
}

CACHE: dict[str, dict[str, Any]] = {"cache-off": {"response_cache_mb": 0}, "cache-on": {}}
"""Settings overrides: the response cache off, and on (the default)."""


# --- helpers --------------------------------------------------------------------------------


@contextmanager
def serving(url: str, **overrides: Any) -> Iterator[TestClient]:
    application = create_app(make_settings(url, **overrides))
    with TestClient(application) as client:
        yield client
    application.state.engine.dispose()


@contextmanager
def connected(url: str, *, write: bool = False) -> Iterator[Any]:
    """A connection of the test's own (not the app's engine)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() if write else engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def fact_rows(url: str, fact_id: str | None = None) -> list[dict[str, Any]]:
    """Fact revision rows as stored, by id and revision."""
    stmt = select(FACTS).order_by(FACTS.c.id, FACTS.c.revision)
    if fact_id is not None:
        stmt = stmt.where(FACTS.c.id == fact_id)
    with connected(url) as conn:
        return [dict(row._mapping) for row in conn.execute(stmt)]


def current_rows(url: str) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in fact_rows(url) if row["valid_to"] is None}


def all_documents(url: str) -> dict[tuple[str, int], str]:
    return {(row["id"], row["revision"]): row["document"] for row in fact_rows(url)}


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


def list_entry(client: TestClient, path: str, fact_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    entries = [item for item in response.json()["items"] if item["id"] == fact_id]
    assert len(entries) == 1, (path, fact_id)
    return entries[0]


def names_shown(value: Any, entity_id: str) -> list[str]:
    """Every name a document shows for an entity (in subject, claimed_by, mentions...)."""
    found: list[str] = []
    if isinstance(value, dict):
        if value.get("id") == entity_id and "name" in value:
            found.append(value["name"])
        for inner in value.values():
            found += names_shown(inner, entity_id)
    elif isinstance(value, list):
        for inner in value:
            found += names_shown(inner, entity_id)
    return found


def is_version_tag(etag: str) -> bool:
    return etag.startswith('"v') and bool(STRONG_ETAG.fullmatch(etag))


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A seeded database of this module's own, for the tests that only read."""
    db = seeded_copy(backend, tmp_path_factory.mktemp("stored-documents"), tmp_path_factory)
    yield db.url
    db.drop()


@pytest.fixture(scope="module")
def module_key(module_db: str) -> str:
    return create_api_key(module_db, "desk", "write")


@pytest.fixture(scope="module", params=list(CACHE))
def reader(request: pytest.FixtureRequest, module_db: str) -> Iterator[TestClient]:
    """An anonymous client on the module's database, with the response cache off or on."""
    with serving(module_db, **CACHE[request.param]) as client:
        yield client


@pytest.fixture(params=list(CACHE))
def cache(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The settings overrides of a cache mode, for tests on a fresh database."""
    return CACHE[request.param]


# --- A. stored documents --------------------------------------------------------------------


def test_reads_send_the_stored_document_bytes(module_db: str, reader: TestClient) -> None:
    """An item GET's body is the row's `document`, byte for byte, and its ETag is that of
    those bytes (in the fact view and, for agreements, the agreement view); a list's items
    are the stored documents, joined as they are."""
    rows = current_rows(module_db)
    readable = {i: r for i, r in rows.items() if r["status"] in ("published", "retracted")}
    assert FACT in readable
    for fact_id, row in readable.items():
        document = row["document"].encode()
        assert document, fact_id
        response = reader.get(f"/v1/facts/{fact_id}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.content == document, fact_id
        assert response.headers["etag"] == strong_etag(document)
        if row["kind"] == "agreement":
            agreement = reader.get(f"/v1/agreements/{fact_id}")
            assert agreement.status_code == 200, agreement.text
            assert agreement.headers["etag"] == strong_etag(document)

    listing = reader.get("/v1/facts", params={"limit": 500})
    assert listing.status_code == 200
    ids = [item["id"] for item in listing.json()["items"]]
    assert set(ids) == {i for i, r in rows.items() if r["status"] == "published"}
    items = '{"items":[' + ",".join(rows[i]["document"] for i in ids) + "]"
    assert listing.content.startswith(items.encode())


def test_columns_cover_every_content_column(module_db: str) -> None:
    """With every input field set, shape.columns() gives every content column of the
    table, each with a value: none is left for a revision to carry over from the last."""
    body = FactCreate.model_validate(
        fact_body(
            "Ten documents were signed since 1995.",
            kind="agreement",
            direction="subject_to_counterpart",
            quantity={
                "value": "10",
                "unit": "documents",
                "comparator": "approx",
                "hedge": "nearly",
                "text": "ten documents",
            },
            time={"type": "period", "start": "1995", "end": "2025-04", "text": "since 1995"},
            modality="target",
            sector="energy",
            claimed_by=CLAIMANT,
            claimed_role="MP",
            mentions=["sco", "belt-and-road"],
            agreement={
                "title": "Ten documents",
                "parties": ["AZE", "CHN"],
                "event": "beijing-forum-2019",
                "documents": 10,
                "sectors": ["energy"],
            },
        )
    )
    unset = [n for n in FactCreate.model_fields if getattr(body, n) in (None, [], {})]
    assert not unset, f"set these input fields in this test too: {unset}"

    columns = shape.columns(body, lambda ref, field: ref)
    assert set(columns) == set(shape.CONTENT)
    table = {column.name for column in FACTS.columns}
    assert set(shape.CONTENT) == table - NOT_CONTENT
    empty = [name for name, value in columns.items() if value in (None, [], {})]
    assert not empty, f"content columns not filled from a full input: {empty}"
    with connected(module_db) as conn:
        migrated = {column["name"] for column in inspect(conn).get_columns("fact")}
    assert migrated == table


def test_a_patch_that_removes_a_quantity_leaves_none_of_it(fresh_db_url: str) -> None:
    """`"quantity": null` makes a revision without any of the old figure's columns (its
    interval and words included); `"time": null` likewise for the time; the earlier
    revisions keep theirs."""
    key = create_api_key(fresh_db_url, "desk", "write")
    path = f"/v1/facts/{FACT}"
    with serving(fresh_db_url) as client:
        etag = client.get(path).headers["etag"]
        first = client.patch(
            path,
            json={"quantity": None, "reason": "no figure"},
            headers=bearer(key, **{"If-Match": etag}),
        )
        assert first.status_code == 200, first.text
        assert first.json()["quantity"] is None
        second = client.patch(
            path,
            json={"time": None},
            headers=bearer(key, **{"If-Match": first.headers["etag"]}),
        )
        assert second.status_code == 200, second.text
        served = client.get(path)

    original, no_quantity, no_time = fact_rows(fresh_db_url, FACT)
    assert [r["revision"] for r in (original, no_quantity, no_time)] == [1, 2, 3]
    assert all(original[c] is not None for c in QUANTITY_COLUMNS + TIME_COLUMNS)
    assert {c: no_quantity[c] for c in QUANTITY_COLUMNS} == dict.fromkeys(QUANTITY_COLUMNS)
    assert {c: no_quantity[c] for c in TIME_COLUMNS} == {c: original[c] for c in TIME_COLUMNS}
    assert {c: no_time[c] for c in QUANTITY_COLUMNS + TIME_COLUMNS} == dict.fromkeys(
        QUANTITY_COLUMNS + TIME_COLUMNS
    )
    assert no_time["sort_date"] == date(1, 1, 1)
    assert json.loads(no_quantity["document"])["quantity"] is None
    stored = json.loads(no_time["document"])
    assert (stored["quantity"], stored["time"], stored["revision"]) == (None, None, 3)
    assert served.content == no_time["document"].encode()
    assert json.loads(original["document"])["quantity"]["text"] == "nearly $1 billion"


RENAMES = [
    # (entity, a fact that shows it, where the fact shows its name)
    (CLAIMANT, FACT, lambda d: d["claimed_by"]["name"]),
    ("belt-and-road", "aze-chn-investment-aze-to-chn", lambda d: d["mentions"][0]["name"]),
    (
        "beijing-forum-2019",
        "aze-chn-agreement-beijing-forum-2019",
        lambda d: d["agreement"]["event"]["name"],
    ),
]


@pytest.mark.parametrize(
    ("entity", "fact_id", "shown"), RENAMES, ids=["claimed_by", "mentions", "agreement-event"]
)
def test_renaming_an_entity_remakes_the_documents_that_show_it(
    fresh_db_url: str, cache: dict[str, Any], entity: str, fact_id: str, shown: Any
) -> None:
    """The fact's item and list entry show the new name, with a new ETag (no 304 to the old
    one) and the same revision; every stored revision shows the new name."""
    new_name = f"Renamed {entity}"
    key = create_api_key(fresh_db_url, "desk", "write")
    path = f"/v1/facts/{fact_id}"
    with serving(fresh_db_url, **cache) as client:
        before = client.get(path)
        assert before.status_code == 200
        old_name = shown(before.json())
        list_before = client.get(PAIR)
        assert shown(list_entry(client, PAIR, fact_id)) == old_name
        entity_etag = client.get(f"/v1/entities/{entity}").headers["etag"]
        renamed = client.patch(
            f"/v1/entities/{entity}",
            json={"name": new_name},
            headers=bearer(key, **{"If-Match": entity_etag}),
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["name"] == new_name

        after = client.get(path)
        assert after.status_code == 200
        assert shown(after.json()) == new_name
        assert after.json()["revision"] == before.json()["revision"]
        assert after.headers["etag"] != before.headers["etag"]
        assert after.headers["etag"] == strong_etag(after.content)
        stale = client.get(path, headers={"If-None-Match": before.headers["etag"]})
        assert stale.status_code == 200 and stale.content == after.content
        entry = list_entry(client, PAIR, fact_id)
        assert shown(entry) == new_name
        assert entry == after.json()
        list_after = client.get(PAIR, headers={"If-None-Match": list_before.headers["etag"]})
        assert list_after.status_code == 200
        assert list_after.headers["etag"] != list_before.headers["etag"]
        agreement = client.get(f"/v1/agreements/{fact_id}")
        if after.json()["kind"] == "agreement":
            assert agreement.headers["etag"] == after.headers["etag"]

    rows = fact_rows(fresh_db_url)
    current = next(r for r in rows if r["id"] == fact_id and r["valid_to"] is None)
    assert current["document"].encode() == after.content
    shown_anywhere = [n for r in rows for n in names_shown(json.loads(r["document"]), entity)]
    assert shown_anywhere and set(shown_anywhere) == {new_name}


@pytest.mark.parametrize("how", ["row-deleted", "other-digest"])
def test_upgrade_remakes_documents_made_for_another_shape(fresh_db_url: str, how: str) -> None:
    """`upgrade` remakes nothing while the documents are current; when the stored shape
    digest is missing or another, readiness is 503 (naming `econfacts db upgrade`) and
    upgrade remakes every document, the blanked one as it was."""
    assert upgrade(fresh_db_url) == 0
    before = all_documents(fresh_db_url)
    assert all(before.values())
    with connected(fresh_db_url, write=True) as conn:
        conn.execute(update(FACTS).where(FACTS.c.id == FACT).values(document=""))
        if how == "row-deleted":
            conn.execute(delete(SHAPES).where(SHAPES.c.resource == "fact"))
        else:
            conn.execute(
                update(SHAPES).where(SHAPES.c.resource == "fact").values(digest="0123456789abcdef")
            )
    assert all_documents(fresh_db_url)[(FACT, 1)] == ""

    with serving(fresh_db_url) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert ready.headers["content-type"] == PROBLEM_JSON
        assert "econfacts db upgrade" in ready.json()["detail"]

        assert upgrade(fresh_db_url) == len(before)
        assert all_documents(fresh_db_url) == before
        assert client.get("/readyz").status_code == 200
        item = client.get(f"/v1/facts/{FACT}")
        assert item.content == before[(FACT, 1)].encode()
    assert upgrade(fresh_db_url) == 0


def test_as_of_reads_send_the_old_document(fresh_db_url: str) -> None:
    """After a statement is corrected, `as_of` a time before shows the old document (list
    and item) and revision 1's snapshot is it; the current reads show the new one."""
    key = create_api_key(fresh_db_url, "desk", "write")
    path = f"/v1/facts/{FACT}"
    with serving(fresh_db_url) as client:
        old = client.get(path)
        assert old.status_code == 200
        moment = datetime.now(UTC).isoformat()
        time.sleep(0.01)
        patched = client.patch(
            path,
            json={"statement": "A corrected statement."},
            headers=bearer(key, **{"If-Match": old.headers["etag"]}),
        )
        assert patched.status_code == 200, patched.text
        new = client.get(path)
        assert new.json()["statement"] == "A corrected statement."

        assert list_entry(client, PAIR, FACT, as_of=moment) == old.json()
        assert list_entry(client, PAIR, FACT) == new.json()
        then = client.get(path, params={"as_of": moment})
        assert then.status_code == 200
        assert then.content == old.content
        assert then.headers["etag"] == old.headers["etag"]

        revisions = client.get(f"{path}/revisions")
        assert revisions.status_code == 200
        assert [r["number"] for r in revisions.json()] == [1, 2]
        assert revisions.json()[0]["snapshot"] == old.json()
        assert revisions.json()[1]["snapshot"] == new.json()
        first = client.get(f"{path}/revisions/1")
        assert first.json()["snapshot"] == old.json()

    stored = [r["document"] for r in fact_rows(fresh_db_url, FACT)]
    assert stored == [old.content.decode(), new.content.decode()]


# --- B. data-version ETags ------------------------------------------------------------------


def test_anonymous_lists_carry_a_data_version_etag(reader: TestClient) -> None:
    """A version tag, stable across reads; sent back it gives 304 with no body; another
    query or another Accept gives another tag. Item GETs keep the record's ETag."""
    first = reader.get(PAIR)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert is_version_tag(tag), tag
    assert reader.get(PAIR).headers["etag"] == tag
    again = reader.get(PAIR, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert "content-type" not in again.headers

    other_query = reader.get(PAIR + "&sort=id")
    assert other_query.status_code == 200
    assert is_version_tag(other_query.headers["etag"])
    assert other_query.headers["etag"] != tag
    assert reader.get(PAIR + "&sort=id", headers={"If-None-Match": tag}).status_code == 200

    as_json = reader.get(PAIR + "&limit=5")
    as_csv = reader.get(PAIR + "&limit=5", headers={"Accept": "text/csv"})
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    tags = {tag, as_json.headers["etag"], as_csv.headers["etag"]}
    assert len(tags) == 3 and all(is_version_tag(t) for t in tags), tags
    csv_again = reader.get(
        PAIR + "&limit=5",
        headers={"Accept": "text/csv", "If-None-Match": as_csv.headers["etag"]},
    )
    assert csv_again.status_code == 304
    json_tag_for_csv = reader.get(
        PAIR + "&limit=5",
        headers={"Accept": "text/csv", "If-None-Match": as_json.headers["etag"]},
    )
    assert json_tag_for_csv.status_code == 200
    assert json_tag_for_csv.content == as_csv.content

    item = reader.get(f"/v1/facts/{FACT}")
    assert not item.headers["etag"].startswith('"v')
    assert item.headers["etag"] == strong_etag(item.content)


def test_a_write_retires_the_old_version_tag(fresh_db_url: str, cache: dict[str, Any]) -> None:
    """After a write (a POST here, a PATCH through another instance of the app on the same
    database), the tag read before it gives 200 with the new data and a new tag: never a
    stale 304."""
    key = create_api_key(fresh_db_url, "desk", "write")
    with serving(fresh_db_url, **cache) as client:
        tag = client.get(PAIR).headers["etag"]
        assert is_version_tag(tag)
        assert client.get(PAIR, headers={"If-None-Match": tag}).status_code == 304

        created = client.post(
            "/v1/facts", json=fact_body("A new fact about investment."), headers=bearer(key)
        )
        assert created.status_code == 201, created.text
        after_post = client.get(PAIR, params={"limit": 500})
        plain = client.get(PAIR, headers={"If-None-Match": tag})
        assert plain.status_code == 200
        assert plain.headers["etag"] != tag and is_version_tag(plain.headers["etag"])
        assert created.json()["id"] in {i["id"] for i in after_post.json()["items"]}
        tag = plain.headers["etag"]
        assert client.get(PAIR, headers={"If-None-Match": tag}).status_code == 304

        with serving(fresh_db_url, **cache) as elsewhere:
            etag = elsewhere.get(f"/v1/facts/{FACT}").headers["etag"]
            patched = elsewhere.patch(
                f"/v1/facts/{FACT}",
                json={"statement": "Patched elsewhere."},
                headers=bearer(key, **{"If-Match": etag}),
            )
            assert patched.status_code == 200, patched.text
        after_patch = client.get(PAIR, headers={"If-None-Match": tag})
        assert after_patch.status_code == 200
        assert after_patch.headers["etag"] != tag and is_version_tag(after_patch.headers["etag"])
        statements = {i["id"]: i["statement"] for i in after_patch.json()["items"]}
        assert statements.get(FACT) == "Patched elsewhere."
        new_tag = after_patch.headers["etag"]
        assert client.get(PAIR, headers={"If-None-Match": new_tag}).status_code == 304


def test_requests_with_a_key_get_no_version_tag(reader: TestClient, module_key: str) -> None:
    """A key may see drafts, so its answers are tagged by their bytes, and the anonymous
    version tag gives it no 304."""
    anonymous = reader.get(PAIR).headers["etag"]
    keyed = reader.get(PAIR, headers=bearer(module_key))
    assert keyed.status_code == 200
    etag = keyed.headers["etag"]
    assert not etag.startswith('"v'), etag
    assert etag == strong_etag(keyed.content)
    with_anonymous_tag = reader.get(
        PAIR, headers=bearer(module_key, **{"If-None-Match": anonymous})
    )
    assert with_anonymous_tag.status_code == 200
    assert with_anonymous_tag.content == keyed.content
    assert (
        reader.get(PAIR, headers=bearer(module_key, **{"If-None-Match": etag})).status_code == 304
    )


def test_a_matching_conditional_get_runs_no_sql(reader: TestClient) -> None:
    """The 304 to a matching version tag executes no statement on the app's engine (the
    version is read on an engine of its own); a GET that does not match does run the
    route's queries, which shows the count is real."""
    engine = reader.app.state.engine  # type: ignore[attr-defined]
    executed: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        executed.append(statement)

    path = PAIR + "&kind=investment"
    tag = reader.get(path).headers["etag"]
    assert is_version_tag(tag)
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            response = reader.get(path, headers={"If-None-Match": tag})
            assert response.status_code == 304
        assert executed == []
        unmatched = reader.get(PAIR + "&kind=trade_turnover", headers={"If-None-Match": tag})
        assert unmatched.status_code == 200
        assert executed, "the listener saw no statement of a GET that ran its route"
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_if_none_match_star_is_no_304_where_nothing_is(reader: TestClient) -> None:
    """`If-None-Match: *` matches a current representation (RFC 9110 section 13.1.2): where
    the route has none (a missing record, a refused query, no such route), its answer
    stands, as without the header; the version tag must not make it a 304."""
    for path, status in (
        ("/v1/facts/no-such-fact", 404),
        ("/v1/facts?no_such_filter=1", 400),
        ("/v1/no-such-collection", 404),
    ):
        assert reader.get(path).status_code == status, path
        response = reader.get(path, headers={"If-None-Match": "*"})
        assert response.status_code == status, (path, response.status_code)
    assert reader.get(PAIR, headers={"If-None-Match": "*"}).status_code == 304


def test_conditional_gets_count_against_the_rate_limit(
    module_db: str, cache: dict[str, Any]
) -> None:
    """A 304 answered before the route is still a request: an address over its limit gets
    429 for conditional GETs too (as for response cache hits), and they use up its
    allowance."""
    with serving(module_db, rate_limit_per_address=5, **cache) as client:
        tag = client.get(PAIR).headers["etag"]
        answers = [client.get(PAIR, headers={"If-None-Match": tag}) for _ in range(6)]
    assert [a.status_code for a in answers[:4]] == [304] * 4
    refused = answers[4]
    assert refused.status_code == 429, [a.status_code for a in answers]
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert int(refused.headers["retry-after"]) >= 1
