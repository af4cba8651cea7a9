"""The change feed: every write in commit order, from a resumable position.

Positions are `seq` numbers of the change table. Because writers hold the
write lock (db.begin_write), a change with a lower seq always commits before
one with a higher seq, so reading `seq > position` in order never skips or
repeats a change, however writes interleave with the reads.
"""

from typing import Any

from sqlalchemy import and_, exists, not_
from sqlmodel import Session, col, select

from app import API_VERSION
from app.changes.schemas import ChangePublic, ChangeQuery
from app.facts.filters import EDITORIAL
from app.facts.models import Fact
from app.quotes.models import Quote
from app.versioning import Action, Change

_COLLECTION = {"fact": "facts", "quote": "quotes", "entity": "entities", "source": "sources"}


def _editorial_change() -> Any:
    """A change whose revision is a draft or a rejection: editorial material."""
    statuses = [s.value for s in EDITORIAL]
    clauses = []
    for resource, model in (("fact", Fact), ("quote", Quote)):
        clauses.append(
            and_(
                col(Change.resource) == resource,
                exists().where(
                    col(model.id) == col(Change.resource_id),
                    col(model.revision) == col(Change.revision),
                    col(model.status).in_(statuses),
                ),
            )
        )
    return clauses


def list_changes(
    session: Session, *, query: ChangeQuery, position: int, limit: int, editorial: bool = True
) -> tuple[list[ChangePublic], int, bool]:
    """Changes after `position`, in commit order. Without editorial access, changes that
    made a draft or rejected revision are left out: revisions never change, so they stay
    out, and `next` is the position of the last change shown."""
    stmt = select(Change).where(col(Change.seq) > position)
    if query.resource:
        stmt = stmt.where(col(Change.resource).in_(query.resource))
    if not editorial:
        stmt = stmt.where(*[not_(clause) for clause in _editorial_change()])
    rows = session.exec(stmt.order_by(col(Change.seq)).limit(limit + 1)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].seq if rows else position
    items = [
        ChangePublic(
            resource=row.resource,
            id=row.resource_id,
            revision=row.revision,
            action=Action(row.action),
            actor=row.actor,
            at=row.at,
            href=f"/{API_VERSION}/{_COLLECTION[row.resource]}/{row.resource_id}",
        )
        for row in rows
    ]
    return items, int(last or 0), has_more
