# econfacts: `make run` serves on 127.0.0.1:8000, `make test` checks everything.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: compile run test lint typecheck dockerlint pytest install migrate seed clean fuzz load bench bench-ingest

$(STAMP): pyproject.toml requirements-nlp.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-nlp.txt
	touch $(STAMP)

# Bytecode ahead of time (start-up compiles nothing where PYTHONDONTWRITEBYTECODE is set).
compile: $(STAMP)
	@$(BIN)/python -m compileall -q app migrations

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/econfacts db upgrade

seed: migrate
	$(BIN)/econfacts seed

run: seed compile
	$(BIN)/econfacts serve

lint: $(STAMP)
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests

typecheck: $(STAMP)
	$(BIN)/mypy app

dockerlint: $(STAMP)
	$(BIN)/hadolint Dockerfile

# On every core (pytest-xdist; PYTEST_WORKERS=0 runs in one process), a file per worker at
# a time, so module-wide servers and bases are made once. --durations names the slowest.
PYTEST_WORKERS ?= auto
pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=15

# Set ECONFACTS_TEST_POSTGRES_URL to run the suite on PostgreSQL too.
test: lint typecheck dockerlint pytest

# Longer runs than `make test` does (see README "Reliability").
fuzz: $(STAMP)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-500} $(BIN)/pytest -q tests/test_fuzz.py

# `make load WORKERS=2`, `make load LOAD_ARGS="--database-url postgresql+psycopg://..."`.
WORKERS ?= 1
load: $(STAMP)
	$(BIN)/python bench/load.py --writers 50 --readers 200 --seconds 30 --workers $(WORKERS) $(LOAD_ARGS)

# wrk against the service, a raw ASGI floor and Datasette (BENCH_FACTS, BENCH_DB=postgres).
bench: compile
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "make bench needs wrk (https://github.com/wg/wrk), which is not installed."; \
	  echo "  Debian/Ubuntu: sudo apt-get install wrk    macOS: brew install wrk"; \
	  exit 2; } >&2
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Ingestion: p50/p95 per article and peak RSS after 40 corpus articles (no wrk needed).
bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py -n 40

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
