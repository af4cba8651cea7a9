"""Property-based fuzzing of every operation in the live OpenAPI schema (Schemathesis).

The app under test is the real one (create_app on a migrated and seeded database of each
backend), loaded in-process through Schemathesis' ASGI loader from its own /openapi.json.
Every operation is fuzzed, writes included, with a real write key in `Authorization`.
Cases come from the schema's examples, from valid (positive) and from invalid (negative)
data; each response must:

- not be a 5xx (and the app must answer at all),
- be a status code the operation documents,
- have a Content-Type the operation documents for that status,
- match the documented response schema.

Bounded for `make test`: FUZZ_MAX_EXAMPLES cases per operation (default 25); `make fuzz`
sets 500. Runs are reproducible: no Hypothesis example database, derandomized generation
unless FUZZ_SEED is set (then that seed). The number of cases run is printed at the end
("fuzz cases run").
"""

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from conftest import Database, create_api_key, make_settings, migrated_and_seeded
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
FUZZ_SEED = os.environ.get("FUZZ_SEED")
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Generous: "answers at all", not a performance bound.
REQUEST_TIMEOUT_S = 30


def _openapi() -> dict[str, Any]:
    """The app's OpenAPI document, read before any test database exists."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_settings(f"sqlite:///{Path(tmp) / 'schema-only.sqlite3'}"))
        document = app.openapi()
        app.state.engine.dispose()
    return document


OPENAPI = _openapi()
OPERATIONS = [
    f"{method.upper()} {path}"
    for path, item in OPENAPI["paths"].items()
    for method in item
    if method in METHODS
]


def _enum_values(schema: dict[str, Any]) -> list[Any]:
    """Every value an (array of, optional) enum parameter allows, following $refs."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _enum_values(OPENAPI["components"]["schemas"][name])
    if "enum" in schema:
        return list(schema["enum"])
    if schema.get("type") == "array":
        return _enum_values(schema.get("items", {}))
    return [v for branch in schema.get("anyOf", []) for v in _enum_values(branch)]


def _example(parameter: dict[str, Any]) -> Any:
    schema = parameter["schema"]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("type") == "integer":
        return schema.get("minimum", 1)
    raise AssertionError(f"no example for required parameter {parameter['name']}")


def _enum_parameters() -> list[tuple[str, str]]:
    return [
        (f"{method.upper()} {path}", parameter["name"])
        for path, item in OPENAPI["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and _enum_values(parameter["schema"])
    ]


ENUM_PARAMETERS = _enum_parameters()


@dataclass
class FuzzTarget:
    backend: str
    schema: schemathesis.schemas.BaseSchema
    auth: dict[str, str]
    cases: dict[str, int] = field(default_factory=dict)
    enum_cases: int = 0


@pytest.fixture(scope="module")
def fuzz(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[FuzzTarget]:
    """One seeded database and app per backend for the whole module; the fuzzer writes to it."""
    db = Database(backend, tmp_path_factory.mktemp(f"fuzz-{backend}"))
    migrated_and_seeded(db.url)
    key = create_api_key(db.url, "fuzzer", "write")
    app = create_app(make_settings(db.url))
    target = FuzzTarget(
        backend=backend,
        schema=schemathesis.openapi.from_asgi("/openapi.json", app),
        auth={"Authorization": f"Bearer {key}"},
    )
    yield target
    app.state.engine.dispose()
    db.drop()
    line = (
        f"fuzz cases run ({backend}): {sum(target.cases.values())} generated over "
        f"{len(target.cases)} operations (FUZZ_MAX_EXAMPLES={MAX_EXAMPLES}), "
        f"plus {target.enum_cases} enum-value cases"
    )
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        print(f"\n{line}")
    else:
        with capture.global_and_fixture_disabled():
            print(f"\n{line}")


def _settings() -> settings:
    return settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=FUZZ_SEED is None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    )


def test_schemathesis_sees_every_documented_operation(fuzz: FuzzTarget) -> None:
    """The loader parses every operation (a schema error would silently leave one unfuzzed)."""
    seen, errors = [], []
    for result in fuzz.schema.get_all_operations():
        if isinstance(result, Ok):
            seen.append(result.ok().label)
        else:  # this operation's definition could not be used
            errors.append(repr(result.err()))
    assert not errors, errors
    assert sorted(seen) == sorted(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_conforms_to_its_schema(fuzz: FuzzTarget, label: str) -> None:
    method, path = label.split(" ", 1)
    operation = fuzz.schema[path][method]
    strategy = st.one_of(
        *fuzz.schema.get_strategies_from_examples(operation),
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    fuzz.cases[label] = 0

    @_settings()
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        fuzz.cases[label] += 1
        case.call_and_validate(headers=fuzz.auth, checks=CHECKS, timeout=REQUEST_TIMEOUT_S)

    if FUZZ_SEED is not None:
        run = seed(int(FUZZ_SEED))(run)
    run()
    assert fuzz.cases[label] > 0, f"no case was generated for {label}"


@pytest.mark.parametrize(
    ("label", "name"), ENUM_PARAMETERS, ids=[" ".join(p) for p in ENUM_PARAMETERS]
)
def test_every_documented_enum_value_conforms(fuzz: FuzzTarget, label: str, name: str) -> None:
    """Each value of each enum query parameter, alone, gets a documented answer: random
    generation may take many runs to pick e.g. `format=csv`; this does it every time."""
    method, path = label.split(" ", 1)
    definition = OPENAPI["paths"][path][method.lower()]
    parameter = next(p for p in definition["parameters"] if p["name"] == name)
    required = {
        p["name"]: (p["in"], _example(p))
        for p in definition["parameters"]
        if p.get("required") and p["name"] != name
    }
    path_parameters = {k: v for k, (where, v) in required.items() if where == "path"}
    query = {k: v for k, (where, v) in required.items() if where == "query"}
    operation = fuzz.schema[path][method]
    failures = []
    for value in _enum_values(parameter["schema"]):
        case = operation.Case(path_parameters=path_parameters, query={**query, name: value})
        fuzz.enum_cases += 1
        try:
            case.call_and_validate(headers=fuzz.auth, checks=CHECKS, timeout=REQUEST_TIMEOUT_S)
        except Exception as exc:
            failures.append(f"{name}={value}: {exc}")
    assert not failures, "\n".join(failures)
