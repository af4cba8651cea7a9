"""SQLite backup and restore with SQLite's online backup API.

The backup API copies a consistent snapshot page by page while other
connections keep reading and writing, so a backup can be taken from a live
server. A restore first checks the backup with `PRAGMA integrity_check`.
"""

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from app.config import Settings


class BackupError(RuntimeError):
    pass


def _database_file(settings: Settings) -> Path:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "backup and restore handle SQLite files; for PostgreSQL use "
            "`pg_dump --format=custom` and `pg_restore`"
        )
    return Path(url.database)


def _check(connection: sqlite3.Connection, what: str) -> None:
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} is not a SQLite database ({exc})") from None
    if not result or result[0] != "ok":
        raise BackupError(f"{what} failed its integrity check: {result}")


def backup(settings: Settings, target: Path) -> int:
    source_file = _database_file(settings)
    if not source_file.exists():
        raise BackupError(f"no database at {source_file}")
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_file, timeout=settings.sqlite_busy_timeout_ms / 1000)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy, pages=256)
        _check(copy, "the backup")
        return int(copy.execute("PRAGMA page_count").fetchone()[0])
    finally:
        copy.close()
        source.close()


def restore(settings: Settings, backup_file: Path) -> None:
    if not backup_file.exists():
        raise BackupError(f"no backup at {backup_file}")
    live_file = _database_file(settings)
    live_file.parent.mkdir(parents=True, exist_ok=True)
    saved = sqlite3.connect(backup_file)
    try:
        _check(saved, str(backup_file))
        live = sqlite3.connect(live_file, timeout=settings.sqlite_busy_timeout_ms / 1000)
        try:
            with live:
                saved.backup(live)
            _check(live, "the restored database")
        finally:
            live.close()
    finally:
        saved.close()
