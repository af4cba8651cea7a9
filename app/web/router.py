"""The overview pages for people: server-rendered HTML, all assets inline, links to evidence."""

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from app.auth.models import Scope
from app.auth.service import require_scope
from app.countries import parse_pair
from app.db import SessionDep, TransactionRoute
from app.errors import bad_param
from app.facts.schemas import FactPublic
from app.relations.schemas import INDICATORS, SeriesQuery
from app.relations.service import dossier, pair_summaries, series
from app.sources.service import get_source
from app.web.charts import series_chart
from app.web.format import figure, when
from app.web.pages import templates_in

# Pages show the same data as /v1, so they need a key whenever reads do.
router = APIRouter(
    route_class=TransactionRoute,
    include_in_schema=False,
    dependencies=[Depends(require_scope(Scope.read))],
)
TEMPLATES = str(FilePath(__file__).parent / "templates")
LABELS = {
    "investment": "Investment",
    "trade_turnover": "Trade turnover",
    "trade_growth": "Trade growth",
    "partner_rank": "Partner rank",
    "exports": "Exports",
    "financing": "Financing",
}


def evidence_link(source_id: str, start: int, end: int) -> str:
    return f"/sources/{source_id}?start={start}&end={end}#evidence"


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep) -> HTMLResponse:
    """The country pairs we know, with links to their pages and to the API docs."""
    pairs = [
        {"a": p.pair[0], "b": p.pair[1], "facts": p.facts, "sources": p.sources}
        for p in pair_summaries(session)
    ]
    return templates_in(TEMPLATES).TemplateResponse(request, "index.html", {"pairs": pairs})


def _card(fact: FactPublic) -> dict[str, Any]:
    return {
        "fact": fact,
        "figure": figure(fact.quantity, fact.time),
        "evidence": evidence_link(fact.evidence.source_id, fact.evidence.start, fact.evidence.end),
        "source": fact.evidence.source_id,
    }


@router.get("/pairs/{pair}", response_class=HTMLResponse)
def pair_page(
    request: Request, session: SessionDep, pair: Annotated[str, Path(examples=["AZE-CHN"])]
) -> HTMLResponse:
    """A pair's figures with their hedges and charts, agreements, quotes and sources."""
    try:
        a, b = parse_pair(pair)
    except ValueError as exc:
        raise bad_param("pair", str(exc)) from None
    relation = dossier(session, a=a, b=b, as_of=None)
    figures = []
    for indicator in relation.indicators:
        direction = (
            f"{indicator.from_.name} → {indicator.to.name}"
            if indicator.from_ and indicator.to
            else ""
        )
        route = (
            f"{indicator.from_.id}-{indicator.to.id}"
            if indicator.from_ and indicator.to
            else f"{relation.pair[0].id}-{relation.pair[1].id}"
        )
        points = series(
            session,
            query=SeriesQuery(
                indicator=indicator.indicator,
                pair=route,
                sector=indicator.sector,
                unit=indicator.latest.quantity.unit if indicator.latest.quantity else None,
            ),
        ).points
        name = LABELS.get(indicator.indicator.value, indicator.indicator.value)
        part = f" ({indicator.sector})" if indicator.sector else ""
        label = f"{name}{part} {direction}".strip()
        figures.append(
            {**_card(indicator.latest), "label": label, "chart": series_chart(points, label)}
        )
    conflicts = [
        {
            "label": LABELS.get(c.indicator.value, c.indicator.value),
            "facts": [_card(f) for f in c.facts],
        }
        for c in relation.conflicts
    ]
    targets = [
        {
            **_card(fact),
            "label": f"{LABELS.get(fact.kind.value, fact.kind.value)} {fact.modality.value}",
            "by": fact.claimed_by.name if fact.claimed_by else None,
        }
        for fact in relation.targets
        if fact.quantity is not None
    ]
    agreements = [
        {
            "title": ag.title,
            "when": when(ag.signed),
            "event": ag.event.name if ag.event else None,
            "evidence": evidence_link(ag.evidence.source_id, ag.evidence.start, ag.evidence.end),
        }
        for ag in relation.agreements
    ]
    quotes = [
        {
            "text": q.text.rstrip(","),
            "speaker": q.speaker.name,
            "role": q.speaker.role,
            "evidence": evidence_link(q.evidence.source_id, q.evidence.start, q.evidence.end),
        }
        for q in relation.quotes
    ]
    return templates_in(TEMPLATES).TemplateResponse(
        request,
        "pair.html",
        {
            "pair": relation.pair,
            "figures": [f for f in figures if f["fact"].kind in INDICATORS],
            "conflicts": conflicts,
            "targets": targets,
            "agreements": agreements,
            "quotes": quotes,
            "sources": relation.sources,
        },
    )


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source_page(
    request: Request,
    session: SessionDep,
    source_id: str,
    start: Annotated[int | None, Query(ge=0)] = None,
    end: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    """The source text, with the evidence span [start:end] highlighted."""
    source = get_source(session, source_id=source_id)
    text = source.text
    if start is not None and end is not None and start < end <= len(text):
        before, highlighted, after = text[:start], text[start:end], text[end:]
    else:
        before, highlighted, after = text, "", ""
    return templates_in(TEMPLATES).TemplateResponse(
        request,
        "source.html",
        {
            "source": source,
            "before": before,
            "highlighted": highlighted,
            "after": after,
            "start": start,
            "end": end,
        },
    )
