"""Build a synthetic fact base for benchmarks: N facts over ~50 countries, all kinds, with
quotes and revisions, written straight into a migrated database in bulk.

    python bench/generate.py --database-url sqlite:///var/bench.sqlite3 --facts 100000

Realistic shape: pairs follow a skewed distribution (a few pairs carry most facts, as
news coverage does), kinds follow the seed's mix, 10% of facts have a second revision
(a correction), 2% are retracted, one source article per ~20 facts, one quote per ~10.
Every evidence span is a real substring of its source text.
"""

import argparse
import hashlib
import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pycountry
from sqlalchemy import insert, text
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine
from app.db.migrate import upgrade
from app.facts.models import Comparator, pair_key
from app.facts.quantity import implied_interval
from app.facts.shape import with_documents
from app.seed.loader import load_seed
from app.tables import Change, Entity, Fact, Quote, QuoteMention, Source

KINDS = [
    ("investment", 0.2),
    ("trade_turnover", 0.25),
    ("trade_growth", 0.1),
    ("partner_rank", 0.05),
    ("agreement", 0.2),
    ("diplomatic_event", 0.15),
    ("relationship_status", 0.05),
]
COMPARATORS = [("exact", 0.4), ("approx", 0.3), ("more_than", 0.2), ("at_most", 0.1)]
HEDGES = {"exact": None, "approx": "nearly", "more_than": "more than", "at_most": "up to"}


def pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def generate(database_url: str, facts: int, seed: int = 7, batch: int = 5000) -> dict[str, int]:
    rng = random.Random(seed)
    upgrade(database_url)
    engine = make_engine(Settings(database_url=database_url))
    with Session(engine) as session:
        load_seed(session)
        session.commit()
    countries = sorted(c.alpha_3 for c in pycountry.countries)[:: max(1, 249 // 50)][:50]
    countries = sorted(set(countries) | {"AZE", "CHN"})
    now = datetime.now(UTC)
    with engine.begin() as conn:
        existing = {r[0] for r in conn.execute(text("SELECT id FROM entity"))}
        conn.execute(
            insert(Entity),
            [
                {
                    "id": c,
                    "kind": "country",
                    "name": pycountry.countries.get(alpha_3=c).name,
                    "code": c,
                    "aliases": [],
                    "revision": 1,
                    "updated_at": now,
                }
                for c in countries
                if c not in existing
            ],
        )
        conn.execute(
            insert(Entity),
            [
                {
                    "id": f"bench-person-{i}",
                    "kind": "person",
                    "name": f"Bench Person {i}",
                    "aliases": [],
                    "revision": 1,
                    "updated_at": now,
                }
                for i in range(200)
            ],
        )
    # A few pairs carry most facts: Zipf-like weights over all pairs.
    pairs = [(a, b) for i, a in enumerate(countries) for b in countries[i + 1 :]]
    rng.shuffle(pairs)
    weights = [1 / (rank + 1) for rank in range(len(pairs))]
    sentence = "Officials said that {a} companies invested {words} in the economy of {b} since {y}."
    counts = {"facts": 0, "revisions": 0, "quotes": 0, "sources": 0}
    fact_rows: list[dict] = []
    change_rows: list[dict] = []
    source_rows: list[dict] = []
    quote_rows: list[dict] = []
    mention_rows: list[dict] = []
    source_parts: list[str] = []
    pending_facts: list[dict] = []

    def flush(conn) -> None:
        if source_rows:
            conn.execute(insert(Source), source_rows)
        if fact_rows:
            conn.execute(insert(Fact), with_documents(conn, fact_rows))
        if quote_rows:
            conn.execute(insert(Quote), quote_rows)
        if mention_rows:
            conn.execute(insert(QuoteMention), mention_rows)
        if change_rows:
            conn.execute(insert(Change), change_rows)
        for rows in (source_rows, fact_rows, quote_rows, mention_rows, change_rows):
            rows.clear()

    def close_source(conn) -> None:
        nonlocal source_parts, pending_facts
        if not pending_facts:
            return
        body = " ".join(source_parts)
        sid = f"bench-source-{counts['sources']}"
        counts["sources"] += 1
        published = date(2025, 1, 1) - timedelta(days=rng.randrange(3650))
        source_rows.append(
            {
                "id": sid,
                "outlet_id": "trend",
                "url": None,
                "title": f"Bench article {sid}",
                "published": published,
                "dateline": "Baku",
                "language": "en",
                "text": body,
                "sha256": hashlib.sha256(body.encode()).hexdigest(),
                "created_at": now,
                "revision": 1,
                "updated_at": now,
            }
        )
        for row in pending_facts:
            row["source_id"] = sid
            fact_rows.append(row)
        source_parts, pending_facts = [], []

    with engine.begin() as conn:
        offset = 0
        for n in range(facts):
            a, b = rng.choices(pairs, weights)[0]
            if rng.random() < 0.5:
                a, b = b, a
            kind = pick(rng, KINDS)
            year = rng.randrange(1995, 2025)
            value = Decimal(rng.randrange(1, 500)) * Decimal(10) ** rng.choice((6, 7, 8, 9))
            comparator = pick(rng, COMPARATORS)
            words = f"{HEDGES[comparator] + ' ' if HEDGES[comparator] else ''}${value}"
            text_ = sentence.format(a=a, b=b, words=words, y=year)
            start = offset if source_parts else 0
            if not source_parts:
                offset = 0
            start = offset
            source_parts.append(text_)
            offset += len(text_) + 1
            low, high = implied_interval(Comparator(comparator), value, HEDGES[comparator])
            has_value = kind not in ("diplomatic_event", "relationship_status")
            revisions = 2 if rng.random() < 0.1 else 1
            created = now - timedelta(days=rng.randrange(1, 700), seconds=n)
            status = "retracted" if rng.random() < 0.02 else "published"
            base = {
                "id": f"bench-fact-{n:07d}",
                "kind": kind,
                "statement": text_,
                "subject_id": a,
                "counterpart_id": b,
                "pair_key": pair_key(a, b),
                "sort_date": date(year, 1, 1),
                "direction": "subject_to_counterpart"
                if kind in ("investment", "partner_rank")
                else "bilateral",
                "value": value if has_value else None,
                "unit": "USD" if has_value else None,
                "comparator": comparator if has_value else None,
                "hedge": HEDGES[comparator] if has_value else None,
                "value_low": low if has_value else None,
                "value_high": high if has_value else None,
                "quantity_text": words if has_value else None,
                "time_type": "period",
                "time_start": date(year, 1, 1),
                "time_start_precision": "year",
                "time_end": date(2025, 4, 28),
                "time_end_precision": "day",
                "time_text": f"since {year}",
                "claimed_by_id": f"bench-person-{rng.randrange(200)}",
                "claimed_role": "MP",
                "evidence_start": start,
                "evidence_end": start + len(text_),
                "evidence_text": text_,
                "mentions": [],
                "attributes": {
                    "title": "Bench agreement",
                    "parties": [a, b],
                    "event": None,
                    "documents": 2,
                    "sectors": [],
                }
                if kind == "agreement"
                else {},
                "confidence": None,
                "created_at": created,
            }
            for r in range(1, revisions + 1):
                valid_from = created + timedelta(days=30 * (r - 1))
                last = r == revisions
                row = {
                    **base,
                    "revision": r,
                    "valid_from": valid_from,
                    "valid_to": None if last else created + timedelta(days=30 * r),
                    "action": "create" if r == 1 else "update",
                    "actor": "bench",
                    "reason": None if r == 1 else "correction",
                    "status": status if last else "published",
                }
                pending_facts.append(row)
                change_rows.append(
                    {
                        "resource": "fact",
                        "resource_id": base["id"],
                        "revision": r,
                        "action": row["action"],
                        "actor": "bench",
                        "at": valid_from,
                    }
                )
                counts["revisions"] += 1
            counts["facts"] += 1
            if n % 10 == 0:
                qid = f"bench-quote-{n:07d}"
                quote_rows.append(
                    {
                        "id": qid,
                        "text": text_,
                        "speaker_id": base["claimed_by_id"],
                        "speaker_role": "MP",
                        "said_to_id": "trend",
                        "said_on": date(year, 6, 1),
                        "said_on_precision": "day",
                        "source_id": None,
                        "evidence_start": start,
                        "evidence_end": start + len(text_),
                        "supports": [base["id"]],
                        "status": "published",
                        "confidence": None,
                        "revision": 1,
                        "valid_from": created,
                        "valid_to": None,
                        "action": "create",
                        "actor": "bench",
                        "reason": None,
                        "created_at": created,
                    }
                )
                mention_rows.extend(
                    [{"quote_id": qid, "revision": 1, "entity_id": c} for c in (a, b)]
                )
                counts["quotes"] += 1
            if len(source_parts) >= 20:
                close_source(conn)
                for q in quote_rows:
                    if q["source_id"] is None:
                        q["source_id"] = source_rows[-1]["id"]
            if len(fact_rows) >= batch:
                flush(conn)
        close_source(conn)
        for q in quote_rows:
            if q["source_id"] is None:
                q["source_id"] = source_rows[-1]["id"]
        flush(conn)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--facts", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(generate(args.database_url, args.facts)))


if __name__ == "__main__":
    main()
