"""The console of `econfacts serve`: JSON log lines for machines (no terminal colour codes
in them), lines for people at a terminal, `--log-format` to choose, and a clear message
with a non-zero exit when the port is taken."""

import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, free_port, seeded_copy

ECONFACTS = str(Path(sys.executable).parent / "econfacts")


@pytest.fixture
def sqlite_url(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_copy("sqlite", tmp_path, tmp_path_factory).url


def environment(url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ECONFACTS_DATABASE_URL": url,
        "ECONFACTS_ENVIRONMENT": "test",
        "ECONFACTS_LOG_LEVEL": "info",
        **extra,
    }
    env.pop("ECONFACTS_LOG_FORMAT", None)
    return env


def test_not_a_terminal_gives_json_lines_without_escape_codes(
    sqlite_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "auto.log"
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [ECONFACTS, "serve", "--port", str(port)],
            cwd=ROOT,
            env=environment(sqlite_url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "Application startup complete" in log.read_text(), process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=40)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert any("Uvicorn running on" in line for line in lines), lines
    for line in lines:
        record = json.loads(line)  # every line is JSON
        assert "color_message" not in record, line
        assert "\x1b" not in line and "\\u001b" not in line, line


def wait_for(condition: object, process: subprocess.Popen[bytes]) -> None:
    assert callable(condition)
    for _ in range(1200):
        if condition():
            return
        assert process.poll() is None, "the server exited"
        time.sleep(0.05)
    pytest.fail("the server did not start")


def read_terminal(command: list[str], env: dict[str, str], until: str) -> str:
    """Run `command` with a terminal as stdout and stderr; what it printed up to `until`."""
    master, replica = pty.openpty()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=replica, stderr=replica)
    os.close(replica)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while until.encode() not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=40)
        os.close(master)
    return seen.decode(errors="replace")


def test_a_terminal_gets_lines_for_people(sqlite_url: str) -> None:
    port = free_port()
    text = read_terminal(
        [ECONFACTS, "serve", "--port", str(port)],
        environment(sqlite_url),
        until="Uvicorn running on",
    )
    lines = [line for line in text.splitlines() if line.strip()]
    assert any("Uvicorn running on" in line for line in lines), text
    assert not any(line.lstrip().startswith("{") for line in lines), text
    assert "INFO" in text


def test_log_format_json_at_a_terminal_has_no_escape_codes(sqlite_url: str) -> None:
    port = free_port()
    text = read_terminal(
        [ECONFACTS, "serve", "--port", str(port), "--log-format", "json"],
        environment(sqlite_url),
        until="Uvicorn running on",
    )
    lines = [line for line in text.splitlines() if line.strip()]
    assert any("Uvicorn running on" in line for line in lines), text
    for line in lines:
        record = json.loads(line)
        assert "color_message" not in record, line
        assert "\x1b" not in line and "\\u001b" not in line, line


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_taken_port_is_a_clear_error_and_a_nonzero_exit(
    sqlite_url: str, taken_port: int, workers: str
) -> None:
    result = subprocess.run(
        [ECONFACTS, "serve", "--port", str(taken_port), "--workers", workers],
        cwd=ROOT,
        env=environment(sqlite_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert f"127.0.0.1:{taken_port}" in message
    assert "already in use" in message
    assert f"--port {taken_port + 1}" in message
    assert len(message.splitlines()) == 1, message  # one line, not buried among others
