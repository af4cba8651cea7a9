"""The curated seed: every evidence span is exact, hedges and relative dates survive, a re-seed
changes nothing, and a seed that contradicts its source is refused without writing anything.
"""

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Database, make_settings
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.db import make_engine
from app.db.migrate import upgrade
from app.facts.models import Fact
from app.quotes.models import Quote
from app.seed.loader import DATA_DIR, SeedError, load_seed
from app.sources.models import Source
from app.tables import metadata

SEED_FILE = DATA_DIR / "trend-4036385.yaml"
SEED = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
SOURCE_TEXT = (DATA_DIR / SEED["source"]["text_file"]).read_text(encoding="utf-8")
FACTS: dict[str, dict[str, Any]] = {f["id"]: f for f in SEED["facts"]}
QUOTES: dict[str, dict[str, Any]] = {q["id"]: q for q in SEED["quotes"]}
ALL_STATUSES = [("status", s) for s in ("draft", "published", "retracted")]


def every(client: TestClient, path: str) -> list[dict[str, Any]]:
    response = client.get(path, params=[*ALL_STATUSES, ("limit", "500")])
    assert response.status_code == 200, response.text
    assert response.json()["next"] is None
    return list(response.json()["items"])


def source_text(client: TestClient, source_id: str) -> str:
    return str(client.get(f"/v1/sources/{source_id}").json()["text"])


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order, to compare a database before and after."""
    engine = make_engine(make_settings(url))
    try:
        with engine.connect() as conn:
            return {
                name: sorted(
                    (tuple(row) for row in conn.execute(select(table))), key=lambda r: repr(r)
                )
                for name, table in metadata.tables.items()
                if name != "document_shape"
            }
    finally:
        engine.dispose()


# --- evidence integrity ----------------------------------------------------------------------


def test_the_seed_text_is_the_shipped_article(client: TestClient) -> None:
    """The stored source text is byte for byte the shipped file, and its hash says so."""
    source = client.get(f"/v1/sources/{SEED['source']['id']}").json()
    assert source["text"] == SOURCE_TEXT
    assert source["sha256"] == hashlib.sha256(SOURCE_TEXT.encode("utf-8")).hexdigest()


def test_every_fact_evidence_span_is_exact_via_the_api(client: TestClient) -> None:
    """For every fact, whatever its status: source.text[start:end] == evidence.text."""
    facts = every(client, "/v1/facts")
    assert {f["id"] for f in facts} == set(FACTS)
    texts: dict[str, str] = {}
    for fact in facts:
        evidence = fact["evidence"]
        text = texts.setdefault(evidence["source_id"], source_text(client, evidence["source_id"]))
        assert text[evidence["start"] : evidence["end"]] == evidence["text"], fact["id"]
        assert evidence["text"] == FACTS[fact["id"]]["evidence"]["text"]


def test_every_quote_evidence_span_is_exact_via_the_api(client: TestClient) -> None:
    """For every quote: the words are exactly the source text at the evidence span."""
    quotes = every(client, "/v1/quotes")
    assert {q["id"] for q in quotes} == set(QUOTES)
    for quote in quotes:
        evidence = quote["evidence"]
        text = source_text(client, evidence["source_id"])
        assert text[evidence["start"] : evidence["end"]] == evidence["text"] == quote["text"]


def test_every_evidence_span_is_exact_in_the_database(seeded_db_url: str) -> None:
    """The same check on the stored rows themselves, so no status or filter can hide one."""
    engine = make_engine(make_settings(seeded_db_url))
    try:
        with Session(engine) as session:
            texts = {s.id: s.text for s in session.scalars(select(Source))}
            facts = list(session.scalars(select(Fact)))
            quotes = list(session.scalars(select(Quote)))
            assert len(facts) == len(FACTS)
            assert len(quotes) == len(QUOTES)
            for fact in facts:
                span = texts[fact.source_id][fact.evidence_start : fact.evidence_end]
                assert span == fact.evidence_text, fact.id
                if fact.quantity_text is not None:
                    assert fact.quantity_text in fact.evidence_text, fact.id
                if fact.time_text is not None:
                    assert fact.time_text in fact.evidence_text, fact.id
            for quote in quotes:
                span = texts[quote.source_id][quote.evidence_start : quote.evidence_end]
                assert span == quote.text, quote.id
            for source in session.scalars(select(Source)):
                assert source.sha256 == hashlib.sha256(source.text.encode("utf-8")).hexdigest()
    finally:
        engine.dispose()


def test_seed_file_offsets_index_the_text_file() -> None:
    """The curated file itself is consistent with the shipped article (independent of the DB)."""
    for record in [*SEED["facts"], *SEED["quotes"]]:
        evidence = record["evidence"]
        assert SOURCE_TEXT[evidence["start"] : evidence["end"]] == evidence["text"], record["id"]


# --- hedges and relative dates ---------------------------------------------------------------


def test_every_hedge_is_kept(client: TestClient) -> None:
    """'nearly', 'around', 'more than', 'surpassing': each figure keeps its hedge and words."""
    facts = {f["id"]: f for f in every(client, "/v1/facts")}
    hedged = {i: f["quantity"] for i, f in FACTS.items() if (f.get("quantity") or {}).get("hedge")}
    assert {q["hedge"] for q in hedged.values()} >= {"nearly", "around", "more than", "surpassing"}
    for fact_id, quantity in hedged.items():
        served = facts[fact_id]["quantity"]
        assert served["hedge"] == quantity["hedge"]
        assert served["comparator"] == quantity["comparator"]
        assert served["text"] == quantity["text"]
        assert quantity["hedge"] in served["text"]
        assert served["comparator"] != "exact"


def test_unhedged_figures_are_exact(client: TestClient) -> None:
    """A figure without a hedge is exact, with low == high == value."""
    for fact in every(client, "/v1/facts"):
        quantity = fact["quantity"]
        if quantity and quantity["hedge"] is None:
            assert quantity["comparator"] == "exact"
            assert quantity["low"] == quantity["high"] == quantity["value"]


def facts_said(time_text: str) -> list[str]:
    found = [i for i, f in FACTS.items() if (f.get("time") or {}).get("text") == time_text]
    assert found, time_text
    return found


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("last July", {"type": "date", "date": "2024-07", "precision": "month"}),
        ("this August", {"type": "date", "date": "2025-08", "precision": "month"}),
        (
            "over the last five years",
            {"type": "period", "start": "2020", "start_precision": "year", "end": "2025-04-28"},
        ),
        ("For 33 years", {"type": "period", "start": "1992", "end": "2025-04-28"}),
        ("since 1995", {"type": "period", "start": "1995", "end": "2025-04-28"}),
        ("in 2019", {"type": "date", "date": "2019", "precision": "year"}),
    ],
)
def test_relative_dates_are_resolved_against_publication(
    client: TestClient, words: str, expected: dict[str, str]
) -> None:
    """Relative words resolve against 28 April 2025: last July = 2024-07, this August = 2025-08."""
    for fact_id in facts_said(words):
        time = client.get(f"/v1/facts/{fact_id}").json()["time"]
        assert time["text"] == words
        assert {k: time[k] for k in expected} == expected, fact_id


def test_open_periods_end_on_the_publication_day(client: TestClient) -> None:
    """'since 1995' runs to the day the article was published, at day precision."""
    published = SEED["source"]["published"]
    for fact in every(client, "/v1/facts"):
        time = fact["time"]
        if time and time["type"] == "period":
            assert time["end"] == published
            assert time["end_precision"] == "day"


def test_quotes_are_dated_on_publication(client: TestClient) -> None:
    """Quotes given in an interview are dated when the article published them."""
    assert {q["date"] for q in every(client, "/v1/quotes")} == {SEED["source"]["published"]}


# --- idempotence -----------------------------------------------------------------------------


def test_seeding_twice_changes_nothing(fresh_db_url: str) -> None:
    """A second load finds everything present, creates nothing and alters no row."""
    before = snapshot(fresh_db_url)
    assert len(before["fact"]) == len(FACTS)
    assert len(before["quote"]) == len(QUOTES)
    engine = make_engine(make_settings(fresh_db_url))
    try:
        with Session(engine) as session:
            report = load_seed(session)
            session.commit()
    finally:
        engine.dispose()
    assert sum(report.created.values()) == 0, report.created
    assert report.unchanged["facts"] == len(FACTS)
    assert report.unchanged["quotes"] == len(QUOTES)
    assert report.unchanged["entities"] == len(SEED["entities"])
    assert snapshot(fresh_db_url) == before


# --- refusing a corrupted seed ---------------------------------------------------------------


def corrupted_copy(tmp_path: Path, section: str, index: int) -> Path:
    """A copy of the seed folder with one evidence offset moved by one character."""
    folder = tmp_path / "seed-data"
    shutil.copytree(DATA_DIR, folder)
    spec = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    spec[section][index]["evidence"]["start"] += 1
    (folder / SEED_FILE.name).write_text(
        yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return folder


def row_counts(url: str) -> dict[str, int]:
    """Rows per table of content (document_shape is written by the migration step)."""
    engine = make_engine(make_settings(url))
    try:
        with engine.connect() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for name, table in metadata.tables.items()
                if name != "document_shape"
            }
    finally:
        engine.dispose()


def load_like_the_cli(url: str, data_dir: Path) -> None:
    """What `econfacts seed` does: one session, load, commit."""
    engine = make_engine(make_settings(url))
    try:
        with Session(engine) as session:
            load_seed(session, data_dir)
            session.commit()
    finally:
        engine.dispose()


@pytest.mark.parametrize(("section", "index"), [("facts", 0), ("facts", -1), ("quotes", 2)])
def test_corrupted_seed_is_refused_and_writes_nothing(
    empty_db: Database, tmp_path: Path, section: str, index: int
) -> None:
    """One wrong offset: SeedError about the evidence, and the database stays empty."""
    upgrade(empty_db.url)
    folder = corrupted_copy(tmp_path, section, index)
    with pytest.raises(SeedError, match="evidence"):
        load_like_the_cli(empty_db.url, folder)
    counts = row_counts(empty_db.url)
    assert set(counts.values()) == {0}, counts


def test_the_untouched_copy_loads(empty_db: Database, tmp_path: Path) -> None:
    """Control for the test above: the copying itself does not break the seed."""
    upgrade(empty_db.url)
    folder = tmp_path / "seed-data"
    shutil.copytree(DATA_DIR, folder)
    spec = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    (folder / SEED_FILE.name).write_text(
        yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    load_like_the_cli(empty_db.url, folder)
    counts = row_counts(empty_db.url)
    assert counts["fact"] == len(FACTS)
    assert counts["quote"] == len(QUOTES)


def test_corrupted_seed_on_a_seeded_database_changes_nothing(
    fresh_db_url: str, tmp_path: Path
) -> None:
    """A bad seed file is refused even when its records already exist, so a curator's mistake
    surfaces on the next `econfacts seed` rather than on the next fresh deployment."""
    before = snapshot(fresh_db_url)
    with pytest.raises(SeedError):
        load_like_the_cli(fresh_db_url, corrupted_copy(tmp_path, "facts", 3))
    assert snapshot(fresh_db_url) == before
