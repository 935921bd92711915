# The two commands of the README: `make test` (every check) and `make demo` (the main job).
# Both create or update the local virtualenv first, so they work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
ECHO_PLUGIN := examples/omnicx-echo-channel

.PHONY: test demo bench lint types pytest test-fast clean

$(BIN)/.installed: pyproject.toml Makefile $(ECHO_PLUGIN)/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet -e $(ECHO_PLUGIN)
	touch $@

test: lint types pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

types: $(BIN)/.installed
	$(BIN)/mypy --strict src tests/typing

pytest: $(BIN)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)
	$(BIN)/pytest $(ECHO_PLUGIN) $(PYTEST_ARGS)

test-fast:
	$(MAKE) test PYTEST_ARGS="-m 'not slow'"

demo: $(BIN)/.installed
	$(BIN)/omnicx demo

bench: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/normalize.py
	$(BIN)/python benchmarks/identity.py
	$(BIN)/python benchmarks/channels.py
	$(BIN)/python benchmarks/channels_meta.py
	$(BIN)/python benchmarks/channels_twilio_telegram.py
	$(BIN)/python benchmarks/kpis.py
	$(BIN)/python benchmarks/storage.py
	$(BIN)/python benchmarks/hub.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
