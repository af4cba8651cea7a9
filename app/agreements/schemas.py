"""Agreement shapes. An agreement is a fact of kind `agreement`, shown agreement-first."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.entities.schemas import EntityRef
from app.facts.models import Modality, Status
from app.facts.schemas import (
    ClaimedBy,
    Evidence,
    EvidenceIn,
    FactTime,
    RecordFilters,
    Strict,
    TimeIn,
)
from app.pagination import ListQuery

AGREEMENT_EXAMPLE: dict[str, Any] = {
    "id": "aze-chn-agreement-beijing-forum-2019",
    "title": "Ten documents on economy, industry and investment",
    "statement": "Azerbaijan and China signed ten documents covering the economy, industry and "
    "investment sectors at the Beijing International Forum in 2019.",
    "signed": {
        "type": "date",
        "date": "2019",
        "precision": "year",
        "start": None,
        "start_precision": None,
        "end": None,
        "end_precision": None,
        "text": "in 2019",
        "first_day": "2019-01-01",
        "last_day": "2019-12-31",
    },
    "parties": [
        {"id": "AZE", "kind": "country", "name": "Azerbaijan", "code": "AZE"},
        {"id": "CHN", "kind": "country", "name": "China", "code": "CHN"},
    ],
    "event": {
        "id": "beijing-forum-2019",
        "kind": "event",
        "name": "Beijing International Forum",
        "code": None,
    },
    "documents": 10,
    "sectors": ["economy", "industry", "investment"],
    "modality": "reported",
    "claimed_by": {"id": "arzukhan-alizadeh", "name": "Arzukhan Alizadeh", "role": "MP"},
    "evidence": {"source_id": "trend-4036385", "start": 1078, "end": 1229, "text": "in 2019, ..."},
    "status": "published",
    "revision": 1,
    "created_at": "2025-04-28T00:00:00Z",
    "updated_at": "2025-04-28T00:00:00Z",
}


class AgreementPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [AGREEMENT_EXAMPLE]})

    id: str = Field(description="Also the id of the underlying fact (kind=agreement).")
    title: str
    statement: str
    signed: FactTime | None = Field(description="When it was signed; null if the source says not.")
    parties: list[EntityRef]
    event: EntityRef | None = Field(description="Where it was signed, if stated.")
    documents: int | None
    sectors: list[str]
    modality: Modality = Field(
        description="`reported` for a signed agreement; `forecast` for one announced to be "
        "signed, `target` for one planned."
    )
    claimed_by: ClaimedBy | None
    evidence: Evidence
    status: Status
    revision: int
    created_at: datetime
    updated_at: datetime


class AgreementQuery(ListQuery, RecordFilters):
    """Filters for GET /v1/agreements: the facts' record filters (a party by `country`, the
    other by `counterpart`; `from`/`to` overlap the signing date), a sort order and paging."""

    sort: Literal["date", "-date", "id", "-id"] = Field(
        "-date", description="Order: by signing date or id; `-` for descending."
    )


class AgreementCreate(Strict):
    """A signed agreement; stored as a fact of kind `agreement` (the first two parties are its
    subject and counterpart)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Ten documents on economy, industry and investment",
                    "statement": "In 2019, at the Beijing International Forum, Azerbaijan and "
                    "China signed ten documents covering the economy, industry and investment.",
                    "parties": ["AZE", "CHN"],
                    "signed": {"type": "date", "date": "2019", "text": "in 2019"},
                    "event": "beijing-forum-2019",
                    "documents": 10,
                    "documents_text": "ten documents",
                    "sectors": ["economy", "industry", "investment"],
                    "claimed_by": "arzukhan-alizadeh",
                    "claimed_role": "MP",
                    "evidence": {
                        "source_id": "trend-4036385",
                        "start": 1078,
                        "end": 1229,
                        "text": "in 2019, at the Beijing International Forum, ten documents "
                        "covering the economy, industry, and investment sectors were signed "
                        "between the two countries",
                    },
                }
            ]
        }
    )

    title: str = Field(min_length=1, max_length=500)
    statement: str = Field(min_length=1, max_length=2000)
    parties: list[str] = Field(min_length=2, description="Entity ids; countries by ISO code.")
    signed: TimeIn | None = Field(None, description="When it was signed, as the source says.")
    event: str | None = Field(None, description="Entity id of the event where it was signed.")
    documents: int | None = Field(
        None, ge=0, le=1_000_000, description="How many documents were signed."
    )
    documents_text: str | None = Field(
        None, max_length=200, description="The original words for the count, e.g. `ten documents`."
    )
    sectors: list[str] = Field(default_factory=list)
    claimed_by: str | None = None
    claimed_role: str | None = Field(None, max_length=200)
    evidence: EvidenceIn
    mentions: list[str] = Field(default_factory=list)


class AgreementUpdate(Strict):
    """Fields to change; omitted fields keep their value."""

    title: str | None = Field(None, min_length=1, max_length=500)
    statement: str | None = Field(None, min_length=1, max_length=2000)
    parties: list[str] | None = Field(None, min_length=2)
    signed: TimeIn | None = None
    event: str | None = None
    documents: int | None = Field(None, ge=0, le=1_000_000)
    documents_text: str | None = Field(None, max_length=200)
    sectors: list[str] | None = None
    claimed_by: str | None = None
    claimed_role: str | None = Field(None, max_length=200)
    evidence: EvidenceIn | None = None
    mentions: list[str] | None = None
    reason: str | None = Field(None, max_length=2000)
