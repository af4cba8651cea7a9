"""The desk's rules: sessions, the queue, what a review page shows, and the editor's actions.

Every action goes through the same service functions as the API (create_fact, update_fact,
create_quote, update_quote, versioning.change_status), so it is an ordinary revision with
the key's name as actor and the editor's reason, and an entry in the change feed.
Takes a session, never commits.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any, Literal

from pydantic import ConfigDict, Field
from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.auth.models import ApiKey, Scope
from app.auth.service import verify_key
from app.db import utcnow
from app.desk.models import DeskSession
from app.entities.models import Entity
from app.entities.service import entity_refs
from app.errors import ProblemError, bad_body, not_found, revalidate
from app.facts.models import Comparator, Direction, Fact, FactKind, Modality, Status, pair_key
from app.facts.schemas import FactCreate, FactPublic, FactUpdate
from app.facts.service import create_fact, fact_revisions, update_fact
from app.facts.shape import as_input, public_facts
from app.quotes.models import Quote
from app.quotes.schemas import QuoteCreate, QuotePublic, QuoteUpdate
from app.quotes.service import copy_mentions, create_quote, render_quotes, update_quote
from app.relations.schemas import DIRECTED, INDICATORS
from app.sources.models import Source
from app.strict import NoNul
from app.versioning import Action, change_status, visible_at

SESSION_HOURS = 8
"""A desk session ends this long after sign-in, whatever happens in between."""

# --- sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Editor:
    """Who is at the desk: the key's name (the actor of every revision) and its session."""

    name: str
    scope: Scope
    key_id: int
    session_id: int
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, *, key: str) -> tuple[str, Editor] | None:
    """Check an API key and open a desk session for it: (cookie token, editor), or None if
    the key is unknown, revoked or malformed; a 403 for a key that may not write."""
    caller = verify_key(session, key)
    if caller is None:
        return None
    if caller.scope.level < Scope.write.level:
        raise ProblemError(
            403,
            f"The key '{caller.name}' has scope {caller.scope.value}; the desk needs a key of "
            "scope write or admin.",
            code="forbidden",
        )
    row = session.exec(select(ApiKey).where(col(ApiKey.name) == caller.name)).one()
    assert row.id is not None
    token = secrets.token_urlsafe(32)
    now = utcnow()
    desk = DeskSession(
        token_hash=_digest(token),
        key_id=row.id,
        csrf_secret=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=SESSION_HOURS),
    )
    session.add(desk)
    session.flush()
    assert desk.id is not None
    return token, Editor(
        name=row.name,
        scope=Scope(row.scope),
        key_id=row.id,
        session_id=desk.id,
        csrf=desk.csrf_secret,
    )


def find_editor(session: Session, token: str | None) -> Editor | None:
    """The editor of a live session: not expired, not signed out, its key not revoked and
    still allowed to write."""
    if not token or len(token) > 200:
        return None
    found = session.exec(
        select(DeskSession, ApiKey)
        .join(ApiKey, col(ApiKey.id) == col(DeskSession.key_id))
        .where(col(DeskSession.token_hash) == _digest(token))
    ).first()
    if found is None:
        return None
    desk, key = found
    if desk.signed_out_at is not None or desk.expires_at <= utcnow():
        return None
    if key.revoked_at is not None or Scope(key.scope).level < Scope.write.level:
        return None
    assert desk.id is not None and key.id is not None
    return Editor(
        name=key.name,
        scope=Scope(key.scope),
        key_id=key.id,
        session_id=desk.id,
        csrf=desk.csrf_secret,
    )


def csrf_ok(editor: Editor, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(editor.csrf.encode(), (sent or "").encode())


def close_session(session: Session, editor: Editor) -> None:
    desk = session.get(DeskSession, editor.session_id)
    if desk is not None and desk.signed_out_at is None:
        desk.signed_out_at = utcnow()
        session.add(desk)
        session.flush()


# --- the queue ------------------------------------------------------------------------


@dataclass
class QueueRow:
    source: Source
    outlet: str
    draft_facts: int
    draft_quotes: int
    pairs: list[str]


def queue(session: Session, *, outlet: str | None, pair: str | None) -> list[QueueRow]:
    """Sources with drafts waiting, newest first (publication date, then when stored)."""
    current_drafts = (visible_at(Fact, None), col(Fact.status) == Status.draft.value)
    fact_counts = dict(
        session.execute(
            sa_select(col(Fact.source_id), func.count())
            .where(*current_drafts)
            .group_by(col(Fact.source_id))
        ).all()
    )
    quote_counts = dict(
        session.execute(
            sa_select(col(Quote.source_id), func.count())
            .where(visible_at(Quote, None), col(Quote.status) == Status.draft.value)
            .group_by(col(Quote.source_id))
        ).all()
    )
    pairs: dict[str, set[str]] = {}
    for source_id, key in session.execute(
        sa_select(col(Fact.source_id), col(Fact.pair_key)).where(*current_drafts).distinct()
    ).all():
        pairs.setdefault(source_id, set()).add(key)
    waiting = set(fact_counts) | set(quote_counts)
    if pair:
        waiting = {s for s in waiting if pair in pairs.get(s, set())}
    if not waiting:
        return []
    stmt = select(Source).where(col(Source.id).in_(sorted(waiting)))
    if outlet:
        stmt = stmt.where(col(Source.outlet_id) == outlet)
    sources = session.exec(
        stmt.order_by(col(Source.published).desc(), col(Source.created_at).desc())
    ).all()
    refs = entity_refs(session, {s.outlet_id for s in sources})
    return [
        QueueRow(
            source=s,
            outlet=refs[s.outlet_id].name if s.outlet_id in refs else s.outlet_id,
            draft_facts=int(fact_counts.get(s.id, 0)),
            draft_quotes=int(quote_counts.get(s.id, 0)),
            pairs=sorted(pairs.get(s.id, set())),
        )
        for s in sources
    ]


def queue_filters(session: Session) -> tuple[list[tuple[str, str]], list[str]]:
    """The outlets and pairs the queue can be filtered by: those of sources with drafts."""
    rows = session.execute(
        sa_select(col(Source.outlet_id), col(Fact.pair_key))
        .join(Fact, col(Fact.source_id) == col(Source.id))
        .where(visible_at(Fact, None), col(Fact.status) == Status.draft.value)
        .distinct()
    ).all()
    refs = entity_refs(session, {r[0] for r in rows})
    outlets = sorted({(r[0], refs[r[0]].name if r[0] in refs else r[0]) for r in rows})
    return outlets, sorted({r[1] for r in rows})


def normalise_pair(value: str) -> str:
    """`chn-aze` or `AZE-CHN` -> `AZE-CHN` (the pair in code order)."""
    parts = [p.strip().upper() for p in value.split("-") if p.strip()]
    if len(parts) != 2:
        raise bad_body("pair", "use two codes joined by '-', e.g. AZE-CHN")
    return pair_key(parts[0], parts[1])


# --- a source under review --------------------------------------------------------------


@dataclass
class Segment:
    """A run of the article text covered by the same evidence spans."""

    start: int
    text: str
    facts: list[str] = field(default_factory=list)
    drafts: bool = False


def segments(text: str, spans: list[tuple[int, int, str, bool]]) -> list[Segment]:
    """Cut the text at every span boundary; each piece knows which spans cover it.
    `spans` are (start, end, id, is_draft); overlapping spans are fine."""
    cuts = {0, len(text)}
    for start, end, _, _ in spans:
        cuts.update((max(0, min(start, len(text))), max(0, min(end, len(text)))))
    points = sorted(cuts)
    out = []
    for a, b in pairwise(points):
        if a == b:
            continue
        covering = [s for s in spans if s[0] <= a and b <= s[1]]
        out.append(
            Segment(
                start=a,
                text=text[a:b],
                facts=[s[2] for s in covering],
                drafts=any(s[3] for s in covering),
            )
        )
    return out


@dataclass
class Review:
    source: Source
    outlet: str
    drafts: list[FactPublic]
    done: list[FactPublic]
    quotes: list[QuotePublic]
    segments: list[Segment]
    conflicts: dict[str, list[FactPublic]]
    people: list[tuple[str, str]]


def review(session: Session, *, source_id: str) -> Review:
    source = session.get(Source, source_id)
    if source is None:
        raise not_found("source", source_id)
    rows = session.exec(
        select(Fact)
        .where(visible_at(Fact, None), col(Fact.source_id) == source_id)
        .order_by(col(Fact.evidence_start), col(Fact.id))
    ).all()
    facts = public_facts(rows)
    quote_rows = session.exec(
        select(Quote)
        .where(
            visible_at(Quote, None),
            col(Quote.source_id) == source_id,
            col(Quote.status) == Status.draft.value,
        )
        .order_by(col(Quote.evidence_start))
    ).all()
    drafts = [f for f in facts if f.status is Status.draft]
    spans = [(f.evidence.start, f.evidence.end, f.id, f.status is Status.draft) for f in facts]
    spans += [(q.evidence_start, q.evidence_end, q.id, True) for q in quote_rows]
    by_id = {r.id: r for r in rows}
    people = session.exec(
        select(Entity.id, Entity.name)
        .where(col(Entity.kind).in_(["person", "organization"]))
        .order_by(col(Entity.name))
        .limit(1000)
    ).all()
    refs = entity_refs(session, [source.outlet_id])
    return Review(
        source=source,
        outlet=refs[source.outlet_id].name if source.outlet_id in refs else source.outlet_id,
        drafts=drafts,
        done=[f for f in facts if f.status is not Status.draft],
        quotes=render_quotes(session, quote_rows),
        segments=segments(source.text, spans),
        conflicts={d.id: conflicts_for(session, by_id[d.id]) for d in drafts},
        people=[(p[0], p[1]) for p in people],
    )


def conflicts_for(session: Session, fact: Fact) -> list[FactPublic]:
    """Published reported figures this fact would clash with once published: the same
    indicator, pair (and direction, for flows), sector and unit, a time that overlaps, and
    another figure. The same rule as the dossier's conflicts (app.relations)."""
    if (
        fact.modality != Modality.reported.value
        or fact.value is None
        or fact.time_start is None
        or fact.time_end is None
        or FactKind(fact.kind) not in INDICATORS
    ):
        return []
    conditions = [
        visible_at(Fact, None),
        col(Fact.status) == Status.published.value,
        col(Fact.modality) == Modality.reported.value,
        col(Fact.kind) == fact.kind,
        col(Fact.pair_key) == fact.pair_key,
        col(Fact.unit) == fact.unit,
        col(Fact.id) != fact.id,
        col(Fact.value).is_not(None),
        col(Fact.time_start) <= fact.time_end,
        col(Fact.time_end) >= fact.time_start,
        or_(col(Fact.value) != fact.value, col(Fact.comparator) != fact.comparator),
    ]
    if fact.sector is None:
        conditions.append(col(Fact.sector).is_(None))
    else:
        conditions.append(col(Fact.sector) == fact.sector)
    if FactKind(fact.kind) in DIRECTED:
        conditions.append(col(Fact.subject_id) == fact.subject_id)
    rows = session.exec(select(Fact).where(*conditions).order_by(col(Fact.id))).all()
    return public_facts(rows)


# --- what the editor sends ----------------------------------------------------------------


class Seen(NoNul):
    """Every action says which revision the editor was looking at: a record changed since
    is a 412 (reload), as with If-Match in the API."""

    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1)


class PublishIn(Seen):
    reason: str | None = Field(None, max_length=2000)
    accept_conflicts: bool = Field(
        False, description="Publish although it conflicts with a published figure."
    )


class RejectIn(Seen):
    reason: str = Field(min_length=1, max_length=2000)


class FactFields(NoNul):
    """A fact as the desk's form holds it: flat strings, figures as an editor types them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: FactKind
    statement: str = Field(min_length=1, max_length=2000)
    subject: str = Field(min_length=1)
    counterpart: str = ""
    direction: Direction = Direction.bilateral
    value: str = ""
    unit: str = ""
    comparator: Comparator = Comparator.exact
    hedge: str = ""
    quantity_text: str = ""
    modality: Modality = Modality.reported
    sector: str = ""
    time_type: Literal["", "date", "period"] = ""
    time_date: str = ""
    time_start: str = ""
    time_end: str = ""
    time_text: str = ""
    claimed_by: str = ""
    claimed_role: str = ""
    evidence_start: int = Field(ge=0)
    evidence_end: int = Field(ge=1)
    mentions: str = ""
    agreement_title: str = ""
    agreement_parties: str = ""
    agreement_event: str = ""
    agreement_documents: str = ""
    agreement_sectors: str = ""


class FactEditIn(Seen):
    reason: str | None = Field(None, max_length=2000)
    fields: FactFields


class FactAddIn(NoNul):
    model_config = ConfigDict(extra="forbid")

    source_id: str
    text: str = Field(min_length=1, description="The selected words, to check the offsets.")
    fields: FactFields
    publish: bool = True
    reason: str | None = Field(None, max_length=2000)


class QuoteFields(NoNul):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    speaker: str = Field(min_length=1)
    speaker_role: str = ""
    said_to: str = ""
    date: str = ""
    evidence_start: int = Field(ge=0)
    evidence_end: int = Field(ge=1)
    mentions: str = ""


class QuoteEditIn(Seen):
    reason: str | None = Field(None, max_length=2000)
    fields: QuoteFields


class QuoteAddIn(NoNul):
    model_config = ConfigDict(extra="forbid")

    source_id: str
    text: str = Field(min_length=1)
    fields: QuoteFields
    publish: bool = True
    reason: str | None = Field(None, max_length=2000)


SCALE_WORDS = {
    "thousand": 10**3, "k": 10**3,
    "million": 10**6, "mln": 10**6, "m": 10**6,
    "billion": 10**9, "bln": 10**9, "bn": 10**9, "b": 10**9,
    "trillion": 10**12, "tn": 10**12,
}  # fmt: skip
_FIGURE = re.compile(r"^\s*([-+]?[\d.,\s]*\d[\d.]*)\s*([A-Za-z]*)\s*$")


def parse_value(text: str) -> Decimal:
    """A figure as an editor types it: `942300000`, `942.3 million`, `3.5bn`, `1,200`."""
    match = _FIGURE.match(text.replace("\u00a0", " "))
    if match is None:
        raise bad_body("fields.value", f"{text!r} is not a figure (e.g. 942.3 million, 3.5bn)")
    number, word = match.group(1).replace(",", "").replace(" ", ""), match.group(2).lower()
    if word and word not in SCALE_WORDS:
        raise bad_body("fields.value", f"unknown scale word {word!r} (million, billion...)")
    try:
        value = Decimal(number) * SCALE_WORDS.get(word, 1)
    except InvalidOperation:
        raise bad_body("fields.value", f"{text!r} is not a figure") from None
    return value


def _ids(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _or_none(text: str) -> str | None:
    return text or None


def _evidence(source: Source, start: int, end: int) -> dict[str, Any]:
    if not start < end <= len(source.text):
        raise bad_body(
            "fields.evidence_start",
            f"offsets [{start}:{end}] fall outside the source text (0..{len(source.text)})",
        )
    return {"source_id": source.id, "start": start, "end": end, "text": source.text[start:end]}


def fact_input(fields: FactFields, source: Source) -> dict[str, Any]:
    """The form in FactCreate's shape (validated there, like any write)."""
    quantity = None
    if fields.value:
        quantity = {
            "value": parse_value(fields.value),
            "unit": fields.unit or "USD",
            "comparator": fields.comparator.value,
            "hedge": _or_none(fields.hedge),
            "text": _or_none(fields.quantity_text),
        }
    time: dict[str, Any] | None = None
    if fields.time_type == "date":
        time = {"type": "date", "date": fields.time_date, "text": _or_none(fields.time_text)}
    elif fields.time_type == "period":
        time = {
            "type": "period",
            "start": fields.time_start,
            "end": fields.time_end,
            "text": _or_none(fields.time_text),
        }
    agreement = None
    if fields.kind is FactKind.agreement:
        documents = fields.agreement_documents
        if documents and not documents.isdecimal():
            raise bad_body("fields.agreement_documents", "a whole number")
        agreement = {
            "title": fields.agreement_title or fields.statement,
            "parties": _ids(fields.agreement_parties)
            or [p for p in (fields.subject, fields.counterpart) if p],
            "event": _or_none(fields.agreement_event),
            "documents": int(documents) if documents else None,
            "sectors": _ids(fields.agreement_sectors),
        }
    return {
        "kind": fields.kind.value,
        "statement": fields.statement,
        "subject": fields.subject,
        "counterpart": _or_none(fields.counterpart),
        "direction": fields.direction.value,
        "quantity": quantity,
        "time": time,
        "modality": fields.modality.value,
        "sector": _or_none(fields.sector),
        "claimed_by": _or_none(fields.claimed_by),
        "claimed_role": _or_none(fields.claimed_role),
        "evidence": _evidence(source, fields.evidence_start, fields.evidence_end),
        "mentions": _ids(fields.mentions),
        "agreement": agreement,
    }


# --- actions: each one revision through the API's own service functions ------------------


def _current_fact(session: Session, fact_id: str, seen: int) -> Fact:
    fact = session.exec(select(Fact).where(col(Fact.id) == fact_id, visible_at(Fact, None))).first()
    if fact is None:
        raise not_found("fact", fact_id)
    _check_seen("fact", fact_id, fact.revision, seen)
    return fact


def _current_quote(session: Session, quote_id: str, seen: int) -> Quote:
    quote = session.exec(
        select(Quote).where(col(Quote.id) == quote_id, visible_at(Quote, None))
    ).first()
    if quote is None:
        raise not_found("quote", quote_id)
    _check_seen("quote", quote_id, quote.revision, seen)
    return quote


def _check_seen(resource: str, ident: str, current: int, seen: int) -> None:
    if current != seen:
        raise ProblemError(
            412,
            f"{resource} '{ident}' is at revision {current}, not {seen}: someone changed it "
            "since this page was loaded. Reload the page and look again.",
            code="precondition_failed",
        )


def publish_fact(session: Session, *, fact_id: str, body: PublishIn, editor: Editor) -> Fact:
    current = _current_fact(session, fact_id, body.revision)
    clashes = conflicts_for(session, current)
    if clashes and not body.accept_conflicts:
        listed = "; ".join(f"'{c.id}'" for c in clashes)
        raise ProblemError(
            409,
            f"Publishing fact '{fact_id}' would put it in conflict with the published "
            f"figure(s) {listed} for the same indicator, pair and period. Send "
            "accept_conflicts=true to publish it anyway.",
            code="conflict_with_published",
        )
    return change_status(
        session,
        current,
        resource="fact",
        action=Action.publish,
        actor=editor.name,
        reason=body.reason or None,
    )


def reject_fact(session: Session, *, fact_id: str, body: RejectIn, editor: Editor) -> Fact:
    current = _current_fact(session, fact_id, body.revision)
    return change_status(
        session,
        current,
        resource="fact",
        action=Action.reject,
        actor=editor.name,
        reason=body.reason,
    )


def edit_fact(session: Session, *, fact_id: str, body: FactEditIn, editor: Editor) -> Fact:
    current = _current_fact(session, fact_id, body.revision)
    source = session.get(Source, current.source_id)
    assert source is not None
    stored = as_input(public_facts([current])[0])
    # The form shows some of a fact's fields: those it does not show keep their value.
    wanted = revalidate(FactCreate, {**stored, **fact_input(body.fields, source)}).model_dump()
    now = revalidate(FactCreate, stored).model_dump()
    changed = {k: v for k, v in wanted.items() if now.get(k) != v}
    if not changed:
        raise bad_body("fields", "nothing changed")
    update = revalidate(FactUpdate, {**changed, "reason": body.reason or None})
    return update_fact(session, current=current, body=update, actor=editor.name)


def _source(session: Session, source_id: str, start: int, end: int, text: str) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise bad_body("source_id", f"no source with id '{source_id}'")
    if source.text[start:end] != text:
        raise bad_body(
            "text",
            f"the selection does not match the article at [{start}:{end}] "
            f"({source.text[start:end][:80]!r}); select the words again",
        )
    return source


def add_fact(session: Session, *, body: FactAddIn, editor: Editor) -> Fact:
    """A fact the extractor missed, from words selected in the article: created by the
    editor (revision 1), then published with the editor's reason unless kept as a draft."""
    fields = body.fields
    source = _source(session, body.source_id, fields.evidence_start, fields.evidence_end, body.text)
    create = revalidate(FactCreate, fact_input(fields, source))
    fact = create_fact(session, body=create, actor=editor.name, status=Status.draft)
    if body.publish:
        fact = change_status(
            session,
            fact,
            resource="fact",
            action=Action.publish,
            actor=editor.name,
            reason=body.reason or None,
        )
    return fact


def quote_input(fields: QuoteFields, source: Source) -> dict[str, Any]:
    return {
        "speaker": fields.speaker,
        "speaker_role": _or_none(fields.speaker_role),
        "said_to": _or_none(fields.said_to),
        "date": _or_none(fields.date),
        "evidence": _evidence(source, fields.evidence_start, fields.evidence_end),
        "mentions": _ids(fields.mentions),
    }


def _quote_status(
    session: Session, current: Quote, action: Action, editor: Editor, reason: str | None
) -> Quote:
    quote = change_status(
        session, current, resource="quote", action=action, actor=editor.name, reason=reason
    )
    copy_mentions(session, old=current, new=quote)
    return quote


def publish_quote(session: Session, *, quote_id: str, body: PublishIn, editor: Editor) -> Quote:
    current = _current_quote(session, quote_id, body.revision)
    return _quote_status(session, current, Action.publish, editor, body.reason or None)


def reject_quote(session: Session, *, quote_id: str, body: RejectIn, editor: Editor) -> Quote:
    current = _current_quote(session, quote_id, body.revision)
    return _quote_status(session, current, Action.reject, editor, body.reason)


def edit_quote(session: Session, *, quote_id: str, body: QuoteEditIn, editor: Editor) -> Quote:
    current = _current_quote(session, quote_id, body.revision)
    source = session.get(Source, current.source_id)
    assert source is not None
    shown = render_quotes(session, [current])[0]
    now = {
        "speaker": shown.speaker.id,
        "speaker_role": shown.speaker.role,
        "said_to": shown.said_to.id if shown.said_to else None,
        "date": shown.date,
        "evidence": {k: v for k, v in shown.evidence.model_dump().items()},
        "mentions": [m.id for m in shown.mentions],
    }
    wanted = quote_input(body.fields, source)
    changed = {k: v for k, v in wanted.items() if now.get(k) != v}
    if not changed:
        raise bad_body("fields", "nothing changed")
    update = revalidate(QuoteUpdate, {**changed, "reason": body.reason or None})
    return update_quote(session, current=current, body=update, actor=editor.name)


def add_quote(session: Session, *, body: QuoteAddIn, editor: Editor) -> Quote:
    fields = body.fields
    source = _source(session, body.source_id, fields.evidence_start, fields.evidence_end, body.text)
    create = revalidate(QuoteCreate, quote_input(fields, source))
    quote = create_quote(session, body=create, actor=editor.name, status=Status.draft)
    if body.publish:
        quote = _quote_status(session, quote, Action.publish, editor, body.reason or None)
    return quote


def history(session: Session, *, fact_id: str) -> tuple[FactPublic, list[Any]]:
    revisions = fact_revisions(session, fact_id=fact_id, editorial=True)
    return revisions[-1].snapshot, list(reversed(revisions))
