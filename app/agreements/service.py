"""Agreements are facts of kind `agreement`: this module reshapes them both ways."""

from collections.abc import Sequence
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
from app.errors import bad_body
from app.facts.models import Fact, FactKind
from app.facts.schemas import FactCreate, FactPublic, FactQuery
from app.facts.service import (
    create_fact,
    current_input,
    fact_revisions,
    get_fact_row,
    list_fact_rows,
    revise_fact,
)
from app.facts.shape import public_facts
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


def render_agreements(facts: Sequence[Any]) -> list[AgreementPublic]:
    return [to_agreement(f) for f in public_facts(facts)]


def list_agreements(
    session: Session, *, query: AgreementQuery, limit: int, after: Cursor | None
) -> tuple[list[AgreementPublic], Cursor | None]:
    fact_query = FactQuery.model_validate(
        {**query.model_dump(exclude={"limit", "cursor"}), "kind": [FactKind.agreement]}
    )
    rows, next_cursor = list_fact_rows(session, query=fact_query, limit=limit, after=after)
    return render_agreements(rows), next_cursor


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


def as_fact_input(fields: dict[str, Any], fact: dict[str, Any]) -> dict[str, Any]:
    """Agreement fields (AgreementCreate's names) set onto a fact's input (FactCreate's
    shape): the one translation between the two, for creates (onto nothing) and updates
    (onto the stored fact, whose other fields are kept). The first two parties are the
    fact's subject and counterpart; a count of documents is its figure."""
    out = {**fact, "kind": FactKind.agreement.value, "direction": "bilateral"}
    details = dict(out.get("agreement") or {})
    for name in ("title", "parties", "event", "documents", "sectors"):
        if name in fields:
            details[name] = fields[name]
    details.setdefault("sectors", [])
    out["agreement"] = details
    for name in ("statement", "claimed_by", "claimed_role", "evidence", "mentions"):
        if name in fields:
            out[name] = fields[name]
    if "parties" in fields:
        out["subject"], out["counterpart"] = fields["parties"][0], fields["parties"][1]
    if "signed" in fields:
        out["time"] = fields["signed"]
    if "documents" in fields or "documents_text" in fields:
        documents = details.get("documents")
        words = fields.get("documents_text", (out.get("quantity") or {}).get("text"))
        out["quantity"] = (
            None
            if documents is None
            else {"value": documents, "unit": "documents", "comparator": "exact", "text": words}
        )
    return out


def _resolve_parties(session: Session, parties: list[str], event: str | None, actor: str) -> None:
    """Check parties and event first, so an error names the agreement's own field."""
    for party in parties:
        resolve_entity(session, party, field="parties", actor=actor)
    if event is not None:
        resolve_entity(session, event, field="event", actor=actor)


def create_agreement(session: Session, *, body: AgreementCreate, actor: str) -> Fact:
    _resolve_parties(session, body.parties, body.event, actor)
    fields = body.model_dump()
    return create_fact(
        session, body=FactCreate.model_validate(as_fact_input(fields, {})), actor=actor
    )


def update_agreement(session: Session, *, current: Fact, body: AgreementUpdate, actor: str) -> Fact:
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    if not changes:
        raise bad_body("", "nothing to change: send at least one field besides `reason`")
    for name in ("title", "statement", "parties", "evidence", "sectors", "mentions"):
        if name in changes and changes[name] is None:
            raise bad_body(name, "may not be null")
    stored = current_input(current)
    _resolve_parties(
        session,
        changes.get("parties") or [],
        changes.get("event"),
        actor,
    )
    merged = as_fact_input(changes, stored)
    return revise_fact(session, current=current, merged=merged, actor=actor, reason=body.reason)


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
