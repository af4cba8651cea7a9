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


def check_words(q: str | None) -> str | None:
    """For query-model validators: refuse more words than a search uses, rather than
    silently dropping some."""
    if q is not None and len(q.split()) > MAX_WORDS:
        raise ValueError(f"at most {MAX_WORDS} words")
    return q


def all_words_match(q: str, *columns: Any, literal_only: Any = None) -> ColumnElement[bool]:
    """Every word must appear in one of `columns`; `literal_only` is a column searched only
    for words without JSON punctuation (so `[` does not match the brackets of a JSON list).
    """
    words = q.lower().split()[:MAX_WORDS] or [q.lower()]
    targets = [
        [*columns, literal_only]
        if literal_only is not None and not set(w) & set('[]{}",:\\')
        else list(columns)
        for w in words
    ]
    return and_(
        *(
            or_(*(func.lower(col).like(f"%{escape_like(w)}%", escape="\\") for col in cols))
            for w, cols in zip(words, targets, strict=True)
        )
    )
