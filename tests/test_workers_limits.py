"""Rate limits shared through Redis (ECONFACTS_REDIS_URL) by the workers of `econfacts
serve --workers 2`: the limit holds in total, not per worker; and when Redis goes away
each worker falls back to its own buckets, with a warning in the log and never a 5xx.

The shared test uses the Redis of this machine and of CI (ECONFACTS_TEST_REDIS_URL,
default redis://127.0.0.1:6379/0) under a key prefix of its own; the outage test starts
and stops a redis-server of its own.
"""

import math
import os
import shutil
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from conftest import ServeProcess, free_port, seeded_copy

REDIS_URL = os.environ.get("ECONFACTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SEED_FACT = "aze-chn-investment-chn-to-aze-since-1995"
LIMIT = 20  # requests a minute per address


def hammer(server: ServeProcess, count: int) -> tuple[Counter[int], set[int], float]:
    """`count` anonymous GETs, each on a new connection (so either worker may answer it):
    statuses, the workers that answered, and the seconds it took."""
    started = time.monotonic()
    statuses: Counter[int] = Counter()
    ids = []
    for _ in range(count):
        rid = uuid.uuid4().hex
        ids.append(rid)
        response = httpx.get(
            f"{server.base_url}/v1/facts/{SEED_FACT}",
            headers={"X-Request-ID": rid, "Connection": "close"},
            timeout=30,
        )
        statuses[response.status_code] += 1
        if response.status_code == 429:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert int(response.headers["retry-after"]) >= 1
    elapsed = time.monotonic() - started
    answered: dict[str, int] = {}
    for _ in range(200):
        answered = server.pids_by_request_id()
        if all(rid in answered for rid in ids):
            break
        time.sleep(0.05)
    return statuses, {answered[rid] for rid in ids if rid in answered}, elapsed


def refill(seconds: float) -> int:
    """Tokens a bucket of LIMIT a minute gains in `seconds` (plus one for rounding)."""
    return math.ceil(seconds * LIMIT / 60) + 1


@pytest.fixture
def sqlite_url(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_copy("sqlite", tmp_path, tmp_path_factory).url


def test_two_workers_with_redis_hold_the_limit_in_total(sqlite_url: str, tmp_path: Path) -> None:
    shared = redis.Redis.from_url(REDIS_URL)
    assert shared.ping(), f"no Redis at {REDIS_URL} (.ci/run starts one)"
    prefix = f"econfacts-test-{uuid.uuid4().hex[:8]}:"
    server = ServeProcess(
        sqlite_url,
        tmp_path / "serve.log",
        workers=2,
        ECONFACTS_REDIS_URL=REDIS_URL,
        ECONFACTS_REDIS_PREFIX=prefix,
        ECONFACTS_RATE_LIMIT_PER_ADDRESS=str(LIMIT),
    )
    try:
        statuses, workers, elapsed = hammer(server, 3 * LIMIT)
        keys = shared.keys(f"{prefix}*")
    finally:
        server.stop()
        for key in shared.scan_iter(f"{prefix}*"):
            shared.delete(key)
    assert set(statuses) <= {200, 429}, statuses
    assert len(workers) == 2, "one worker answered everything"
    # Per worker, each would have let LIMIT through; shared, LIMIT in all (and the refill).
    assert LIMIT <= statuses[200] <= LIMIT + refill(elapsed), (statuses, elapsed)
    assert keys, "no bucket in Redis"
    assert "Redis" not in server.output()  # no outage was reported


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed (.ci/run installs it)"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            if client.ping():
                break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield process, url
    if process.poll() is None:
        process.kill()
    process.wait()


def test_a_redis_outage_degrades_to_per_worker_limits_with_a_warning(
    sqlite_url: str, tmp_path: Path, own_redis: tuple[subprocess.Popen[bytes], str]
) -> None:
    redis_process, url = own_redis
    server = ServeProcess(
        sqlite_url,
        tmp_path / "serve.log",
        workers=2,
        ECONFACTS_REDIS_URL=url,
        ECONFACTS_RATE_LIMIT_PER_ADDRESS=str(LIMIT),
    )
    try:
        before, _, _ = hammer(server, 4)
        assert before == Counter({200: 4})
        assert redis.Redis.from_url(url).keys("econfacts:*"), "Redis was not used"
        redis_process.kill()
        redis_process.wait()
        statuses, workers, elapsed = hammer(server, 4 * LIMIT)
    finally:
        server.stop()
    assert set(statuses) <= {200, 429}, statuses  # never a 5xx
    assert len(workers) == 2
    # Each worker's own bucket still holds: at most LIMIT each (and the refill), not more.
    assert statuses[429] > 0
    assert statuses[200] <= 2 * (LIMIT + refill(elapsed)), (statuses, elapsed)
    warnings = [
        r
        for r in server.records()
        if r["level"] == "WARNING" and r["logger"] == "econfacts.limits" and "Redis" in r["message"]
    ]
    assert warnings, server.output()[-3000:]
    assert all(r["level"] != "ERROR" for r in server.records()), server.output()[-3000:]
