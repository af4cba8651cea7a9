"""Agreements are facts of kind `agreement`: this module only reshapes them."""

from sqlmodel import Session

from app.agreements.schemas import AgreementPublic, AgreementQuery
from app.facts.models import FactKind
from app.facts.schemas import FactPublic, FactQuery
from app.facts.service import get_fact_row, list_fact_rows, render_facts
from app.pagination import Cursor


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
        claimed_by=fact.claimed_by,
        evidence=fact.evidence,
        status=fact.status,
        revision=fact.revision,
        created_at=fact.created_at,
        updated_at=fact.updated_at,
    )


def list_agreements(
    session: Session, *, query: AgreementQuery, limit: int, after: Cursor | None
) -> tuple[list[AgreementPublic], Cursor | None]:
    fact_query = FactQuery.model_validate(
        {**query.model_dump(exclude={"limit", "cursor"}), "kind": [FactKind.agreement]}
    )
    rows, next_cursor = list_fact_rows(session, query=fact_query, limit=limit, after=after)
    return [to_agreement(f) for f in render_facts(session, rows)], next_cursor


def get_agreement(session: Session, *, agreement_id: str) -> AgreementPublic:
    fact = get_fact_row(session, fact_id=agreement_id, kind=FactKind.agreement)
    return to_agreement(render_facts(session, [fact])[0])
