"""The `q` filter: every word must appear, case-insensitively, in one of the columns.

User text is matched literally: LIKE wildcards and any SQL or full-text syntax
in it are plain characters, never operators.
"""

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_

MAX_WORDS = 10


def escape_like(text: str) -> str:
    """Make user text literal inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def all_words_match(q: str, *columns: Any) -> ColumnElement[bool]:
    words = q.lower().split()[:MAX_WORDS] or [q.lower()]
    return and_(
        *(
            or_(*(func.lower(col).like(f"%{escape_like(w)}%", escape="\\") for col in columns))
            for w in words
        )
    )
