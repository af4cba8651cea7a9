"""A short run of bench/load.py (`make load` runs it longer): writers and readers against a
real server; no 5xx, no "database is locked", no lost update, no incomplete read.

The figures are printed, never judged: only correctness is asserted.
"""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Database

ROOT = Path(__file__).resolve().parent.parent
LOAD = ROOT / "bench" / "load.py"


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database: SQLite in tmp_path, or a new PostgreSQL database."""
    db = Database(backend, tmp_path)
    yield db.url
    db.drop()


def run_load(*args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, str(LOAD), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.stdout.strip(), f"no summary; stderr:\n{result.stderr[-4000:]}"
    return result, json.loads(result.stdout)


def test_short_load_run_is_correct(backend: str, empty_database_url: str) -> None:
    # Two workers (`econfacts serve --workers 2`), as `make load WORKERS=2` runs.
    args = ["--writers", "10", "--readers", "40", "--seconds", "8", "--workers", "2"]
    if backend != "sqlite":
        args += ["--database-url", empty_database_url]
    # On SQLite the script makes its own database in a temporary folder, as `make load` does.
    result, summary = run_load(*args)
    print(
        f"\n[{backend}] load: {summary['requests']} requests in {summary['seconds']} s "
        f"({summary['requests_per_second']} req/s), p50 {summary['latency_ms']['p50']} ms, "
        f"p99 {summary['latency_ms']['p99']} ms; {summary['acknowledged_writes']} writes "
        f"acknowledged ({summary['creates']} creates, {summary['updates']} updates, "
        f"{summary['conflicts_412']} expected 412s), {summary['reads']} reads; "
        f"by status {summary['by_status']}"
    )
    problems = "\n".join(
        [
            *summary["problems"],
            *(f"server log x{n}: {m}" for m, n in summary["server_log_problems"].items()),
        ]
    )
    assert summary["server_errors_5xx"] == 0, problems
    assert summary["database_locked"] == 0, problems
    assert summary["lost_updates"] == 0, problems
    assert summary["incomplete_facts_seen"] == 0, problems
    assert summary["feed_changes_repeated"] == 0, problems
    assert summary["requests_without_answer"] == 0, problems
    assert summary["ok"] is True
    assert summary["server_workers"] == 2
    assert result.returncode == 0, result.stderr[-4000:]
    # The run did what it says: writes, conflicts on the shared facts, reads, all checked.
    assert summary["creates"] > 0 and summary["updates"] > 0 and summary["reads"] > 0
    assert summary["facts_checked_for_lost_updates"] >= summary["creates"]
    assert summary["feed_changes_read"] > 0


def test_load_script_reports_failure_with_exit_code(tmp_path: Path) -> None:
    """The script's verdict is its exit code: a server that cannot start is exit 2, not 0."""
    bogus = f"sqlite:///{tmp_path / 'not-a-dir.txt' / 'db.sqlite3'}"
    (tmp_path / "not-a-dir.txt").write_text("a file where a folder should be")
    result = subprocess.run(
        [
            sys.executable,
            str(LOAD),
            "--writers",
            "1",
            "--readers",
            "1",
            "--seconds",
            "1",
            "--database-url",
            bogus,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0


def test_bench_without_wrk_says_how_to_get_it(tmp_path: Path) -> None:
    """`make bench` (and bench/run.py itself) on a machine without wrk: a message that says
    how to install it and exit 2, no traceback, nothing started."""
    no_wrk = {**os.environ, "PATH": str(tmp_path)}  # an empty folder: no wrk on the PATH
    make = shutil.which("make")
    assert make is not None
    made = subprocess.run(
        [make, "-s", "-o", ".venv/.installed", "bench"],
        cwd=ROOT,
        env=no_wrk,
        capture_output=True,
        text=True,
        timeout=120,
    )
    direct = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py")],
        cwd=ROOT,
        env=no_wrk,
        capture_output=True,
        text=True,
        timeout=120,
    )
    for result in (made, direct):
        assert result.returncode != 0
        assert "wrk" in result.stderr
        assert "apt-get install wrk" in result.stderr
        assert "Traceback" not in result.stderr
    assert direct.returncode == 2
