"""Load test: writers and readers against a real server, checking correctness as they go.

    python bench/load.py --writers 50 --readers 200 --seconds 30

Migrates and seeds a database (by default a new SQLite file in a temporary folder), makes
a write key, starts `econfacts serve` on a free port with rate limits off, then runs
for the given seconds:

- each writer, repeatedly: POST a fact; GET it; PATCH it with If-Match. Then GET one of a
  few shared "hot" facts and PATCH it with If-Match, racing the other writers (a 412 is the
  expected answer to a lost race, not an error);
- each reader (anonymous: reads are public), at random: a list page, one fact, or the
  next page of the change feed (following its cursor); every fact it sees must be complete
  (evidence text present, revision >= 1) and no change may be delivered twice.

Afterwards every fact a writer touched is checked for lost updates: its number of revisions
must be exactly 1 + the PATCHes that were answered 200.

The client is one asyncio event loop running a coroutine per writer and reader, each with an
httpx.AsyncClient of its own (one keep-alive connection). Threads sharing one client spent
their time contending for the GIL, and a single pool for all workers spends it on pool
bookkeeping (see `Client`): either way the latencies measured the client, not the server.
The summary gives the client's own CPU and event-loop lag, so a run where the client was the
bottleneck says so.

Prints a JSON summary on stdout (progress goes to stderr). Exit code 1 if any response was
a 5xx, "database is locked" appeared in a response or in the server's log, an update was
lost, a reader saw an incomplete fact or a repeated change, or a request got no answer;
2 if the server did not start. Throughput and latency are printed, never judged.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

SOURCE_ID = "trend-4036385"
PHRASE = "Chinese companies are expected to continue investing in Azerbaijan’s economy"
HOT_FACTS = 5
VERIFY_CONCURRENCY = 8  # facts checked at a time after the run
LIST_FILTERS: list[dict[str, Any]] = [
    {"limit": 20},
    {"limit": 50, "country": "AZE"},
    {"limit": 10, "kind": "investment", "sort": "id"},
    {"limit": 20, "country": "CHN", "counterpart": "AZE"},
    {"limit": 5, "q": "Chinese"},
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def evidence() -> dict[str, Any]:
    text = (ROOT / "app/seed/data" / f"{SOURCE_ID}.txt").read_text(encoding="utf-8")
    assert text.count(PHRASE) == 1
    start = text.index(PHRASE)
    return {"source_id": SOURCE_ID, "start": start, "end": start + len(PHRASE), "text": PHRASE}


EVIDENCE = evidence()


def fact_body(statement: str) -> dict[str, Any]:
    return {
        "kind": "investment",
        "statement": statement,
        "subject": "CHN",
        "counterpart": "AZE",
        "direction": "subject_to_counterpart",
        "evidence": EVIDENCE,
    }


# --- setup -----------------------------------------------------------------------------------


def prepare_database(url: str) -> str:
    """Migrate and seed the database; return a new write key."""
    from sqlmodel import Session

    from app.auth.models import Scope
    from app.auth.service import create_key
    from app.config import Settings
    from app.db import begin_write, make_engine
    from app.db.migrate import upgrade
    from app.seed.loader import load_seed

    engine = make_engine(Settings(database_url=url))  # creates the SQLite file's folder
    try:
        upgrade(url)
        with Session(engine) as session:
            begin_write(session)
            load_seed(session)
            key = create_key(session, name=f"load-{uuid.uuid4().hex[:8]}", scope=Scope.write)
            session.commit()
    finally:
        engine.dispose()
    return key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`econfacts serve` (as in production) in its own process; its output goes to a log file."""

    def __init__(self, database_url: str, log_file: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_file = log_file
        env = {
            **os.environ,
            "ECONFACTS_DATABASE_URL": database_url,
            "ECONFACTS_ENVIRONMENT": "test",
            "ECONFACTS_RATE_LIMIT_PER_ADDRESS": "0",
            "ECONFACTS_RATE_LIMIT_PER_KEY": "0",
            "ECONFACTS_ACCESS_LOG": "false",
            "ECONFACTS_LOG_LEVEL": "warning",
        }
        self.output = log_file.open("wb")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "econfacts"),
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, seconds: float = 30) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        return False

    def log_text(self) -> str:
        self.output.flush()
        return self.log_file.read_text(errors="replace")

    def log_tail(self) -> str:
        self.output.flush()
        return self.log_file.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.output.close()


# --- measurements ----------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts of what the callers were answered. The workers share one: they all run on one
    event loop and no update to it spans an await, so nothing can interleave."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    locked: int = 0
    transport_errors: int = 0
    problems: list[str] = field(default_factory=list)
    creates: int = 0
    updates: int = 0
    conflicts: int = 0
    reads: int = 0
    facts_checked: int = 0
    incomplete: int = 0
    feed_items: int = 0
    feed_repeats: int = 0
    overwrites: int = 0

    def note(self, what: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(what)

    def add(self, other: "Tally") -> None:
        """Take in another tally's counts (its latencies stay out: see `Run`)."""
        self.statuses.update(other.statuses)
        for problem in other.problems:
            self.note(problem)
        for name in (
            "locked",
            "transport_errors",
            "creates",
            "updates",
            "conflicts",
            "reads",
            "facts_checked",
            "incomplete",
            "feed_items",
            "feed_repeats",
            "overwrites",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Client:
    """One caller on its own httpx.AsyncClient (a keep-alive connection), with the write key
    or anonymous (reads are public), recording every answer.

    Each worker has a client of its own rather than all sharing one pool: httpcore (1.0.x)
    walks every pooled connection, several times over, at each request's start and end, so one
    pool of 250 connections kept the client's CPU at 100% and measured that, not the server."""

    def __init__(self, http: httpx.AsyncClient, tally: Tally, key: str | None = None) -> None:
        self.http = http
        self.tally = tally
        self.auth = {"Authorization": f"Bearer {key}"} if key else {}

    async def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        kwargs["headers"] = {**self.auth, **kwargs.get("headers", {})}
        # The clock runs only around the awaited request (body included): what the server and
        # the client's event loop took, not the caller's own checks before and after.
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            self.tally.transport_errors += 1
            self.tally.note(f"{method} {url}: {type(exc).__name__}: {exc}")
            return None
        self.tally.latencies.append(time.perf_counter() - started)
        self.tally.statuses[response.status_code] += 1
        if "database is locked" in response.text.lower():
            self.tally.locked += 1
            self.tally.note(f"{method} {url}: database is locked")
        if response.status_code >= 500:
            self.tally.note(f"{method} {url}: {response.status_code} {response.text[:300]}")
        return response


def check_fact(fact: Any, tally: Tally, where: str) -> None:
    """A fact as a reader sees it must be whole: its evidence text and a revision."""
    tally.facts_checked += 1
    evidence = fact.get("evidence") if isinstance(fact, dict) else None
    revision = fact.get("revision") if isinstance(fact, dict) else None
    if (
        not isinstance(evidence, dict)
        or not evidence.get("text")
        or not isinstance(revision, int)
        or revision < 1
    ):
        tally.incomplete += 1
        tally.note(f"incomplete fact from {where}: {str(fact)[:300]}")


async def watch_loop(lags: list[float], stop: asyncio.Event, interval: float = 0.05) -> None:
    """How late the event loop wakes a sleeper: the delay the client itself adds to every
    latency it measures. Large lags mean the figures describe the client, not the server."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(interval)
        lags.append(time.perf_counter() - started - interval)


# --- workers ---------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the writers were told: for each fact, the PATCHes answered 200. Updated only
    between awaits on the one event loop, so it needs no lock."""

    successful_patches: Counter[str] = field(default_factory=Counter)
    created: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)  # a request without an answer


async def patch_once(client: Client, ledger: Ledger, fact_id: str, text: str) -> None:
    """GET the fact, PATCH it with its ETag; a 412 means another writer got there first."""
    tally = client.tally
    current = await client.call("GET", f"/v1/facts/{fact_id}")
    if current is None or current.status_code != 200:
        if current is not None:
            tally.note(f"GET {fact_id} before PATCH: {current.status_code}")
        return
    check_fact(current.json(), tally, "a writer's GET")
    response = await client.call(
        "PATCH",
        f"/v1/facts/{fact_id}",
        json={"statement": text, "reason": "load test"},
        headers={"If-Match": current.headers["etag"]},
    )
    if response is None:
        ledger.unknown.add(fact_id)
    elif response.status_code == 200:
        tally.updates += 1
        ledger.successful_patches[fact_id] += 1
        if response.json().get("revision") != current.json()["revision"] + 1:
            # Another write landed between our read and our write, and If-Match let it pass:
            # we overwrote a change we never saw.
            tally.overwrites += 1
            tally.note(f"PATCH {fact_id}: revision did not go up by exactly one")
    elif response.status_code == 412:
        tally.conflicts += 1
    else:
        tally.note(f"PATCH {fact_id}: {response.status_code} {response.text[:200]}")


async def writer(
    number: int, client: Client, ledger: Ledger, hot: list[str], stop: asyncio.Event
) -> None:
    rng = random.Random(number)
    sent = 0
    while not stop.is_set():
        sent += 1
        created = await client.call(
            "POST", "/v1/facts", json=fact_body(f"Load writer {number}, fact {sent}.")
        )
        if created is not None and created.status_code == 201:
            client.tally.creates += 1
            fact_id = created.json()["id"]
            ledger.created.add(fact_id)
            await patch_once(
                client, ledger, fact_id, f"Load writer {number}, fact {sent}, corrected."
            )
        elif created is not None:
            client.tally.note(f"POST: {created.status_code} {created.text[:200]}")
        target = rng.choice(hot)
        await patch_once(
            client, ledger, target, f"Hot fact {target} by writer {number}, edit {sent}."
        )


async def reader(number: int, client: Client, seen_ids: list[str], stop: asyncio.Event) -> None:
    rng = random.Random(10_000 + number)
    tally = client.tally
    cursor: str | None = None
    delivered: set[tuple[str, str, int]] = set()
    while not stop.is_set():
        choice = rng.random()
        if choice < 0.4:
            response = await client.call("GET", "/v1/facts", params=rng.choice(LIST_FILTERS))
            if response is not None and response.status_code == 200:
                tally.reads += 1
                for fact in response.json()["items"]:
                    check_fact(fact, tally, "a list")
        elif choice < 0.7:
            fact_id = rng.choice(seen_ids)
            response = await client.call("GET", f"/v1/facts/{fact_id}")
            if response is not None and response.status_code == 200:
                tally.reads += 1
                check_fact(response.json(), tally, "an item")
        else:
            params: dict[str, Any] = {"limit": 100, **({"since": cursor} if cursor else {})}
            response = await client.call("GET", "/v1/changes", params=params)
            if response is not None and response.status_code == 200:
                tally.reads += 1
                page = response.json()
                for change in page["items"]:
                    tally.feed_items += 1
                    key = (change["resource"], change["id"], change["revision"])
                    if key in delivered:
                        tally.feed_repeats += 1
                        tally.note(f"change delivered twice: {key}")
                    delivered.add(key)
                    if change["resource"] == "fact" and len(seen_ids) < 5000:
                        seen_ids.append(change["id"])
                cursor = page["next"]
        if response is not None and response.status_code not in (200, 304):
            tally.note(f"read: {response.status_code} {response.text[:200]}")


async def guarded(worker: Callable[..., Awaitable[None]], tally: Tally, *args: Any) -> None:
    """Run one worker; a crash of the harness fails the run instead of going unnoticed."""
    try:
        await worker(*args)
    except Exception as exc:
        tally.note(f"{worker.__name__} crashed: {type(exc).__name__}: {exc}")
        tally.transport_errors += 1


# --- verification ----------------------------------------------------------------------------


async def lost_updates(client: Client, ledger: Ledger) -> tuple[int, int]:
    """For each fact written: revisions must be 1 + the PATCHes that were answered 200.

    Nothing writes any more, so the facts are checked a few at a time to keep this short."""
    lost = 0
    checked = 0
    slots = asyncio.Semaphore(VERIFY_CONCURRENCY)

    async def check(fact_id: str) -> None:
        nonlocal lost, checked
        async with slots:
            response = await client.call("GET", f"/v1/facts/{fact_id}/revisions")
            if response is None or response.status_code != 200:
                lost += 1
                client.tally.note(f"revisions of {fact_id}: unreadable")
                return
            checked += 1
            expected = 1 + ledger.successful_patches[fact_id]
            numbers = [r["number"] for r in response.json()]
            current = await client.call("GET", f"/v1/facts/{fact_id}")
            current_revision = (
                current.json()["revision"]
                if current is not None and current.status_code == 200
                else None
            )
        if numbers != list(range(1, expected + 1)) or current_revision != expected:
            lost += 1
            client.tally.note(
                f"lost update on {fact_id}: {len(numbers)} revisions, current "
                f"{current_revision}, {expected - 1} PATCHes answered 200"
            )

    await asyncio.gather(*(check(fact_id) for fact_id in sorted(ledger.created - ledger.unknown)))
    return lost, checked


def server_problems(log_text: str, most: int = 10) -> dict[str, int]:
    """The server's WARNING and ERROR lines (JSON), by kind, most frequent first."""
    found: Counter[str] = Counter()
    for line in log_text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("level") in ("WARNING", "ERROR", "CRITICAL"):
            message = str(record.get("message", "")).strip().splitlines() or [""]
            text = f"{record.get('level')} {message[0]}"
            if record.get("exc_info"):
                text += " | " + str(record["exc_info"]).strip().splitlines()[-1]
            # One kind per message, whatever the request: drop paths and ids.
            found[re.sub(r"(GET|POST|PATCH) /\S*", r"\1 ...", text)[:400]] += 1
    return dict(found.most_common(most))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def milliseconds(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.50) * 1000, 1),
        "p99": round(percentile(values, 0.99) * 1000, 1),
        "max": round(max(values, default=0) * 1000, 1),
    }


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Run:
    """What the client saw. `load` holds the workers' counts and latencies (the figures);
    `other` the hot facts' creation and the final check (counted for correctness only)."""

    load: Tally
    other: Tally
    elapsed: float
    stuck: int
    client_cpu: float
    loop_lags: list[float]
    lost: int
    checked: int


async def drive(base_url: str, key: str, writers: int, readers: int, seconds: float) -> Run | None:
    """Make the hot facts, run the workers for `seconds`, then check for lost updates.
    None if the hot facts could not be made."""
    # Made once for all the clients: httpx would otherwise load the CA bundle for each (about
    # 0.1 s of CPU apiece), though plain http never uses it.
    tls = ssl.create_default_context()
    async with contextlib.AsyncExitStack() as opened:

        async def connect(connections: int) -> httpx.AsyncClient:
            limits = httpx.Limits(
                max_connections=connections, max_keepalive_connections=connections
            )
            client = httpx.AsyncClient(
                base_url=base_url, timeout=httpx.Timeout(120), limits=limits, verify=tls
            )
            return await opened.enter_async_context(client)

        other = Tally()
        setup = Client(await connect(VERIFY_CONCURRENCY), other, key)
        ledger = Ledger()
        hot: list[str] = []
        for n in range(HOT_FACTS):
            made = await setup.call("POST", "/v1/facts", json=fact_body(f"Hot fact {n}."))
            if made is None or made.status_code != 201:
                log(f"could not create the hot facts: {made and made.text}")
                return None
            hot.append(made.json()["id"])
            ledger.created.add(hot[-1])
        seed = await setup.call("GET", "/v1/facts", params={"limit": 100})
        seen_ids = [f["id"] for f in seed.json()["items"]] if seed is not None else []
        seen_ids.extend(hot)

        load = Tally()
        writing = [Client(await connect(1), load, key) for _ in range(writers)]
        reading = [Client(await connect(1), load) for _ in range(readers)]
        stop = asyncio.Event()
        lags: list[float] = []
        cpu_started = time.process_time()
        started = time.perf_counter()
        workers = [
            asyncio.create_task(guarded(writer, load, n, client, ledger, hot, stop))
            for n, client in enumerate(writing)
        ] + [
            asyncio.create_task(guarded(reader, load, n, client, seen_ids, stop))
            for n, client in enumerate(reading)
        ]
        watcher = asyncio.create_task(watch_loop(lags, stop))
        await asyncio.sleep(seconds)
        stop.set()
        _, pending = await asyncio.wait(workers, timeout=300)
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - cpu_started
        for task in pending:
            task.cancel()
        await asyncio.gather(watcher, *pending, return_exceptions=True)

        log("checking for lost updates")
        lost, checked = await lost_updates(setup, ledger)
    return Run(load, other, elapsed, len(pending), client_cpu, lags, lost, checked)


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes of `econfacts serve`"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (database and log)"
    )
    args = parser.parse_args(argv)
    if args.writers < 1 or args.readers < 0 or args.seconds <= 0 or args.workers < 1:
        parser.error("need at least one writer, no negative readers, and positive seconds")

    workdir = Path(tempfile.mkdtemp(prefix="econfacts-load-"))
    url = args.database_url or f"sqlite:///{workdir / 'econfacts.sqlite3'}"
    server: Server | None = None
    try:
        log(f"preparing {url}")
        key = prepare_database(url)
        server = Server(url, workdir / "server.log", workers=args.workers)
        if not server.wait_ready():
            log(f"the server did not start:\n{server.log_tail()}")
            return 2
        log(f"serving on {server.base_url}; {args.writers} writers, {args.readers} readers")
        run = asyncio.run(drive(server.base_url, key, args.writers, args.readers, args.seconds))
        if run is None:
            return 2

        # The API answers a busy database with a 503 that does not say "locked"; the
        # server's log does.
        server_log = server.log_text()
        locked_in_log = server_log.lower().count("database is locked")
        logged_problems = server_problems(server_log)

        total = Tally()
        total.add(run.load)
        total.add(run.other)
        latencies = run.load.latencies
        elapsed = run.elapsed
        server_errors = sum(n for status, n in total.statuses.items() if status >= 500)
        lost = run.lost + total.overwrites
        summary = {
            "database": url.split(":", 1)[0],
            "client": "asyncio",
            "server_workers": args.workers,
            "writers": args.writers,
            "readers": args.readers,
            "seconds": round(elapsed, 2),
            "requests": len(latencies),
            "requests_per_second": round(len(latencies) / elapsed, 1) if elapsed else 0,
            "latency_ms": milliseconds(latencies),
            # The client's own share of a core, and how late its event loop ran: if these are
            # high, the latencies above are partly the client's.
            "client_cpu_percent": round(100 * run.client_cpu / elapsed, 1) if elapsed else 0,
            "client_loop_lag_ms": milliseconds(run.loop_lags),
            "by_status": {str(k): v for k, v in sorted(total.statuses.items())},
            "server_errors_5xx": server_errors,
            "database_locked": total.locked + locked_in_log,
            "database_locked_in_responses": total.locked,
            "database_locked_in_server_log": locked_in_log,
            "lost_updates": lost,
            "facts_checked_for_lost_updates": run.checked,
            "acknowledged_writes": total.creates + total.updates,
            "creates": total.creates,
            "updates": total.updates,
            "conflicts_412": total.conflicts,
            "reads": total.reads,
            "facts_seen_by_readers_and_writers": total.facts_checked,
            "incomplete_facts_seen": total.incomplete,
            "feed_changes_read": total.feed_items,
            "feed_changes_repeated": total.feed_repeats,
            "requests_without_answer": total.transport_errors,
            # Workers (coroutines now) that had not finished 300 s after the stop; the name
            # is kept from the threaded version so existing readers of the summary still work.
            "threads_still_running": run.stuck,
            "problems": total.problems,
            "server_log_problems": logged_problems,
        }
        failed = bool(
            server_errors
            or total.locked
            or locked_in_log
            or lost
            or total.incomplete
            or total.feed_repeats
            or total.transport_errors
            or run.stuck
        )
        summary["ok"] = not failed
        print(json.dumps(summary, indent=2))
        return 1 if failed else 0
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
