"""Load the curated seed data (app/seed/data/*.yaml) into the database.

Idempotent: records that already exist are left alone (an editor's later
correction is never overwritten by a re-seed), so running it twice changes
nothing. Everything is checked before anything is written: every evidence
span must match the source text and every reference must resolve, or the
whole load is refused.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, SQLModel, select

from app.countries import country_name, normalise_country_code
from app.db import utcnow
from app.entities.models import Entity, EntityKind, Role
from app.facts.models import (
    Comparator,
    Direction,
    Fact,
    FactKind,
    FactMention,
    Status,
    TimeType,
)
from app.facts.quantity import implied_interval
from app.quotes.models import Quote, QuoteMention, QuoteSupport
from app.sources.models import Source
from app.timeframes import ReducedDate

DATA_DIR = Path(__file__).parent / "data"


class SeedError(ValueError):
    """The seed data contradicts itself or its source; nothing was written."""


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        target = self.created if created else self.unchanged
        target[kind] = target.get(kind, 0) + 1


def _span(text: str, evidence: dict[str, Any], where: str) -> tuple[int, int, str]:
    start, end, quoted = int(evidence["start"]), int(evidence["end"]), str(evidence["text"])
    if not 0 <= start < end <= len(text) or text[start:end] != quoted:
        raise SeedError(f"{where}: evidence [{start}:{end}] does not match the source text")
    return start, end, quoted


def _time_columns(time: dict[str, Any] | None, evidence: str, where: str) -> dict[str, Any]:
    if not time:
        return {}
    words = time.get("text")
    if words is not None and words not in evidence:
        raise SeedError(f"{where}: time text {words!r} is not in the evidence")
    if time["type"] == TimeType.date:
        start = end = ReducedDate.parse(str(time["date"]))
    else:
        start, end = ReducedDate.parse(str(time["start"])), ReducedDate.parse(str(time["end"]))
    if start.first_day > end.last_day:
        raise SeedError(f"{where}: time starts after it ends")
    return {
        "time_type": TimeType(time["type"]).value,
        "time_start": start.first_day,
        "time_start_precision": start.precision.value,
        "time_end": end.last_day,
        "time_end_precision": end.precision.value,
        "time_text": words,
    }


def _quantity_columns(quantity: dict[str, Any] | None, evidence: str, where: str) -> dict[str, Any]:
    if not quantity:
        return {}
    words = quantity.get("text")
    if words is not None and words not in evidence:
        raise SeedError(f"{where}: quantity text {words!r} is not in the evidence")
    value = Decimal(str(quantity["value"]))
    comparator = Comparator(quantity["comparator"])
    low, high = implied_interval(comparator, value, quantity.get("hedge"))
    return {
        "value": value,
        "unit": str(quantity["unit"]),
        "comparator": comparator.value,
        "hedge": quantity.get("hedge"),
        "value_low": low,
        "value_high": high,
        "quantity_text": words,
    }


class _Seeder:
    def __init__(self, session: Session, report: SeedReport) -> None:
        self.session = session
        self.report = report
        self.entity_ids: set[str] = set(session.exec(select(Entity.id)).all())

    def add(self, record: SQLModel, kind: str, key: Any) -> bool:
        """Add the record unless one with that key exists; report which."""
        exists = self.session.get(type(record), key) is not None
        if not exists:
            self.session.add(record)
        self.report.count(kind, not exists)
        return not exists

    def entity_ref(self, ident: str | None, where: str) -> str | None:
        if ident is None:
            return None
        if ident not in self.entity_ids:
            raise SeedError(f"{where}: unknown entity {ident!r}")
        return ident

    def entities(self, items: list[dict[str, Any]]) -> None:
        roles: list[tuple[str, dict[str, Any]]] = []
        for item in items:
            kind = EntityKind(item["kind"])
            ident = str(item["id"])
            if kind is EntityKind.country:
                code = normalise_country_code(ident)
                entity = Entity(id=code, kind=kind.value, name=country_name(code), code=code)
            else:
                entity = Entity(
                    id=ident,
                    kind=kind.value,
                    name=str(item["name"]),
                    description=item.get("description"),
                    aliases=list(item.get("aliases") or []),
                    date=str(item["date"]) if item.get("date") else None,
                    location=item.get("location"),
                )
            if entity.date:
                ReducedDate.parse(entity.date)
            self.entity_ids.add(entity.id)
            if self.add(entity, "entities", entity.id):
                roles.extend((entity.id, role) for role in item.get("roles") or [])
        self.session.flush()
        for person_id, role in roles:
            self.session.add(
                Role(
                    person_id=person_id,
                    organization_id=self.entity_ref(role.get("organization"), person_id),
                    title=str(role["title"]),
                    text=role.get("text"),
                    start=role.get("start"),
                    end=role.get("end"),
                )
            )

    def facts(self, items: list[dict[str, Any]], source: Source) -> None:
        for item in items:
            where = f"fact {item['id']}"
            start, end, evidence = _span(source.text, item["evidence"], where)
            kind = FactKind(item["kind"])
            attributes: dict[str, Any] = {}
            if kind is FactKind.agreement:
                details = dict(item.get("agreement") or {})
                for party in details.get("parties", []):
                    self.entity_ref(party, where)
                self.entity_ref(details.get("event"), where)
                attributes = details
            now = utcnow()
            fact = Fact(
                id=str(item["id"]),
                kind=kind.value,
                statement=str(item["statement"]),
                subject_id=self.entity_ref(str(item["subject"]), where) or "",
                counterpart_id=self.entity_ref(item.get("counterpart"), where),
                direction=Direction(item["direction"]).value,
                claimed_by_id=self.entity_ref(item.get("claimed_by"), where),
                claimed_role=item.get("claimed_role"),
                source_id=source.id,
                evidence_start=start,
                evidence_end=end,
                evidence_text=evidence,
                attributes=attributes,
                status=Status.published.value,
                revision=1,
                created_at=now,
                updated_at=now,
                **_quantity_columns(item.get("quantity"), evidence, where),
                **_time_columns(item.get("time"), evidence, where),
            )
            if self.add(fact, "facts", fact.id):
                for mention in item.get("mentions") or []:
                    self.entity_ref(mention, where)
                    self.session.add(FactMention(fact_id=fact.id, entity_id=mention))

    def quotes(self, items: list[dict[str, Any]], source: Source) -> None:
        fact_ids = set(self.session.exec(select(Fact.id)).all())
        for item in items:
            where = f"quote {item['id']}"
            start, end, words = _span(source.text, item["evidence"], where)
            said = ReducedDate.parse(str(item["date"])) if item.get("date") else None
            now = utcnow()
            quote = Quote(
                id=str(item["id"]),
                text=words,
                speaker_id=self.entity_ref(str(item["speaker"]), where) or "",
                speaker_role=item.get("speaker_role"),
                said_to_id=self.entity_ref(item.get("said_to"), where),
                said_on=said.first_day if said else None,
                said_on_precision=said.precision.value if said else None,
                source_id=source.id,
                evidence_start=start,
                evidence_end=end,
                status=Status.published.value,
                revision=1,
                created_at=now,
                updated_at=now,
            )
            if self.add(quote, "quotes", quote.id):
                for mention in item.get("mentions") or []:
                    self.entity_ref(mention, where)
                    self.session.add(QuoteMention(quote_id=quote.id, entity_id=mention))
                for fact_id in item.get("supports") or []:
                    if fact_id not in fact_ids:
                        raise SeedError(f"{where}: supports unknown fact {fact_id!r}")
                    self.session.add(QuoteSupport(quote_id=quote.id, fact_id=fact_id))


def _source(seeder: _Seeder, spec: dict[str, Any], folder: Path) -> Source:
    text = (folder / spec["text_file"]).read_text(encoding="utf-8")
    published = date.fromisoformat(str(spec["published"]))
    source = Source(
        id=str(spec["id"]),
        outlet_id=seeder.entity_ref(str(spec["outlet"]), "source") or "",
        url=spec.get("url"),
        title=str(spec["title"]),
        published=published,
        dateline=spec.get("dateline"),
        language=str(spec["language"]),
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        created_at=utcnow(),
    )
    seeder.add(source, "sources", source.id)
    stored = seeder.session.get(Source, source.id)
    return stored or source


def load_seed(session: Session, data_dir: Path = DATA_DIR) -> SeedReport:
    """Load every seed file in data_dir in one transaction (the caller commits)."""
    report = SeedReport()
    seeder = _Seeder(session, report)
    for path in sorted(data_dir.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        seeder.entities(spec.get("entities") or [])
        session.flush()
        source = _source(seeder, spec["source"], path.parent)
        session.flush()
        seeder.facts(spec.get("facts") or [], source)
        session.flush()
        seeder.quotes(spec.get("quotes") or [], source)
        session.flush()
    return report
