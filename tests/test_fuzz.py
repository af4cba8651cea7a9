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
import schemathesis.specs.openapi.checks
from conftest import Database, create_api_key, make_settings, migrated_and_seeded
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS as REGISTRY
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode

from app.config import Settings
from app.main import create_app

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
FUZZ_SEED = os.environ.get("FUZZ_SEED")
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
# Every check Schemathesis has (`--checks all`): besides conformance of status, content
# type, headers and body, that valid data is accepted and invalid data rejected, that
# unsupported methods get 405 with Allow, and that operations declaring security refuse
# requests without it.
SCHEMA_LEVEL_REASONS = (
    "Input should",
    "String should",
    "Field required",
    "Extra inputs",
    "List should",
    "Value should",
    "Decimal input",
    "Unable to",
    "Input is",
    "Tuple should",
    "Dictionary should",
    "unknown query parameter",
    "not valid JSON",
)
"""How the request models word a broken schema rule (a type, pattern, bound, required or
unknown field). Our own checks (an unknown id, a forged cursor, evidence that is not the
source's text) word theirs differently, and name the parameter at fault."""


def positive_data_acceptance_beyond_the_schema(
    ctx: Any, response: Any, case: schemathesis.Case
) -> bool | None:
    """`positive_data_acceptance`, less what no schema can say. Schema-valid data must not
    be refused for a rule the schema could state: a 400/422 is allowed only when every
    parameter it blames fails a rule of the data itself (the speaker id does not exist, the
    cursor was not issued by us, the evidence is not the source's text, `from` after `to`,
    ...), and a 412 only for an ETag that is well formed but not the record's. Any other
    refusal (413, 415, 428, a 400/422 worded as a schema rule) fails, as upstream."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if status < 400 or status in (401, 403, 404, 409, 429) or status >= 500:
        return None
    problem = response.json() if "json" in response.headers.get("content-type", [""])[0] else {}
    if status == 412 and problem.get("code") == "precondition_failed":
        return None
    if status == 422 and problem.get("code") == "idempotency_key_reused":
        return None  # the fuzzer drew an Idempotency-Key it had used for another body
    if status in (400, 422):
        reasons = [p["reason"] for p in problem.get("invalid_params") or []]
        if reasons and not any(r.startswith(SCHEMA_LEVEL_REASONS) for r in reasons):
            return None
    raise AssertionError(
        f"Schema-valid request refused for a rule the schema could state: {status} "
        f"{problem.get('invalid_params') or problem.get('detail') or response.text[:300]}"
    )


CHECKS = [check for check in REGISTRY.get_all() if check.__name__ != "positive_data_acceptance"] + [
    positive_data_acceptance_beyond_the_schema
]
CHECK_NAMES = sorted(check.__name__ for check in REGISTRY.get_all())
SHIPPED_RATE_LIMITS = {
    name: Settings.model_fields[name].default
    for name in ("rate_limit_per_address", "rate_limit_per_key")
}
"""Rate limits on, as shipped (the other tests turn them off)."""
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
    app = create_app(make_settings(db.url, **SHIPPED_RATE_LIMITS))
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


def test_every_check_runs() -> None:
    """`--checks all`: the registry really holds Schemathesis' OpenAPI checks (importing it
    too early would leave only the 5xx check, and this module would test far less)."""
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
    } <= set(CHECK_NAMES), CHECK_NAMES


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
