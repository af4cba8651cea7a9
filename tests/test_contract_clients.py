"""Generated clients just work: a Python client (openapi-python-client) and a TypeScript
one (openapi-typescript types + openapi-fetch) are generated from the live OpenAPI
document, and a short program for each, the calls a newsroom back end or a dashboard
makes (AZE-CHN facts with filters, following the cursor, one fact as_of, the dossier and
a series), type-checks with `mypy --strict` / `tsc --strict`. The Python program then runs
against a real server; so does the TypeScript one, compiled.

The npm packages are installed, at pinned versions, into a cache directory
(ECONFACTS_NPM_CACHE, default ~/.cache/econfacts-npm) on first use; later runs reuse it.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NPM_PACKAGES = {
    "openapi-typescript": "7.13.0",
    "openapi-fetch": "0.17.0",
    "typescript": "5.9.3",
    "@types/node": "20.19.25",
}
NPM_CACHE = Path(os.environ.get("ECONFACTS_NPM_CACHE", Path.home() / ".cache" / "econfacts-npm"))
MYPY_CONFIG = """\
[mypy]
strict = True
python_version = 3.11
incremental = False

# openapi-python-client 0.29.1's fixed client.py template (not generated from our
# document) forwards `*args: object` to `__exit__`, which mypy --strict refuses. Every
# module generated from the document (api/, models/) and the program are checked strictly.
[mypy-econfacts_client.client]
ignore_errors = True
"""
GENERATOR_CONFIG = """\
# NDJSON is a stream of JSON lines: the client hands back the bytes.
content_type_overrides:
  application/x-ndjson: application/octet-stream
"""

PYTHON_PROGRAM = '''\
"""The calls a dashboard or a newsroom back end makes, through the generated client."""

import datetime
import sys

from econfacts_client import Client
from econfacts_client.api.facts import get_fact, list_facts
from econfacts_client.api.relations import get_relation, get_series
from econfacts_client.models import (
    FactKind,
    FactPublic,
    ListFactsSort,
    PageFactPublic,
    RelationPublic,
    SeriesPublic,
)
from econfacts_client.types import UNSET, Unset


def aze_chn_facts(client: Client) -> list[FactPublic]:
    """Every AZE-CHN investment and trade fact, newest first, two a page."""
    facts: list[FactPublic] = []
    cursor: str | Unset = UNSET
    while True:
        page = list_facts.sync(
            client=client,
            country=["AZE"],
            counterpart="CHN",
            kind=[FactKind.INVESTMENT, FactKind.TRADE_TURNOVER],
            sort=ListFactsSort.DATE_DESC,
            limit=2,
            cursor=cursor,
        )
        if not isinstance(page, PageFactPublic):
            raise SystemExit(f"listing failed: {page!r}")
        facts.extend(page.items)
        if not isinstance(page.next_, str):
            return facts
        cursor = page.next_


def main(base_url: str) -> int:
    client = Client(base_url=base_url, raise_on_unexpected_status=True)
    facts = aze_chn_facts(client)
    ids = [fact.id for fact in facts]
    assert len(ids) == len(set(ids)) > 2, ids

    then = get_fact.sync(
        fact_id=facts[0].id, client=client, as_of=datetime.date.today()
    )
    if not isinstance(then, FactPublic):
        raise SystemExit(f"as_of read failed: {then!r}")
    amount: str | None = then.quantity.value if then.quantity else None

    dossier = get_relation.sync(a="AZE", b="CHN", client=client)
    if not isinstance(dossier, RelationPublic):
        raise SystemExit(f"dossier failed: {dossier!r}")
    names = [country.name for country in dossier.pair]

    series = get_series.sync(
        client=client, indicator=FactKind.TRADE_TURNOVER, pair="AZE-CHN"
    )
    if not isinstance(series, SeriesPublic):
        raise SystemExit(f"series failed: {series!r}")
    chart: list[tuple[datetime.date, float]] = [
        (point.first_day, point.value) for point in series.points
    ]
    assert chart and all(isinstance(y, float) for _, y in chart), chart
    print(len(ids), amount, names, len(dossier.indicators), chart)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
'''

TYPESCRIPT_PROGRAM = """\
// The calls a dashboard makes, typed from the OpenAPI document.
import createClient from "openapi-fetch";
import type { components, paths } from "./econfacts.js";

type Fact = components["schemas"]["FactPublic"];
type FactPage = components["schemas"]["Page_FactPublic_"];
type Point = components["schemas"]["Point"];
type Country = components["schemas"]["EntityRef"];
// Lists and items can also answer CSV or JSON-LD (by Accept): this program reads JSON.
type Api = ReturnType<typeof createClient<paths, "application/json">>;

async function azeChnPage(api: Api, cursor: string | undefined): Promise<FactPage> {
  const { data, error } = await api.GET("/v1/facts", {
    params: {
      query: {
        country: ["AZE"],
        counterpart: "CHN",
        kind: ["investment", "trade_turnover"],
        sort: "-date",
        limit: 2,
        cursor,
      },
    },
  });
  if (error !== undefined || data === undefined) {
    throw new Error(`listing failed: ${JSON.stringify(error)}`);
  }
  return data;
}

export async function main(baseUrl: string): Promise<void> {
  const api: Api = createClient<paths, "application/json">({ baseUrl });

  const facts: Fact[] = [];
  let cursor: string | undefined = undefined;
  do {
    const page: FactPage = await azeChnPage(api, cursor);
    facts.push(...page.items);
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
  if (facts.length < 3) throw new Error("expected several AZE-CHN facts");

  const first = facts[0];
  if (first === undefined) throw new Error("no fact");
  const asOf = await api.GET("/v1/facts/{fact_id}", {
    params: { path: { fact_id: first.id }, query: { as_of: "2999-01-01" } },
  });
  const value: string | undefined = asOf.data?.quantity?.value;

  const dossier = await api.GET("/v1/relations/{a}/{b}", {
    params: { path: { a: "AZE", b: "CHN" } },
  });
  const names: string[] = (dossier.data?.pair ?? []).map((c: Country) => c.name);

  const series = await api.GET("/v1/series", {
    params: { query: { indicator: "trade_turnover", pair: "AZE-CHN" } },
  });
  const points: Point[] = series.data?.points ?? [];
  const chart: Array<[string, number]> = points.map((p) => [p.first_day, p.value]);
  if (chart.length === 0 || typeof chart[0]?.[1] !== "number") {
    throw new Error("series points must be numbers");
  }
  console.log(facts.length, value, names, chart);
}

const base = process.argv[2];
if (base !== undefined) {
  main(base).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
"""

TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "target": "ES2022",
        "module": "NodeNext",
        "moduleResolution": "NodeNext",
        "noUncheckedIndexedAccess": True,
        "exactOptionalPropertyTypes": False,
        "skipLibCheck": False,
        "types": ["node"],
        "outDir": "out",
    },
    "files": ["program.ts", "econfacts.d.ts"],
}


def run(command: list[str], cwd: Path, timeout: int = 300) -> str:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def npm_tools() -> Path:
    """openapi-typescript, openapi-fetch and typescript at pinned versions, installed once
    into the cache directory (a marker file records the exact set)."""
    wanted = json.dumps(NPM_PACKAGES, sort_keys=True)
    marker = NPM_CACHE / "installed.json"
    if not (marker.exists() and marker.read_text() == wanted):
        npm = shutil.which("npm")
        assert npm, "npm is required (node 20 and npm)"
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        (NPM_CACHE / "package.json").write_text(
            json.dumps({"name": "econfacts-client-check", "private": True, "type": "module"})
        )
        run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--save-exact",
                *[f"{name}@{version}" for name, version in NPM_PACKAGES.items()],
            ],
            NPM_CACHE,
            timeout=600,
        )
        marker.write_text(wanted)
    return NPM_CACHE


def test_python_client_type_checks_strictly_and_runs(
    document: dict[str, Any], tmp_path: Path, live_server: LiveServer
) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    config = tmp_path / "config.yml"
    config.write_text(GENERATOR_CONFIG)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    generated = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            "econfacts_client",
            "--config",
            str(config),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # No part of the document was skipped or misread.
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout
    program = tmp_path / "program.py"
    program.write_text(PYTHON_PROGRAM)
    (tmp_path / "mypy.ini").write_text(MYPY_CONFIG)
    run(
        [str(BIN / "mypy"), "--config-file", "mypy.ini", "program.py", "econfacts_client"], tmp_path
    )
    # The function and enum names a newsroom's code uses are the documented ones.
    api = tmp_path / "econfacts_client" / "api"
    assert (api / "facts" / "list_facts.py").exists()
    assert (api / "facts" / "update_fact.py").exists()
    sort = (tmp_path / "econfacts_client" / "models" / "list_facts_sort.py").read_text()
    assert 'DATE_DESC = "-date"' in sort and "VALUE_1" not in sort
    output = run([sys.executable, "program.py", live_server.base_url], tmp_path)
    assert "Azerbaijan" in output and "China" in output


def test_typescript_client_type_checks_strictly_and_runs(
    document: dict[str, Any], tmp_path: Path, npm_tools: Path, live_server: LiveServer
) -> None:
    work = tmp_path / "ts"
    work.mkdir()
    (work / "node_modules").symlink_to(npm_tools / "node_modules")
    (work / "package.json").write_text(json.dumps({"type": "module", "private": True}))
    (work / "openapi.json").write_text(json.dumps(document))
    node_bin = npm_tools / "node_modules" / ".bin"
    run(
        [str(node_bin / "openapi-typescript"), "openapi.json", "--output", "econfacts.d.ts"],
        work,
    )
    (work / "program.ts").write_text(TYPESCRIPT_PROGRAM)
    (work / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    run([str(node_bin / "tsc"), "--project", "tsconfig.json"], work)
    # A deliberate type error is caught, so the check above is not vacuous.
    broken = TYPESCRIPT_PROGRAM.replace('sort: "-date"', 'sort: "newest"')
    (work / "program.ts").write_text(broken)
    failed = subprocess.run(
        [str(node_bin / "tsc"), "--project", "tsconfig.json", "--noEmit"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert failed.returncode != 0 and "newest" in failed.stdout, failed.stdout
    output = run(["node", "out/program.js", live_server.base_url], work)
    assert "Azerbaijan" in output and "China" in output


def test_the_programs_read_only_documented_names() -> None:
    """Guard the programs themselves: they use the operation ids and enum names."""
    for name in ("list_facts", "get_fact", "get_relation", "get_series", "DATE_DESC"):
        assert name in PYTHON_PROGRAM
    assert textwrap.dedent(TYPESCRIPT_PROGRAM).count("api.GET(") == 4
