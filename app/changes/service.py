"""The change feed: every write in commit order, from a resumable position.

Positions are `seq` numbers of the change table. Because writers hold the
write lock (db.begin_write), a change with a lower seq always commits before
one with a higher seq, so reading `seq > position` in order never skips or
repeats a change, however writes interleave with the reads.
"""

from sqlmodel import Session, col, select

from app import API_VERSION
from app.changes.schemas import ChangePublic, ChangeQuery
from app.versioning import Action, Change

_COLLECTION = {"fact": "facts", "quote": "quotes", "entity": "entities", "source": "sources"}


def list_changes(
    session: Session, *, query: ChangeQuery, position: int, limit: int
) -> tuple[list[ChangePublic], int, bool]:
    stmt = select(Change).where(col(Change.seq) > position)
    if query.resource:
        stmt = stmt.where(col(Change.resource).in_(query.resource))
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
