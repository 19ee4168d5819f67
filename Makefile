# Two commands do all the set-up on a fresh machine:
#   make demo   installs the project in .venv and runs the demo
#   make test   installs the project and its dev tools in .venv, then lints, type-checks and runs the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Every transitive version is pinned here; pyproject.toml pins the direct ones.
CONSTRAINTS := constraints.txt

.PHONY: demo test lint typecheck pytest install install-dev dictionary clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3

$(VENV)/.installed-local: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[local]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	touch $@ $(VENV)/.installed-local

install: $(VENV)/.installed-local
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/rosetta-monitoring demo

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

pytest: install-dev
	$(BIN)/pytest

test: lint typecheck pytest

dictionary: install
	$(BIN)/rosetta-monitoring dictionary > docs/data-dictionary.md

clean:
	rm -rf $(VENV) .rosetta .pytest_cache .mypy_cache .ruff_cache
