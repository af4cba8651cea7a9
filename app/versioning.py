"""Immutable revisions, as-of reads and the change feed, shared by every versioned table.

A versioned table keeps one row per revision: `(id, revision)` is the key, and
the row's content never changes once written. `valid_from`/`valid_to` bound
the time a revision was the current one (`valid_to` is null for the current
revision and is set exactly once, when a newer revision supersedes it). So:

- the current state is `valid_to IS NULL`;
- the state at time T is `valid_from <= T AND (valid_to IS NULL OR valid_to > T)`;
- the history of a record is all its rows, by revision.

The same filters therefore serve current and as-of lists. Every write also
appends one row to `change`, whose `seq` is the change feed's order. Writers
are serialized (see db.write_lock), so seq order is commit order and a reader
following the feed never skips a change that commits late.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import ColumnElement, Index, and_, or_, text, update
from sqlmodel import Field, Session, SQLModel, col, select

from app.db import UTCDateTime, utcnow
from app.errors import ProblemError, not_found


class Action(StrEnum):
    create = "create"
    update = "update"
    retract = "retract"
    publish = "publish"
    reject = "reject"


class Versioned(SQLModel):
    """Columns every versioned table has besides its content."""

    revision: int = Field(primary_key=True, description="1 for the first version, then +1.")
    valid_from: datetime = Field(sa_type=UTCDateTime, index=True)
    valid_to: datetime | None = Field(default=None, sa_type=UTCDateTime)
    action: str = Field(max_length=20)
    actor: str = Field(max_length=120)
    reason: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(sa_type=UTCDateTime)


def current_revision_unique(table: str) -> Index:
    """At most one current revision per id, enforced by the database itself."""
    where = text("valid_to IS NULL")
    return Index(
        f"ux_{table}_current", "id", unique=True, sqlite_where=where, postgresql_where=where
    )


def current_index(table: str, name: str, *columns: str) -> Index:
    """An index over current revisions only (`valid_to IS NULL`): small, and it matches
    every list query that does not ask for `as_of`."""
    where = text("valid_to IS NULL")
    return Index(f"ix_{table}_current_{name}", *columns, sqlite_where=where, postgresql_where=where)


def visible_at(model: Any, as_of: datetime | None) -> ColumnElement[bool]:
    """Rows that were (as_of given) or are (as_of None) the current revision. `model` is a
    versioned model or its table's columns (`Model.__table__.c`)."""
    valid_from, valid_to = col(model.valid_from), col(model.valid_to)
    if as_of is None:
        return valid_to.is_(None)
    return and_(valid_from <= as_of, or_(valid_to.is_(None), valid_to > as_of))


def supersede(session: Session, model: Any, *, ident: str, revision: int, at: datetime) -> bool:
    """Close the current revision; False if it was no longer current (a lost race)."""
    result = session.execute(
        update(model)
        .where(
            col(model.id) == ident,
            col(model.revision) == revision,
            col(model.valid_to).is_(None),
        )
        .values(valid_to=at)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


class Change(SQLModel, table=True):
    """One write, in commit order: what the change feed serves."""

    seq: int | None = Field(default=None, primary_key=True)
    resource: str = Field(max_length=20, description="fact, quote, entity or source.")
    resource_id: str = Field(max_length=80, index=True)
    revision: int
    action: str = Field(max_length=20)
    actor: str = Field(max_length=120)
    at: datetime = Field(sa_type=UTCDateTime)


def record_change(
    session: Session,
    *,
    resource: str,
    resource_id: str,
    revision: int,
    action: Action,
    actor: str,
    at: datetime,
) -> None:
    session.add(
        Change(
            resource=resource,
            resource_id=resource_id,
            revision=revision,
            action=action.value,
            actor=actor,
            at=at,
        )
    )


M = TypeVar("M", bound=Versioned)
T = TypeVar("T")


def first_revision(
    session: Session,
    record: M,
    *,
    resource: str,
    actor: str,
    action: Action = Action.create,
    reason: str | None = None,
) -> M:
    """Add revision 1 of a new record and its change-feed entry."""
    now = utcnow()
    record.revision = 1
    record.valid_from = now
    record.valid_to = None
    record.created_at = now
    record.action = action.value
    record.actor = actor
    record.reason = reason
    session.add(record)
    record_change(
        session,
        resource=resource,
        resource_id=str(getattr(record, "id", "")),
        revision=1,
        action=action,
        actor=actor,
        at=now,
    )
    return record


def next_revision(
    session: Session,
    current: M,
    *,
    resource: str,
    changes: dict[str, Any],
    action: Action,
    actor: str,
    reason: str | None,
) -> M:
    """Supersede `current` and add the revision after it, with `changes` applied."""
    now = utcnow()
    ident = str(getattr(current, "id", ""))
    if not supersede(session, type(current), ident=ident, revision=current.revision, at=now):
        raise ProblemError(
            412,
            f"{resource} '{ident}' changed while this request ran; fetch it again and retry.",
            code="precondition_failed",
        )
    data = current.model_dump()
    data.update(changes)
    data.update(
        revision=current.revision + 1,
        valid_from=now,
        valid_to=None,
        action=action.value,
        actor=actor,
        reason=reason,
    )
    record = type(current).model_validate(data)
    session.add(record)
    record_change(
        session,
        resource=resource,
        resource_id=ident,
        revision=record.revision,
        action=action,
        actor=actor,
        at=now,
    )
    return record


class Revision(BaseModel, Generic[T]):
    """One immutable revision of a record: who, when, why, and the full snapshot."""

    number: int
    action: Action
    actor: str = PydanticField(
        description="The name of the API key that wrote it (`seed` for seed data)."
    )
    reason: str | None
    valid_from: datetime = PydanticField(description="When this revision became current.")
    valid_to: datetime | None = PydanticField(
        description="When a newer one replaced it; null if current."
    )
    snapshot: T


STATUS_AFTER = {
    # Only a published record is retracted: a draft is rejected instead, so it stays
    # editorial material and never becomes readable by everyone as "retracted".
    Action.retract: ("retracted", {"published"}),
    Action.publish: ("published", {"draft"}),
    Action.reject: ("rejected", {"draft"}),
}
"""For each status action: the status it sets and the statuses it may start from."""


def change_status(
    session: Session, current: M, *, resource: str, action: Action, actor: str, reason: str | None
) -> M:
    """Retract, publish or reject: a new revision that changes only the status."""
    new_status, allowed_from = STATUS_AFTER[action]
    status = str(getattr(current, "status", ""))
    if status not in allowed_from:
        raise ProblemError(
            409,
            f"{resource} '{getattr(current, 'id', '')}' is {status}; it cannot be "
            f"{new_status} (only a {' or '.join(sorted(allowed_from))} one can)."
            + (
                " Reject a draft instead." if action is Action.retract and status == "draft" else ""
            ),
            code="invalid_state",
        )
    record = next_revision(
        session,
        current,
        resource=resource,
        changes={"status": new_status},
        action=action,
        actor=actor,
        reason=reason,
    )
    session.flush()
    return record


def history(session: Session, model: type[M], *, ident: str, resource: str) -> list[M]:
    """Every revision of one record, oldest first."""
    rows = session.exec(
        select(model).where(col(model.id) == ident).order_by(col(model.revision))  # type: ignore[attr-defined]
    ).all()
    if not rows:
        raise not_found(resource, ident)
    return list(rows)


def bump_revision(session: Session, record: Any, *, resource: str, actor: str) -> None:
    """For records edited in place (entities, sources): the next revision number, the
    time, and the change-feed entry."""
    now = utcnow()
    record.revision += 1
    record.updated_at = now
    session.add(record)
    record_change(
        session,
        resource=resource,
        resource_id=record.id,
        revision=record.revision,
        action=Action.update,
        actor=actor,
        at=now,
    )
    session.flush()


def revisions_of(rows: list[M], snapshots: list[T]) -> list[Revision[T]]:
    """Pair each stored revision with its rendered snapshot."""
    return [
        Revision[T](
            number=row.revision,
            action=Action(row.action),
            actor=row.actor,
            reason=row.reason,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            snapshot=snapshot,
        )
        for row, snapshot in zip(rows, snapshots, strict=True)
    ]


def pick_revision(
    revisions: list[Revision[T]], number: int, resource: str, ident: str
) -> Revision[T]:
    for revision in revisions:
        if revision.number == number:
            return revision
    raise ProblemError(404, f"{resource} '{ident}' has no revision {number}.", code="not_found")
