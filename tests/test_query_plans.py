"""Query plans of the main /v1/facts filters on a 100,000-fact base (bench/generate.py).

For each filter combination, the SELECT that app.facts.service.list_fact_rows sends is
captured as it is executed (a before_cursor_execute listener), then explained with the
same parameters on the same connection: SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN`
with the planner's defaults (enable_seqscan on, statistics from ANALYZE). Every plan must
read the fact table through an index, never by a full scan.

Each combination is checked twice: with the most common values (the busiest pair, the
most frequent country, ...) and with the rarest ones, since planners choose by selectivity.
The base is built once per backend and session (about 25 s on each).
"""

import importlib.util
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import ROOT, Database
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine
from app.facts.schemas import FactQuery
from app.facts.service import list_fact_rows

FACTS = 100_000


def _generate() -> Callable[[str, int], dict[str, int]]:
    """bench/generate.py's generate(url, n); bench/ is not a package."""
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def big_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    db = Database(backend, tmp_path_factory.mktemp(f"plans-{backend}"))
    counts = _generate()(db.url, FACTS)
    assert counts["facts"] == FACTS
    engine = make_engine(Settings(database_url=db.url))
    yield engine
    engine.dispose()
    db.drop()


@dataclass(frozen=True)
class Values:
    """Filter values at one end of the distribution."""

    pair: tuple[str, str]
    country: str
    kind: str
    speaker: str
    source: str


def _extreme(engine: Engine, column: str, *, most: bool, where: str = "") -> str:
    order = "DESC" if most else "ASC"
    sql = (
        f"SELECT {column}, count(*) AS n FROM fact WHERE valid_to IS NULL "
        f"AND status = 'published' AND {column} IS NOT NULL {where} "
        f"GROUP BY {column} ORDER BY n {order}, {column} LIMIT 1"
    )
    with engine.connect() as conn:
        return str(conn.execute(text(sql)).one()[0])


@pytest.fixture(scope="session")
def values(big_engine: Engine) -> dict[str, Values]:
    out = {}
    for profile, most in (("common", True), ("rare", False)):
        pair = _extreme(big_engine, "pair_key", most=most, where="AND counterpart_id IS NOT NULL")
        a, b = pair.split("-")
        out[profile] = Values(
            pair=(a, b),
            country=_extreme(big_engine, "subject_id", most=most),
            kind=_extreme(big_engine, "kind", most=most),
            speaker=_extreme(big_engine, "claimed_by_id", most=most),
            source=_extreme(big_engine, "source_id", most=most),
        )
    return out


def _pair(v: Values) -> dict[str, Any]:
    return {"country": [v.pair[0]], "counterpart": v.pair[1]}


COMBINATIONS: dict[str, Callable[[Values], dict[str, Any]]] = {
    "no filter": lambda v: {},
    "pair": _pair,
    "pair+kind": lambda v: {**_pair(v), "kind": [v.kind]},
    "pair+kind+direction": lambda v: {
        **_pair(v),
        "kind": ["investment"],
        "direction": "subject_to_counterpart",
    },
    "country": lambda v: {"country": [v.country]},
    "kind": lambda v: {"kind": [v.kind]},
    "speaker": lambda v: {"speaker": v.speaker},
    "source": lambda v: {"source": v.source},
    "from/to+pair": lambda v: {**_pair(v), "from": "2010", "to": "2015"},
    "value_min+pair": lambda v: {**_pair(v), "value_min": "1000000000"},
    "status=draft": lambda v: {"status": ["draft"]},
}


def list_statement(engine: Engine, session: Session, query: FactQuery) -> tuple[str, Any]:
    """The SQL and parameters of the page query list_fact_rows runs for `query`."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        list_fact_rows(session, query=query, limit=50, after=None)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    pages = [(sql, params) for sql, params in captured if re.search(r"\bFROM fact\b", sql)]
    assert len(pages) == 1, captured
    return pages[0]


def explain(session: Session, sql: str, parameters: Any) -> list[str]:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters).all()
        return [str(row[-1]) for row in rows]
    rows = connection.exec_driver_sql(f"EXPLAIN {sql}", parameters).all()
    return [str(row[0]) for row in rows]


def full_scans(dialect: str, plan: list[str]) -> list[str]:
    if dialect == "sqlite":
        return [line for line in plan if re.match(r"SCAN fact\b", line) and "USING" not in line]
    return [line for line in plan if re.search(r"Seq Scan on fact\b", line)]


def index_reads(dialect: str, plan: list[str]) -> list[str]:
    if dialect == "sqlite":
        return [line for line in plan if re.match(r"(SEARCH|SCAN) fact USING .*INDEX", line)]
    return [line for line in plan if re.search(r"Index (Only )?Scan", line)]


@pytest.mark.parametrize("profile", ["common", "rare"])
@pytest.mark.parametrize("combination", list(COMBINATIONS))
def test_fact_list_filter_uses_an_index(
    big_engine: Engine, values: dict[str, Values], combination: str, profile: str
) -> None:
    query = FactQuery.model_validate(COMBINATIONS[combination](values[profile]))
    with Session(big_engine) as session:
        sql, parameters = list_statement(big_engine, session, query)
        plan = explain(session, sql, parameters)
    dialect = big_engine.dialect.name
    shown = "\n".join(plan)
    context = f"{combination} ({profile} values: {query.model_dump(exclude_defaults=True)})"
    assert not full_scans(dialect, plan), f"{context} scans the whole fact table:\n{shown}\n{sql}"
    assert index_reads(dialect, plan), f"{context} reads fact without an index:\n{shown}\n{sql}"
