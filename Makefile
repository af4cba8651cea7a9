# econfacts: `make run` serves on 127.0.0.1:8000, `make test` checks everything.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck dockerlint pytest install migrate seed clean fuzz load bench

$(STAMP): pyproject.toml requirements-nlp.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-nlp.txt
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/econfacts db upgrade

seed: migrate
	$(BIN)/econfacts seed

run: seed
	$(BIN)/econfacts serve

lint: $(STAMP)
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests

typecheck: $(STAMP)
	$(BIN)/mypy app

dockerlint: $(STAMP)
	$(BIN)/hadolint Dockerfile

pytest: $(STAMP)
	$(BIN)/pytest

# Set ECONFACTS_TEST_POSTGRES_URL to run the suite on PostgreSQL too.
test: lint typecheck dockerlint pytest

# Longer runs than `make test` does (see README "Reliability").
fuzz: $(STAMP)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-500} $(BIN)/pytest -q tests/test_fuzz.py

load: $(STAMP)
	$(BIN)/python bench/load.py --writers 50 --readers 200 --seconds 30

# wrk against the service, a raw ASGI floor and Datasette (BENCH_FACTS, BENCH_DB=postgres).
bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
