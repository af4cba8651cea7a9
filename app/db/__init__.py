"""The database seam: routes and services import what they need from here.

- engine: make_engine (SQLite pragmas, pool), UTC timestamps, begin_write (one writer at a
  time) and query time limits;
- sessions: the request's unit of work (SessionDep, WriteSessionDep, TransactionRoute) and
  the write gate;
- version: the data's version (app.db.version.DataVersion), for caches and ETags; imported
  from there, as it reads the change table.
"""

from app.db.engine import (
    WRITE_OPTION,
    UTCDateTime,
    begin_write,
    limit_query_time,
    make_engine,
    utcnow,
)
from app.db.sessions import (
    SessionDep,
    TransactionRoute,
    UnitOfWork,
    WriteGate,
    WriteSessionDep,
    get_session,
    get_write_session,
    in_one_thread,
)

__all__ = [
    "WRITE_OPTION",
    "SessionDep",
    "TransactionRoute",
    "UTCDateTime",
    "UnitOfWork",
    "WriteGate",
    "WriteSessionDep",
    "begin_write",
    "get_session",
    "get_write_session",
    "in_one_thread",
    "limit_query_time",
    "make_engine",
    "utcnow",
]
