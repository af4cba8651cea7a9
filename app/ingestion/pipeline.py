"""Ingest an article: store it, extract candidates, and save them as drafts for review.

Candidates go through the same validation as any write (FactCreate and
QuoteCreate), so a draft is always a well-formed fact whose evidence matches
the stored text. A candidate that still fails validation is reported and
skipped, in a savepoint, so it cannot spoil the rest of the ingest.
"""

from dataclasses import dataclass, field

from sqlalchemy import Text, cast, func
from sqlmodel import Session, col, select

from app.entities.models import Entity, EntityKind
from app.entities.schemas import EntityCreate, RoleIn
from app.entities.service import create_entity, slug
from app.errors import ProblemError
from app.facts.models import Fact, Status
from app.facts.schemas import FactCreate
from app.facts.service import create_fact
from app.ingestion.calibration import FLOOR
from app.ingestion.extract import Extraction, FactCandidate, Person, extract
from app.quotes.models import Quote
from app.quotes.schemas import QuoteCreate
from app.quotes.service import create_quote
from app.sources.models import Source
from app.sources.schemas import SourceCreate
from app.sources.service import create_source, find_by_text


@dataclass
class IngestResult:
    source: Source
    created: bool
    facts: list[Fact] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _entity_named(session: Session, name: str, kind: EntityKind) -> str | None:
    """An existing entity of that kind whose name or alias is `name`."""
    exact = session.exec(
        select(Entity.id).where(
            col(Entity.kind) == kind.value, func.lower(Entity.name) == name.lower()
        )
    ).first()
    if exact:
        return exact
    for entity in session.exec(
        select(Entity).where(
            col(Entity.kind) == kind.value,
            func.lower(cast(Entity.aliases, Text)).contains(name.lower()),
        )
    ).all():
        if any(alias.lower() == name.lower() for alias in entity.aliases):
            return entity.id
    return None


def _entity(
    session: Session, name: str, kind: EntityKind, actor: str, role: str | None = None
) -> str:
    found = _entity_named(session, name, kind)
    if found:
        return found
    ident = slug(name)
    if session.get(Entity, ident) is not None:
        ident = f"{ident}-{kind.value}"
    roles = [RoleIn(title=role, text=role)] if role else []
    body = EntityCreate(
        kind=kind,
        name=name,
        roles=roles,
        aliases=[name.split()[-1]] if kind is EntityKind.person else [],
    )
    return create_entity(session, body=body, actor=actor, entity_id=ident).id


def _fact_body(
    candidate: FactCandidate, source_id: str, people: dict[str, str], events: dict[str, str]
) -> FactCreate:
    agreement = None
    if candidate.agreement is not None:
        details = candidate.agreement
        agreement = {
            "title": details["title"],
            "parties": details["parties"] or [candidate.subject],
            "event": events.get(details.get("event_name") or ""),
            "documents": details["documents"],
            "sectors": details["sectors"],
        }
    quantity = None
    if candidate.quantity is not None:
        q = candidate.quantity
        quantity = {
            "value": q.value,
            "unit": q.unit,
            "comparator": q.comparator,
            "hedge": q.hedge,
            "text": q.text,
        }
    speaker = candidate.speaker
    return FactCreate.model_validate(
        {
            "kind": candidate.kind,
            "statement": candidate.statement,
            "subject": candidate.subject,
            "counterpart": candidate.counterpart,
            "direction": candidate.direction,
            "quantity": quantity,
            "time": candidate.time.as_input() if candidate.time else None,
            "modality": candidate.modality,
            "sector": candidate.sector,
            "claimed_by": people.get(speaker.name) if speaker else None,
            "claimed_role": speaker.role if speaker else None,
            "evidence": {
                "source_id": source_id,
                "start": candidate.evidence.start,
                "end": candidate.evidence.end,
                "text": candidate.evidence.text,
            },
            "agreement": agreement,
        }
    )


def save_candidates(
    session: Session, *, source: Source, extraction: Extraction, actor: str, result: IngestResult
) -> None:
    people: dict[str, str] = {}
    speakers = [*extraction.people]
    speakers += [f.speaker for f in extraction.facts if f.speaker is not None]
    speakers += [q.speaker for q in extraction.quotes if q.speaker is not None]
    for person in speakers:
        if person.name not in people:
            people[person.name] = _entity(
                session, person.name, EntityKind(person.kind), actor, person.role
            )
    events: dict[str, str] = {}
    for candidate in extraction.facts:
        name = (candidate.agreement or {}).get("event_name")
        if name and name not in events:
            events[name] = _entity(session, name, EntityKind.event, actor)

    for candidate in extraction.facts:
        if candidate.confidence < FLOOR:
            result.skipped.append(
                f"{candidate.kind.value} at [{candidate.evidence.start}:{candidate.evidence.end}]: "
                f"rule {candidate.rule} is right {candidate.confidence:.0%} of the time on the "
                f"development corpus, below the {FLOOR:.0%} floor for drafts"
            )
            continue
        try:
            with session.begin_nested():
                body = _fact_body(candidate, source.id, people, events)
                result.facts.append(
                    create_fact(
                        session,
                        body=body,
                        actor=actor,
                        status=Status.draft,
                        confidence=candidate.confidence,
                    )
                )
        except (ProblemError, ValueError) as exc:
            result.skipped.append(
                f"{candidate.kind.value} at [{candidate.evidence.start}:{candidate.evidence.end}]: {getattr(exc, 'detail', exc)}"
            )

    for quote in extraction.quotes:
        speaker: Person | None = quote.speaker
        if speaker is not None and quote.confidence < FLOOR:
            result.skipped.append(
                f"quote at [{quote.evidence.start}:{quote.evidence.end}]: speaker pass "
                f"{quote.rule} is right {quote.confidence:.0%} of the time, below the floor"
            )
            continue
        if speaker is None or speaker.name not in people:
            result.skipped.append(
                f"quote at [{quote.evidence.start}:{quote.evidence.end}]: no speaker found"
            )
            continue
        # A quote supports the facts it contains, and those of the sentence that introduces
        # it with a colon ("... highlighted that X:").
        first = quote.introduced_at if quote.introduced_at is not None else quote.evidence.start
        supports = [f.id for f in result.facts if first <= f.evidence_start < quote.evidence.end]
        mentions = sorted(
            {
                c
                for f in result.facts
                if f.id in supports
                for c in (f.subject_id, f.counterpart_id)
                if c
            }
        )
        try:
            with session.begin_nested():
                quote_body = QuoteCreate.model_validate(
                    {
                        "speaker": people[speaker.name],
                        "speaker_role": speaker.role,
                        "said_to": source.outlet_id,
                        "date": source.published.isoformat(),
                        "evidence": {
                            "source_id": source.id,
                            "start": quote.evidence.start,
                            "end": quote.evidence.end,
                            "text": quote.evidence.text,
                        },
                        "mentions": mentions,
                        "supports": supports,
                    }
                )
                result.quotes.append(
                    create_quote(
                        session,
                        body=quote_body,
                        actor=actor,
                        status=Status.draft,
                        confidence=quote.confidence,
                    )
                )
        except (ProblemError, ValueError) as exc:
            result.skipped.append(
                f"quote at [{quote.evidence.start}:{quote.evidence.end}]: {getattr(exc, 'detail', exc)}"
            )


def ingest(session: Session, *, body: SourceCreate, actor: str) -> IngestResult:
    """Store the article and its draft candidates; the same text again changes nothing."""
    existing = find_by_text(session, body.text)
    if existing is not None:
        return IngestResult(
            source=existing,
            created=False,
            facts=list(
                session.exec(
                    select(Fact).where(
                        col(Fact.source_id) == existing.id,
                        col(Fact.valid_to).is_(None),
                        col(Fact.status) == Status.draft.value,
                    )
                ).all()
            ),
            quotes=list(
                session.exec(
                    select(Quote).where(
                        col(Quote.source_id) == existing.id,
                        col(Quote.valid_to).is_(None),
                        col(Quote.status) == Status.draft.value,
                    )
                ).all()
            ),
        )
    source = create_source(session, body=body, actor=actor)
    result = IngestResult(source=source, created=True)
    save_candidates(
        session,
        source=source,
        extraction=extract(source.text, source.published),
        actor=actor,
        result=result,
    )
    session.flush()
    return result
