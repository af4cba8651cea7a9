"""The /v1 router: each domain's router, plus an index of the resources."""

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from app import API_VERSION
from app.agreements.router import router as agreements_router
from app.api.export import router as export_router
from app.auth.models import Scope
from app.auth.service import require_scope
from app.changes.router import router as changes_router
from app.entities.router import router as entities_router
from app.facts.router import router as facts_router
from app.ingestion.router import router as ingestion_router
from app.quotes.router import router as quotes_router
from app.relations.router import router as relations_router
from app.sources.router import router as sources_router

# Reads are public unless ECONFACTS_REQUIRE_KEY_FOR_READS is set; writes add their own check.
# The /v1 prefix is given where the app includes this router (an empty-prefix include makes
# FastAPI build every nested route twice at start-up).
router = APIRouter(dependencies=[Depends(require_scope(Scope.read))])


class ResourceLink(BaseModel):
    name: str
    href: str
    description: str


class ApiIndex(BaseModel):
    version: str = Field(examples=[API_VERSION])
    docs: str = Field(examples=["/docs"])
    resources: list[ResourceLink]


_RESOURCES = [
    ("facts", "Sourced claims: investment, trade, rankings, agreements, diplomatic events."),
    ("quotes", "Exact words with their speaker and evidence."),
    ("agreements", "Signed agreements: when, between whom, where, how many documents."),
    ("entities", "Countries, people, organizations, initiatives and events."),
    ("sources", "The articles everything is traced to, with their full text."),
    ("changes", "The change feed: every write in commit order, to sync from."),
    ("relations", "The country pairs known, with fact counts and links to dossiers and series."),
    ("relations/AZE/CHN", "The dossier of a country pair: latest figures, conflicts, timeline."),
    ("entities?outlet=true", "The outlets sources come from (POST /v1/sources takes one)."),
    ("series?indicator=trade_turnover&pair=AZE-CHN", "One indicator over time, ready to chart."),
]


@router.get(
    "",
    response_model=ApiIndex,
    tags=["meta"],
    summary="List the API's resources",
    description="Where to start: each resource collection of this API version.",
)
def api_index(request: Request) -> ApiIndex:
    base = f"/{API_VERSION}"
    return ApiIndex(
        version=API_VERSION,
        docs=str(request.app.docs_url or "/docs"),
        resources=[
            ResourceLink(name=name, href=f"{base}/{name}", description=text)
            for name, text in _RESOURCES
        ],
    )


for domain_router in (
    facts_router,
    quotes_router,
    agreements_router,
    entities_router,
    sources_router,
    ingestion_router,
    changes_router,
    relations_router,
    export_router,
):
    router.include_router(domain_router)
