"""Load the curated seed data (app/seed/data/*.yaml) into the database.

The seed goes through the same create functions as the write API (actor
`seed`), so it is validated exactly like a newsroom's write: every evidence
span must match the source text, every reference must resolve. Records that
already exist are left alone (a later correction is never overwritten by a
re-seed), so running it twice changes nothing. The caller commits; a failure
leaves nothing written.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from fastapi import HTTPException
from sqlmodel import Session, col, select

from app.entities.models import Entity
from app.entities.schemas import EntityCreate
from app.entities.service import create_entity
from app.errors import ProblemError
from app.facts.models import Fact
from app.facts.schemas import EvidenceIn, FactCreate
from app.facts.service import create_fact
from app.quotes.models import Quote
from app.quotes.schemas import QuoteCreate
from app.quotes.service import create_quote
from app.sources.models import Source
from app.sources.schemas import SourceCreate
from app.sources.service import create_source

DATA_DIR = Path(__file__).parent / "data"
CORPUS_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "corpus"
"""The annotated corpus of real articles: curated like the seed, so `make run` serves it."""
ACTOR = "seed"


class SeedError(ValueError):
    """The seed data contradicts itself or its source; nothing was written."""


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)


def _exists(session: Session, model: Any, ident: str) -> bool:
    return session.exec(select(model.id).where(col(model.id) == ident)).first() is not None


def _check_span(text: str, evidence: EvidenceIn, where: str) -> None:
    """Every span is checked on every run, so a bad edit to the seed file is caught even on
    a database that already holds the record."""
    if text[evidence.start : evidence.end] != evidence.text:
        raise SeedError(
            f"{where}: evidence [{evidence.start}:{evidence.end}] is not the source text"
        )


def _load_file(session: Session, path: Path, report: SeedReport) -> None:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    # People last: their roles point at organizations listed anywhere in the file.
    for item in sorted(spec.get("entities") or [], key=lambda e: bool(e.get("roles"))):
        ident = str(item["id"])
        body = EntityCreate.model_validate(
            {"code": ident, **{k: v for k, v in item.items() if k != "id"}}
            if item.get("kind") == "country"
            else {k: v for k, v in item.items() if k != "id"}
        )
        if _exists(session, Entity, ident):
            report.unchanged["entities"] += 1
            continue
        create_entity(session, body=body, actor=ACTOR, entity_id=ident)
        report.created["entities"] += 1

    source_spec = dict(spec["source"])
    source_id = str(source_spec.pop("id"))
    text = (path.parent / source_spec.pop("text_file")).read_text(encoding="utf-8")
    if _exists(session, Source, source_id):
        report.unchanged["sources"] += 1
    else:
        source_body = SourceCreate.model_validate({**source_spec, "text": text})
        create_source(session, body=source_body, actor=ACTOR, source_id=source_id)
        report.created["sources"] += 1

    for item in spec.get("facts") or []:
        ident = str(item["id"])
        data = {k: v for k, v in item.items() if k != "id"}
        data["evidence"] = {**data["evidence"], "source_id": source_id}
        fact = FactCreate.model_validate(data)
        _check_span(text, fact.evidence, f"fact {ident}")
        if _exists(session, Fact, ident):
            report.unchanged["facts"] += 1
            continue
        create_fact(session, body=fact, actor=ACTOR, fact_id=ident)
        report.created["facts"] += 1

    for item in spec.get("quotes") or []:
        ident = str(item["id"])
        data = {k: v for k, v in item.items() if k != "id"}
        data["evidence"] = {**data["evidence"], "source_id": source_id}
        quote = QuoteCreate.model_validate(data)
        _check_span(text, quote.evidence, f"quote {ident}")
        if _exists(session, Quote, ident):
            report.unchanged["quotes"] += 1
            continue
        create_quote(session, body=quote, actor=ACTOR, quote_id=ident)
        report.created["quotes"] += 1


def load_seed(session: Session, data_dir: Path = DATA_DIR) -> SeedReport:
    """Load every seed file in data_dir (the caller commits, or rolls back on SeedError)."""
    report = SeedReport()
    for path in sorted(data_dir.glob("*.yaml")):
        try:
            _load_file(session, path, report)
        except (ProblemError, HTTPException, ValueError, KeyError) as exc:
            detail = getattr(exc, "detail", None) or str(exc)
            raise SeedError(f"{path.name}: {detail}") from exc
    return report
