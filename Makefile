# One entry point for people and CI. `make run` serves the gateway on the
# embedded default (SQLite, no other service); `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check
# The lock tool lives in its own virtualenv, never in the project's.
TOOLS := .tools
UV_VERSION := 0.13.9
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: install lock run demo test lint ci

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Everything from the lock, hash-checked. --no-deps: the lock is already
# resolved (and pip cannot hash-check an extra such as httpx[http2] that the
# lock lists without it); `pip check` proves nothing is missing. Then the
# project itself, editable and without dependencies, for the `ai-gateway`
# command (redone when pyproject.toml changes).
install: $(BIN)/python
	$(PIP) install -q --require-hashes --no-deps -r requirements/lock.txt
	$(PIP) check -q
	@$(MAKE) -s --no-print-directory $(BIN)/ai-gateway

$(BIN)/ai-gateway: pyproject.toml
	$(PIP) install -q --no-deps --no-build-isolation -e .
	touch $@

# Regenerate requirements/lock.txt from pyproject.toml (runtime dependencies and
# the `test` extra), with hashes, for every platform and Python >= 3.11. Pins
# already in the lock are kept unless pyproject.toml needs others; pass
# LOCK_ARGS=--upgrade to move every unpinned dependency to its newest release.
lock: $(TOOLS)/bin/uv
	$(TOOLS)/bin/uv pip compile -q pyproject.toml --extra test --universal --python-version 3.11 \
	  --generate-hashes --custom-compile-command "make lock" -o requirements/lock.txt $(LOCK_ARGS)

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --disable-pip-version-check -q uv==$(UV_VERSION)

run: install
	bin/run

# The gateway with fake providers, demo users and endpoints, and live traffic (docs/demo.md).
demo: install
	bin/demo

test: install
	bin/test

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

ci:
	bash .ci/run
