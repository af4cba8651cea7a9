"""/desk: the editor's desk, server-rendered, with a little plain JavaScript.

HTML pages (GET) answer with HTML, errors included; a page without a live session sends the
browser to the sign-in page. Actions are JSON endpoints under /desk/api (the page's script
calls them with `fetch`), each needing the session cookie and its CSRF token in
`X-CSRF-Token`; their errors are problem+json. No page, URL or log ever holds the API key:
it travels once, in the body of the sign-in request, and becomes a session.
"""

import secrets
import threading
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from app import API_VERSION
from app.db import SessionDep, TransactionRoute, WriteSessionDep
from app.desk import service
from app.desk.service import Editor
from app.errors import ProblemError, html_error
from app.facts.models import Comparator, Direction, FactKind, Modality
from app.facts.schemas import FactPublic
from app.facts.shape import as_input
from app.limits import RateLimiter
from app.web.format import SIGNS, amount, figure, when
from app.web.pages import templates_in

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

router = APIRouter(prefix="/desk", route_class=TransactionRoute, include_in_schema=False)
HERE = FilePath(__file__).parent
STATIC = {"desk.js": "text/javascript", "desk.css": "text/css"}

COOKIE = "econfacts_desk"
LOGIN_COOKIE = "econfacts_desk_login"
CSRF_HEADER = "X-CSRF-Token"
SIGN_IN_PER_MINUTE = 10
"""Sign-in attempts (failed or not) a client address may make a minute."""
NO_STORE = {"Cache-Control": "no-store"}

_limiter_lock = threading.Lock()


def _sign_in_limiter(request: Request) -> RateLimiter:
    """One limiter per app, for sign-in attempts only (shared through Redis when the
    server is configured with one, like the API's limits)."""
    state = request.app.state
    limiter = getattr(state, "desk_sign_in_limiter", None)
    if limiter is None:
        with _limiter_lock:
            limiter = getattr(state, "desk_sign_in_limiter", None)
            if limiter is None:
                settings = state.settings
                limiter = RateLimiter(
                    per_address=SIGN_IN_PER_MINUTE,
                    per_key=0,
                    redis_url=getattr(settings, "redis_url", None),
                    redis_prefix=f"{getattr(settings, 'redis_prefix', 'econfacts:')}desk-sign-in:",
                )
                state.desk_sign_in_limiter = limiter
    assert isinstance(limiter, RateLimiter)
    return limiter


def _secure(request: Request) -> bool:
    """HTTPS, here or at a proxy that says so."""
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if forwarded == "https":
        return True
    return "proto=https" in request.headers.get("forwarded", "").lower().replace(" ", "")


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/desk",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def _same_origin(request: Request) -> bool:
    """A browser's Origin (when it sends one) names this host."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _templates() -> "Jinja2Templates":
    return templates_in(str(HERE / "templates"))


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return _templates().TemplateResponse(
        request, name, {**context, "api": API_VERSION}, status_code=status, headers=NO_STORE
    )


def _error_page(request: Request, exc: ProblemError) -> HTMLResponse:
    return html_error(request, exc.status, exc.detail, {**(exc.headers or {}), **NO_STORE})


def _to_sign_in(request: Request) -> RedirectResponse:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(
        f"/desk/sign-in?next={quote(target, safe='')}", status_code=303, headers=NO_STORE
    )


def _page_editor(request: Request, session: Session) -> Editor | None:
    return service.find_editor(session, request.cookies.get(COOKIE))


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, detail, code="unauthorized")


def _find_editor(engine: Any, token: str | None) -> Editor | None:
    with Session(engine) as session:
        return service.find_editor(session, token)


async def desk_editor(request: Request) -> Editor:
    """The editor of a state-changing request: a live session, its CSRF token, same origin.
    A dependency, so it refuses a forged request before its body is even validated."""
    token = request.cookies.get(COOKIE)
    editor = await run_in_threadpool(_find_editor, request.app.state.engine, token)
    if editor is None:
        raise _unauthorized(
            "No desk session: it expired or was signed out. Sign in again at /desk/sign-in."
        )
    if not _same_origin(request) or not service.csrf_ok(editor, request.headers.get(CSRF_HEADER)):
        raise ProblemError(
            403,
            f"Missing or wrong CSRF token: send the page's token in {CSRF_HEADER}.",
            code="csrf_failed",
        )
    request.app.state.rate_limiter.charge_key(editor.name)
    return editor


EditorDep = Annotated[Editor, Depends(desk_editor)]


# --- static assets and sign-in ------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(
        HERE / "static" / name,
        media_type=STATIC[name],
        headers={"Cache-Control": "public, max-age=300"},
    )


def _next_target(next_: str | None) -> str:
    """Only a path on the desk: never another site."""
    if next_ and next_.startswith("/desk") and not next_.startswith("//"):
        return next_
    return "/desk"


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str | None = None) -> HTMLResponse:
    nonce = secrets.token_urlsafe(32)
    response = _page(
        request,
        "sign_in.html",
        {"csrf": nonce, "next": _next_target(next), "hours": service.SESSION_HOURS},
    )
    _set_cookie(request, response, LOGIN_COOKIE, nonce, max_age=3600)
    return response


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200, repr=False)
    csrf: str = Field(min_length=1, max_length=200)


class Signed(BaseModel):
    name: str
    scope: str
    next: str


@router.post("/api/sign-in", response_model=Signed)
def sign_in(
    request: Request, session: WriteSessionDep, body: SignIn, next: str | None = None
) -> JSONResponse:
    """Exchange an API key (scope write or admin) for a desk session cookie."""
    address = request.client.host if request.client else "-"
    _sign_in_limiter(request).charge_address(address)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not _same_origin(request) or not nonce or not secrets.compare_digest(nonce, body.csrf):
        raise ProblemError(
            403,
            "The sign-in form has expired or was not sent by this site: reload it.",
            code="csrf_failed",
        )
    opened = service.open_session(session, key=body.key)
    if opened is None:
        raise _unauthorized("The API key is not valid (unknown, malformed or revoked).")
    token, editor = opened
    response = JSONResponse(
        Signed(name=editor.name, scope=editor.scope.value, next=_next_target(next)).model_dump(),
        headers=NO_STORE,
    )
    _set_cookie(request, response, COOKIE, token, max_age=service.SESSION_HOURS * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/desk")
    return response


@router.post("/api/sign-out", status_code=204)
def sign_out(editor: EditorDep, session: WriteSessionDep) -> Response:
    service.close_session(session, editor)
    response = Response(status_code=204, headers=NO_STORE)
    response.delete_cookie(COOKIE, path="/desk", httponly=True, samesite="strict")
    return response


# --- pages ----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    outlet: Annotated[str | None, Query(max_length=80)] = None,
    pair: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    editor = _page_editor(request, session)
    if editor is None:
        return _to_sign_in(request)
    try:
        wanted_pair = service.normalise_pair(pair) if pair else None
    except ProblemError:
        return _error_page(
            request, ProblemError(400, "pair: use two codes joined by '-', e.g. AZE-CHN")
        )
    rows = service.queue(session, outlet=outlet or None, pair=wanted_pair)
    outlets, pairs = service.queue_filters(session)
    return _page(
        request,
        "queue.html",
        {
            "editor": editor,
            "rows": rows,
            "outlets": outlets,
            "pairs": pairs,
            "outlet": outlet or "",
            "pair": wanted_pair or "",
        },
    )


def _figure(fact: FactPublic) -> str:
    return figure(fact.quantity, fact.time) if fact.quantity else when(fact.time)


def _pair(fact: FactPublic) -> str:
    if fact.counterpart is None:
        return fact.subject.name
    arrow = "→" if fact.direction is Direction.subject_to_counterpart else "–"
    return f"{fact.subject.name} {arrow} {fact.counterpart.name}"


def _form_values(fact: FactPublic) -> dict[str, Any]:
    """A fact in the form's fields (service.FactFields)."""
    q, t, a = fact.quantity, fact.time, fact.agreement
    value = ""
    if q is not None:
        value = format(q.value.normalize(), "f")
    return {
        "kind": fact.kind.value,
        "statement": fact.statement,
        "subject": fact.subject.id,
        "counterpart": fact.counterpart.id if fact.counterpart else "",
        "direction": fact.direction.value,
        "value": value,
        "unit": q.unit if q else "",
        "comparator": q.comparator.value if q else "exact",
        "hedge": (q.hedge or "") if q else "",
        "quantity_text": (q.text or "") if q else "",
        "modality": fact.modality.value,
        "sector": fact.sector or "",
        "time_type": t.type.value if t else "",
        "time_date": (t.date or "") if t else "",
        "time_start": (t.start or "") if t else "",
        "time_end": (t.end or "") if t else "",
        "time_text": (t.text or "") if t else "",
        "claimed_by": fact.claimed_by.id if fact.claimed_by else "",
        "claimed_role": (fact.claimed_by.role or "") if fact.claimed_by else "",
        "evidence_start": fact.evidence.start,
        "evidence_end": fact.evidence.end,
        "mentions": ", ".join(m.id for m in fact.mentions),
        "agreement_title": a.title if a else "",
        "agreement_parties": ", ".join(p.id for p in a.parties) if a else "",
        "agreement_event": a.event.id if a and a.event else "",
        "agreement_documents": str(a.documents) if a and a.documents is not None else "",
        "agreement_sectors": ", ".join(a.sectors) if a else "",
    }


CHOICES = {
    "kinds": [k.value for k in FactKind],
    "directions": [d.value for d in Direction],
    "modalities": [m.value for m in Modality],
    "comparators": [
        (c.value, (SIGNS[c.value] or "= ") + c.value.replace("_", " ")) for c in Comparator
    ],
}


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def review_page(request: Request, session: SessionDep, source_id: str) -> Response:
    editor = _page_editor(request, session)
    if editor is None:
        return _to_sign_in(request)
    try:
        data = service.review(session, source_id=source_id)
    except ProblemError as exc:
        return _error_page(request, exc)
    cards = [
        {
            "fact": f,
            "figure": _figure(f),
            "pair": _pair(f),
            "form": _form_values(f),
            "conflicts": [
                {"fact": c, "figure": _figure(c), "pair": _pair(c)}
                for c in data.conflicts.get(f.id, [])
            ],
        }
        for f in data.drafts
    ]
    done = [{"fact": f, "figure": _figure(f), "pair": _pair(f)} for f in data.done]
    return _page(
        request,
        "review.html",
        {
            "editor": editor,
            "data": data,
            "cards": cards,
            "done": done,
            "choices": CHOICES,
            "blank": {
                "kind": "investment",
                "direction": "bilateral",
                "modality": "reported",
                "comparator": "exact",
                "unit": "USD",
                "time_type": "",
            },
        },
    )


HISTORY_FIELDS = (
    "kind", "statement", "subject", "counterpart", "direction", "quantity", "time",
    "modality", "sector", "claimed_by", "claimed_role", "evidence", "mentions", "agreement",
)  # fmt: skip


def _brief(name: str, value: Any) -> str:
    if value is None:
        return "—"
    if name == "quantity":
        sign = SIGNS.get(str(value["comparator"]), "")
        shown = amount(value["value"], value["unit"])
        return f"{sign}{shown}" + (f" ({value['text']})" if value.get("text") else "")
    if name == "time":
        if value["type"] == "date":
            return f"{value['date']}" + (f" ({value['text']})" if value.get("text") else "")
        return f"{value['start']} – {value['end']}" + (
            f" ({value['text']})" if value.get("text") else ""
        )
    if name == "evidence":
        return f"[{value['start']}:{value['end']}] {value['text']}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


@router.get("/facts/{fact_id}/history", response_class=HTMLResponse)
def history_page(request: Request, session: SessionDep, fact_id: str) -> Response:
    editor = _page_editor(request, session)
    if editor is None:
        return _to_sign_in(request)
    try:
        current, revisions = service.history(session, fact_id=fact_id)
    except ProblemError as exc:
        return _error_page(request, exc)
    rows = []
    oldest_first = list(reversed(revisions))
    for index, revision in enumerate(oldest_first):
        now = as_input(revision.snapshot)
        changes = []
        if index > 0:
            before = as_input(oldest_first[index - 1].snapshot)
            changes = [
                (name, _brief(name, before[name]), _brief(name, now[name]))
                for name in HISTORY_FIELDS
                if before[name] != now[name]
            ]
            if oldest_first[index - 1].snapshot.status != revision.snapshot.status:
                changes.insert(
                    0,
                    (
                        "status",
                        oldest_first[index - 1].snapshot.status.value,
                        revision.snapshot.status.value,
                    ),
                )
        rows.append(
            {"revision": revision, "changes": changes, "figure": _figure(revision.snapshot)}
        )
    return _page(
        request,
        "history.html",
        {
            "editor": editor,
            "fact": current,
            "rows": list(reversed(rows)),
            "figure": _figure(current),
        },
    )


# --- actions (JSON) ------------------------------------------------------------------------


class Written(BaseModel):
    id: str
    revision: int
    status: str


def _written(record: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(
        Written(id=record.id, revision=record.revision, status=record.status).model_dump(),
        status_code=status,
        headers=NO_STORE,
    )


@router.post("/api/facts/{fact_id}/publish", response_model=Written)
def publish_fact(
    editor: EditorDep, session: WriteSessionDep, fact_id: str, body: service.PublishIn
) -> JSONResponse:
    return _written(service.publish_fact(session, fact_id=fact_id, body=body, editor=editor))


@router.post("/api/facts/{fact_id}/reject", response_model=Written)
def reject_fact(
    editor: EditorDep, session: WriteSessionDep, fact_id: str, body: service.RejectIn
) -> JSONResponse:
    return _written(service.reject_fact(session, fact_id=fact_id, body=body, editor=editor))


@router.patch("/api/facts/{fact_id}", response_model=Written)
def edit_fact(
    editor: EditorDep, session: WriteSessionDep, fact_id: str, body: service.FactEditIn
) -> JSONResponse:
    return _written(service.edit_fact(session, fact_id=fact_id, body=body, editor=editor))


@router.post("/api/facts", response_model=Written, status_code=201)
def add_fact(editor: EditorDep, session: WriteSessionDep, body: service.FactAddIn) -> JSONResponse:
    return _written(service.add_fact(session, body=body, editor=editor), status=201)


@router.post("/api/quotes/{quote_id}/publish", response_model=Written)
def publish_quote(
    editor: EditorDep, session: WriteSessionDep, quote_id: str, body: service.PublishIn
) -> JSONResponse:
    return _written(service.publish_quote(session, quote_id=quote_id, body=body, editor=editor))


@router.post("/api/quotes/{quote_id}/reject", response_model=Written)
def reject_quote(
    editor: EditorDep, session: WriteSessionDep, quote_id: str, body: service.RejectIn
) -> JSONResponse:
    return _written(service.reject_quote(session, quote_id=quote_id, body=body, editor=editor))


@router.patch("/api/quotes/{quote_id}", response_model=Written)
def edit_quote(
    editor: EditorDep, session: WriteSessionDep, quote_id: str, body: service.QuoteEditIn
) -> JSONResponse:
    return _written(service.edit_quote(session, quote_id=quote_id, body=body, editor=editor))


@router.post("/api/quotes", response_model=Written, status_code=201)
def add_quote(
    editor: EditorDep, session: WriteSessionDep, body: service.QuoteAddIn
) -> JSONResponse:
    return _written(service.add_quote(session, body=body, editor=editor), status=201)
