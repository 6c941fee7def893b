# One entry point for people and CI. `make run` serves the gateway on the
# embedded default (SQLite, no other service); `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: install run test lint ci

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements/test.txt

run: install
	bin/run

test: install
	bin/test

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

ci:
	bash .ci/run
