"""The one mapping between a fact's public shape (FactPublic), its input shape (FactCreate)
and its table columns, and the stored public document of every revision.

Every revision row carries `document`: its FactPublic JSON, made once when the row is
inserted (a mapper event, so no write path can forget it). Reads send those bytes as they
are: a list is one indexed SELECT joined into the response, with no per-row Python model.
Revisions are immutable, so a stored document is what was served while that revision was
current and what an `as_of` read of that time returns. The one thing a document shows that
lives elsewhere is an entity's display (name, kind, code): when an entity changes, the
documents that show it are made again (rerender_mentioning), as before every read showed
the entity's current name.

Fields that have the same name in the table, FactPublic and FactCreate (statement,
modality, sector...) are mapped by name, so a new plain field is a column, a schema field
and a migration: the document, the input of an update and the columns follow.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Connection, String, cast, event, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col

from app.entities.models import Entity
from app.facts.models import UNDATED, DocumentShape, Fact, FactKind, TimeType, pair_key
from app.facts.quantity import implied_interval
from app.facts.schemas import FactCreate, FactPublic
from app.timeframes import Precision, ReducedDate, reduced_isoformat
from app.versioning import Versioned

BOOKKEEPING = frozenset(Versioned.model_fields) | {"id", "status", "confidence", "document"}
"""Columns a revision gets from the write itself, not from the fact's content."""
CONTENT = tuple(
    column.name
    for column in Fact.__table__.columns  # type: ignore[attr-defined]
    if column.name not in BOOKKEEPING
)
"""Every content column: a revision's columns are all of these, so none carries over."""
PLAIN_IN = tuple(n for n in FactCreate.model_fields if n in CONTENT)
"""Input fields stored as they are (kind, statement, direction, modality, sector...)."""
PLAIN_OUT = tuple(n for n in FactPublic.model_fields if n in Fact.model_fields)
"""Public fields read from the column of the same name (id, kind, status, revision...)."""

_FACTS = TypeAdapter(list[FactPublic])


# --- input -> columns ---------------------------------------------------------------------


def columns(body: FactCreate, entity: Callable[[str, str], str]) -> dict[str, Any]:
    """A fact's content columns from its input. `entity(ref, field)` resolves an entity
    reference to its id (or raises the field's 400)."""
    values: dict[str, Any] = dict.fromkeys(CONTENT)
    for name in PLAIN_IN:
        value = getattr(body, name)
        values[name] = value.value if hasattr(value, "value") else value
    values.update(
        subject_id=entity(body.subject, "subject"),
        counterpart_id=entity(body.counterpart, "counterpart") if body.counterpart else None,
        claimed_by_id=entity(body.claimed_by, "claimed_by") if body.claimed_by else None,
        source_id=body.evidence.source_id,
        evidence_start=body.evidence.start,
        evidence_end=body.evidence.end,
        evidence_text=body.evidence.text,
        mentions=sorted({entity(m, "mentions") for m in body.mentions}),
        attributes={},
    )
    if body.quantity is not None:
        q = body.quantity
        low, high = implied_interval(q.comparator, q.value, q.hedge)
        values.update(
            value=q.value,
            unit=q.unit,
            comparator=q.comparator.value,
            hedge=q.hedge,
            value_low=low,
            value_high=high,
            quantity_text=q.text,
        )
    if body.time is not None:
        t = body.time
        first = ReducedDate.parse(str(t.date if t.type is TimeType.date else t.start))
        last = ReducedDate.parse(str(t.date if t.type is TimeType.date else t.end))
        values.update(
            time_type=t.type.value,
            time_start=first.first_day,
            time_start_precision=first.precision.value,
            time_end=last.last_day,
            time_end_precision=last.precision.value,
            time_text=t.text,
        )
    if body.agreement is not None:
        a = body.agreement
        values["attributes"] = {
            "title": a.title,
            "parties": [entity(p, "agreement.parties") for p in a.parties],
            "event": entity(a.event, "agreement.event") if a.event else None,
            "documents": a.documents,
            "sectors": a.sectors,
        }
    values["pair_key"] = pair_key(values["subject_id"], values["counterpart_id"])
    values["sort_date"] = values["time_start"] or UNDATED
    return values


# --- public -> input ----------------------------------------------------------------------


def as_input(fact: FactPublic) -> dict[str, Any]:
    """A fact in FactCreate's shape: what an update merges its changes into, and what the
    desk compares a form with. Every input field is taken from the public field of the same
    name (entities by id, nested objects cut to the input's fields); the claimant's role is
    the one field that lives elsewhere."""
    public = fact.model_dump()
    out = {
        name: _project(public.get(name), FactCreate.model_fields[name].annotation)
        for name in FactCreate.model_fields
        if name in public
    }
    out["claimed_role"] = fact.claimed_by.role if fact.claimed_by else None
    return out


def _project(value: Any, annotation: Any) -> Any:
    """A public value cut to an input annotation: a referenced entity (EntityRef, or the
    claimant) becomes its id where the input takes an id; a nested object keeps the fields
    the input model has."""
    if isinstance(value, list):
        item = getattr(annotation, "__args__", (None,))[0]
        return [_project(v, item) for v in value]
    if not isinstance(value, dict):
        return value
    model = _input_model(annotation)
    if model is None:
        return value.get("id", value)
    return {
        k: _project(v, model.model_fields[k].annotation)
        for k, v in value.items()
        if k in model.model_fields
    }


def _input_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


# --- row -> public document ---------------------------------------------------------------


def referenced(values: Mapping[str, Any]) -> set[str]:
    """The entity ids a fact's document shows."""
    attrs = values.get("attributes") or {}
    wanted = {values.get("subject_id"), values.get("counterpart_id"), values.get("claimed_by_id")}
    wanted.update(values.get("mentions") or [])
    wanted.update(attrs.get("parties", []))
    wanted.add(attrs.get("event"))
    return {w for w in wanted if w}


def document(values: Mapping[str, Any], refs: Mapping[str, dict[str, Any]]) -> str:
    """The public JSON of one revision, from its column values and the entities it shows
    (id -> {id, kind, name, code})."""
    claimant = refs.get(values["claimed_by_id"]) if values.get("claimed_by_id") else None
    public: dict[str, Any] = {name: values.get(name) for name in PLAIN_OUT}
    public.update(
        subject=refs[values["subject_id"]],
        counterpart=refs.get(values["counterpart_id"]) if values.get("counterpart_id") else None,
        quantity=_quantity(values),
        time=_time(values),
        claimed_by={"id": claimant["id"], "name": claimant["name"], "role": values["claimed_role"]}
        if claimant
        else None,
        evidence={
            "source_id": values["source_id"],
            "start": values["evidence_start"],
            "end": values["evidence_end"],
            "text": values["evidence_text"],
        },
        mentions=[refs[m] for m in sorted(values.get("mentions") or []) if m in refs],
        agreement=_agreement(values, refs),
        updated_at=values["valid_from"],
    )
    return FactPublic.model_validate(public).model_dump_json()


def _time(values: Mapping[str, Any]) -> dict[str, Any] | None:
    """A date ("in 2019") or a period ("since 1995")."""
    kind, start, end = values.get("time_type"), values.get("time_start"), values.get("time_end")
    if kind is None or start is None or end is None:
        return None
    start_prec = values.get("time_start_precision") or Precision.day
    end_prec = values.get("time_end_precision") or Precision.day
    bounds = {"text": values.get("time_text"), "first_day": start, "last_day": end}
    if kind == TimeType.date:
        return {
            "type": TimeType.date,
            "date": reduced_isoformat(start, start_prec),
            "precision": start_prec,
            **bounds,
        }
    return {
        "type": TimeType.period,
        "start": reduced_isoformat(start, start_prec),
        "start_precision": start_prec,
        "end": reduced_isoformat(end, end_prec),
        "end_precision": end_prec,
        **bounds,
    }


def _quantity(values: Mapping[str, Any]) -> dict[str, Any] | None:
    if values.get("value") is None or values.get("unit") is None:
        return None
    return {
        "value": plain(values["value"]),
        "unit": values["unit"],
        "comparator": values["comparator"],
        "hedge": values.get("hedge"),
        "low": plain(values.get("value_low")),
        "high": plain(values.get("value_high")),
        "text": values.get("quantity_text"),
    }


def plain(value: Decimal | float | None) -> Any:
    """Decimals without exponent or trailing zeros: 1000000000, not 1E+9 or 1000000000.000000."""
    if value is None:
        return None
    number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    normal = number.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def _agreement(values: Mapping[str, Any], refs: Mapping[str, Any]) -> dict[str, Any] | None:
    if values["kind"] != FactKind.agreement:
        return None
    attrs = values.get("attributes") or {}
    return {
        "title": str(attrs.get("title") or values["statement"]),
        "parties": [refs[p] for p in attrs.get("parties", []) if p in refs],
        "event": refs.get(attrs["event"]) if attrs.get("event") else None,
        "documents": attrs.get("documents"),
        "sectors": list(attrs.get("sectors", [])),
    }


def entity_displays(connection: Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """How documents show entities, in one query."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = connection.execute(
        sa_select(col(Entity.id), col(Entity.kind), col(Entity.name), col(Entity.code)).where(
            col(Entity.id).in_(wanted)
        )
    )
    return {i: {"id": i, "kind": k, "name": n, "code": c} for i, k, n, c in rows}


def _row_values(fact: Fact) -> dict[str, Any]:
    return {name: getattr(fact, name) for name in Fact.model_fields}


@event.listens_for(Fact, "before_insert")
def _store_document(_mapper: Any, connection: Connection, fact: Fact) -> None:
    """Every revision is inserted with its document (see the module docstring)."""
    values = _row_values(fact)
    fact.document = document(values, entity_displays(connection, referenced(values)))


def with_documents(
    connection: Connection, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Rows for a bulk INSERT that bypasses the ORM (and so its event), each with its
    document: what the benchmark generator and bulk test data use."""
    wanted: set[str] = set()
    for row in rows:
        wanted |= referenced(row)
    refs = entity_displays(connection, wanted)
    defaults = {
        name: field.get_default(call_default_factory=True)
        for name, field in Fact.model_fields.items()
        if not field.is_required()
    }
    complete = [{**defaults, **row} for row in rows]  # what the INSERT will store
    return [{**row, "document": document(row, refs)} for row in complete]


def public_facts(rows: Sequence[Any]) -> list[FactPublic]:
    """Stored documents as FactPublic models (one pydantic call, in its Rust core), for the
    views that reshape or read facts (agreements, dossiers, pages, CSV)."""
    if not rows:
        return []
    return _FACTS.validate_json("[" + ",".join(r.document for r in rows) + "]")


def rerender_mentioning(connection: Connection, entity_id: str) -> int:
    """Make again the documents that show an entity (after its name, kind or code changed):
    every revision, as every revision showed the entity's current display before documents
    were stored. Returns how many."""
    attrs_text = Fact.__table__.c.attributes  # type: ignore[attr-defined]
    mentions_text = Fact.__table__.c.mentions  # type: ignore[attr-defined]
    needle = json.dumps(entity_id)
    rows = connection.execute(
        sa_select(*Fact.__table__.columns).where(  # type: ignore[attr-defined]
            or_(
                col(Fact.subject_id) == entity_id,
                col(Fact.counterpart_id) == entity_id,
                col(Fact.claimed_by_id) == entity_id,
                _as_text(mentions_text).contains(needle, autoescape=True),
                _as_text(attrs_text).contains(needle, autoescape=True),
            )
        )
    ).all()
    return _rerender(connection, rows)


def _as_text(column: Any) -> Any:
    return cast(column, String)


def _rerender(connection: Connection, rows: Sequence[Any]) -> int:
    wanted: set[str] = set()
    for row in rows:
        wanted |= referenced(row._mapping)
    refs = entity_displays(connection, wanted)
    table = Fact.__table__  # type: ignore[attr-defined]
    for row in rows:
        connection.execute(
            update(table)
            .where(table.c.id == row.id, table.c.revision == row.revision)
            .values(document=document(row._mapping, refs))
        )
    return len(rows)


SHAPE = hashlib.sha256(
    json.dumps(FactPublic.model_json_schema(), sort_keys=True).encode() + b"render 1"
).hexdigest()[:16]
"""Which shape stored documents have: the public schema, and a number to raise when the
rendering changes without the schema changing."""


def refresh_documents(connection: Connection, *, batch: int = 2000) -> int:
    """Make every stored document again if they were made for another SHAPE (run by
    `econfacts db upgrade` after the migrations). Returns how many were made."""
    if documents_current(connection):
        return 0
    table = Fact.__table__  # type: ignore[attr-defined]
    done = 0
    last: tuple[str, int] = ("", 0)
    while True:
        rows = connection.execute(
            sa_select(*table.columns)
            .where(
                or_(
                    table.c.id > last[0],
                    (table.c.id == last[0]) & (table.c.revision > last[1]),
                )
            )
            .order_by(table.c.id, table.c.revision)
            .limit(batch)
        ).all()
        if not rows:
            break
        done += _rerender(connection, rows)
        last = (rows[-1].id, rows[-1].revision)
    shapes = DocumentShape.__table__  # type: ignore[attr-defined]
    connection.execute(shapes.delete().where(shapes.c.resource == "fact"))
    connection.execute(shapes.insert().values(resource="fact", digest=SHAPE))
    return done


def documents_current(connection: Connection) -> bool:
    """Whether stored documents have this code's SHAPE (readiness)."""
    stored = connection.execute(
        sa_select(col(DocumentShape.digest)).where(col(DocumentShape.resource) == "fact")
    ).scalar()
    return stored == SHAPE
