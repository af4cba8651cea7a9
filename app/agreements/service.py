"""Agreements are facts of kind `agreement`: this module reshapes them both ways."""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.agreements.schemas import (
    AgreementCreate,
    AgreementPublic,
    AgreementQuery,
    AgreementUpdate,
)
from app.entities.service import resolve_entity
from app.errors import bad_body, revalidate
from app.facts.models import Comparator, Direction, Fact, FactKind
from app.facts.schemas import FactCreate, FactPublic, FactQuery, FactUpdate
from app.facts.service import (
    create_fact,
    fact_revisions,
    get_fact_row,
    list_fact_rows,
    render_facts,
    update_fact,
)
from app.pagination import Cursor
from app.versioning import Revision


def to_agreement(fact: FactPublic) -> AgreementPublic:
    details = fact.agreement
    assert details is not None, "only facts of kind agreement are agreements"
    return AgreementPublic(
        id=fact.id,
        title=details.title,
        statement=fact.statement,
        signed=fact.time,
        parties=details.parties,
        event=details.event,
        documents=details.documents,
        sectors=details.sectors,
        modality=fact.modality,
        claimed_by=fact.claimed_by,
        evidence=fact.evidence,
        status=fact.status,
        revision=fact.revision,
        created_at=fact.created_at,
        updated_at=fact.updated_at,
    )


def render_agreements(session: Session, facts: list[Fact]) -> list[AgreementPublic]:
    return [to_agreement(f) for f in render_facts(session, facts)]


def list_agreements(
    session: Session, *, query: AgreementQuery, limit: int, after: Cursor | None
) -> tuple[list[AgreementPublic], Cursor | None]:
    fact_query = FactQuery.model_validate(
        {**query.model_dump(exclude={"limit", "cursor"}), "kind": [FactKind.agreement]}
    )
    rows, next_cursor = list_fact_rows(session, query=fact_query, limit=limit, after=after)
    return render_agreements(session, list(rows)), next_cursor


def get_agreement_row(
    session: Session,
    *,
    agreement_id: str,
    as_of: datetime | None = None,
    editorial: bool = True,
) -> Fact:
    return get_fact_row(
        session, fact_id=agreement_id, kind=FactKind.agreement, as_of=as_of, editorial=editorial
    )


def _as_fact(body: AgreementCreate) -> FactCreate:
    quantity = None
    if body.documents is not None:
        quantity = {
            "value": body.documents,
            "unit": "documents",
            "comparator": Comparator.exact,
            "text": body.documents_text,
        }
    return revalidate(
        FactCreate,
        {
            "kind": FactKind.agreement,
            "statement": body.statement,
            "subject": body.parties[0],
            "counterpart": body.parties[1],
            "direction": Direction.bilateral,
            "quantity": quantity,
            "time": body.signed.model_dump() if body.signed else None,
            "claimed_by": body.claimed_by,
            "claimed_role": body.claimed_role,
            "evidence": body.evidence.model_dump(),
            "mentions": body.mentions,
            "agreement": {
                "title": body.title,
                "parties": body.parties,
                "event": body.event,
                "documents": body.documents,
                "sectors": body.sectors,
            },
        },
    )


def _resolve_parties(session: Session, body: AgreementCreate, actor: str) -> None:
    """Check parties and event first, so an error names the agreement's own field."""
    for party in body.parties:
        resolve_entity(session, party, field="parties", actor=actor)
    if body.event is not None:
        resolve_entity(session, body.event, field="event", actor=actor)


def create_agreement(session: Session, *, body: AgreementCreate, actor: str) -> Fact:
    _resolve_parties(session, body, actor)
    return create_fact(session, body=_as_fact(body), actor=actor)


def _as_input(agreement: AgreementPublic, fact: Fact) -> dict[str, Any]:
    signed = None
    if agreement.signed is not None:
        t = agreement.signed
        signed = (
            {"type": "date", "date": t.date, "text": t.text}
            if t.type.value == "date"
            else {"type": "period", "start": t.start, "end": t.end, "text": t.text}
        )
    return {
        "title": agreement.title,
        "statement": agreement.statement,
        "parties": [p.id for p in agreement.parties],
        "signed": signed,
        "event": agreement.event.id if agreement.event else None,
        "documents": agreement.documents,
        "documents_text": fact.quantity_text,
        "sectors": agreement.sectors,
        "claimed_by": fact.claimed_by_id,
        "claimed_role": fact.claimed_role,
        "evidence": agreement.evidence.model_dump(),
        "mentions": list(fact.mentions or []),
    }


def update_agreement(session: Session, *, current: Fact, body: AgreementUpdate, actor: str) -> Fact:
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    if not changes:
        raise bad_body("", "nothing to change: send at least one field besides `reason`")
    existing = render_agreements(session, [current])[0]
    merged = revalidate(AgreementCreate, {**_as_input(existing, current), **changes})
    _resolve_parties(session, merged, actor)
    full = FactUpdate.model_validate(
        {
            **_as_fact(merged).model_dump(),
            "modality": current.modality,
            "sector": current.sector,
            "reason": body.reason,
        }
    )
    return update_fact(session, current=current, body=full, actor=actor)


def agreement_revisions(
    session: Session, *, agreement_id: str, editorial: bool = True
) -> list[Revision[AgreementPublic]]:
    get_agreement_row(session, agreement_id=agreement_id, editorial=editorial)
    return [
        Revision[AgreementPublic](
            **revision.model_dump(exclude={"snapshot"}), snapshot=to_agreement(revision.snapshot)
        )
        for revision in fact_revisions(session, fact_id=agreement_id, editorial=editorial)
    ]
