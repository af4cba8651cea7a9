"""GET /v1/export/facts.ndjson: every fact, one JSON object per line, in constant memory."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from app.auth.service import EditorialDep
from app.facts.filters import readable
from app.facts.models import Status
from app.facts.service import iter_facts
from app.http.query import QueryOf

router = APIRouter(prefix="/export", tags=["export"])
NDJSON = "application/x-ndjson"


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: list[Status] = Field(
        default_factory=lambda: [Status.published],
        description="Repeatable; default published. `draft` and `rejected` need a key of "
        "scope write or admin; without one they are left out.",
    )


@router.get(
    "/facts.ndjson",
    summary="Export all facts as NDJSON",
    description="Every current fact (published by default), one FactPublic JSON object per "
    "line, ordered by id, streamed: memory stays flat whatever the table size, so a bulk "
    "loader can read the whole base in one request. Streamed, so without an ETag: to "
    "sync, follow `/v1/changes` instead.",
    response_class=StreamingResponse,
    responses={
        200: {"content": {NDJSON: {"example": '{"id": "aze-chn-...", "kind": "investment"}\n'}}}
    },
)
def export_facts(
    request: Request, query: Annotated[ExportQuery, QueryOf(ExportQuery)], editorial: EditorialDep
) -> StreamingResponse:
    engine = request.app.state.engine
    statuses = readable(query.status, editorial=editorial)

    def lines() -> Iterator[bytes]:
        if not statuses:
            return
        for fact in iter_facts(engine, statuses=statuses):
            yield fact.model_dump_json().encode() + b"\n"

    return StreamingResponse(lines(), media_type=NDJSON)
