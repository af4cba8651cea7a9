"""Ingestion speed: the real pipeline (store, extract, save drafts) on the corpus articles.

Prints the first article's time (it loads the parser), p50 and p95 per article, and the
process's peak RSS before and after: `make bench-ingest` (or `python bench/ingest.py -n 40`).
A benchmark, not a test: its figures go in notes and the README, never in assertions.
"""

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine
from app.db.migrate import upgrade
from app.ingestion.pipeline import ingest
from app.seed.loader import CORPUS_DIR, load_seed
from app.sources.schemas import SourceCreate


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--articles", type=int, default=40)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'ingest.sqlite3'}"
    upgrade(url)
    engine = make_engine(Settings(database_url=url))
    with Session(engine) as session:
        load_seed(session)
        session.commit()
    before = peak_rss_mb()
    times = []
    for path in sorted(CORPUS_DIR.glob("*.yaml"))[: args.articles]:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        body = SourceCreate(
            outlet="trend",
            title=spec["source"]["title"],
            published=spec["source"]["published"],
            language="en",
            text=(path.parent / spec["source"]["text_file"]).read_text(encoding="utf-8"),
        )
        started = time.perf_counter()
        with Session(engine) as session:
            ingest(session, body=body, actor="bench")
            session.commit()
        times.append(time.perf_counter() - started)
    ordered = sorted(times)
    print(
        f"articles={len(times)} first={times[0] * 1000:.0f} ms "
        f"p50={statistics.median(times) * 1000:.0f} ms "
        f"p95={ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000:.0f} ms "
        f"peak RSS {before:.0f} MB before, {peak_rss_mb():.0f} MB after"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
