"""POST /v1/sources: store an article and draft what it says (the extraction pipeline).

It shares the /v1/sources path with the sources' reads (app.sources.router); it lives here
because it is the ingestion's entry point.
"""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app import API_VERSION
from app.auth.service import WriterDep
from app.db import TransactionRoute, WriteSessionDep
from app.errors import problem_responses
from app.facts.shape import public_facts
from app.http.responses import created_responses, item_json
from app.idempotency import IdempotencyKey, idempotent
from app.ingestion.schemas import Candidates, IngestPublic
from app.quotes.service import render_quotes
from app.sources import service
from app.sources.schemas import SourceCreate

router = APIRouter(route_class=TransactionRoute, prefix="/sources", tags=["sources"])


@router.post(
    "",
    status_code=201,
    response_model=IngestPublic,
    summary="Ingest an article",
    description="Store an article (write key) and extract from it candidate facts, "
    "agreements and attributed quotes, each with the exact words it rests on and a "
    "confidence. Candidates are saved as drafts (`status=draft`) for an editor to correct "
    "(PATCH), publish (`POST .../publish`) or reject. The same text again (same SHA-256) "
    "answers 200 with the existing source and its drafts, and stores nothing. Bodies over "
    "ECONFACTS_MAX_BODY_BYTES (default 2,000,000) get 413.",
    responses={
        **created_responses(IngestPublic),
        200: {"model": IngestPublic, "description": "This text is already stored."},
        413: problem_responses(413)[413],
    },
)
def ingest_source(
    request: Request,
    body: SourceCreate,
    caller: WriterDep,
    session: WriteSessionDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def produce() -> JSONResponse:
        # The extractor (its patterns, word lists and, on first use, the parser) loads with
        # the first article ingested, not when the API starts.
        from app.ingestion.pipeline import ingest

        result = ingest(session, body=body, actor=caller.name)
        public = IngestPublic(
            source=service.get_source(session, source_id=result.source.id),
            created=result.created,
            candidates=Candidates(
                facts=public_facts(result.facts),
                quotes=render_quotes(session, result.quotes),
            ),
            skipped=result.skipped,
        )
        return item_json(
            public,
            status=201 if result.created else 200,
            location=f"/{API_VERSION}/sources/{result.source.id}",
        )

    return idempotent(request, session, caller.name, idempotency_key, body, produce)
