# The two commands of the README: `make test` (every check) and `make demo` (the main job).
# Both create or update the local virtualenv first, so they work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: test demo bench lint types pytest test-fast clean

$(BIN)/.installed: pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

test: lint types pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

types: $(BIN)/.installed
	$(BIN)/mypy --strict src tests/typing

pytest: $(BIN)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast:
	$(MAKE) test PYTEST_ARGS="-m 'not slow'"

demo: $(BIN)/.installed
	$(BIN)/python examples/quickstart.py

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/normalize.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
