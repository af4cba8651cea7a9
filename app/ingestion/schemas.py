"""What POST /v1/sources answers: the stored source and the drafts extracted from it."""

from pydantic import BaseModel, Field

from app.facts.schemas import FactPublic
from app.quotes.schemas import QuotePublic
from app.sources.schemas import SourcePublic


class Candidates(BaseModel):
    facts: list[FactPublic] = Field(description="Draft facts, each with its evidence span.")
    quotes: list[QuotePublic] = Field(description="Draft quotes with their attributed speaker.")


class IngestPublic(BaseModel):
    source: SourcePublic
    created: bool = Field(
        description="False when this exact text (same SHA-256) was already stored: nothing new "
        "was created and the candidates are the drafts made the first time."
    )
    candidates: Candidates
    skipped: list[str] = Field(
        description="Candidates the extractor found but could not turn into valid drafts, and why."
    )
