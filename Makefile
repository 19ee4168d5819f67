# Two commands do all the set-up on a fresh machine:
#   make demo   installs the project in .venv and runs the demo
#   make test   installs the project and its dev tools in .venv, then lints, type-checks, runs the tests
#               and checks the infrastructure code
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Every transitive version is pinned here; pyproject.toml pins the direct ones.
CONSTRAINTS := constraints.txt

IAC_VENV ?= .venv-iac
IAC_BIN := $(IAC_VENV)/bin

.PHONY: demo test lint typecheck pytest install install-dev dictionary iac clean

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

test: lint typecheck pytest iac

# Infrastructure checks in a venv of their own (checkov's dependencies must not touch the runtime set):
# Terraform parses, every handler it names exists, the Glue tables are current, checkov is clean.
$(IAC_VENV)/.installed: infra/requirements-iac.txt
	$(PYTHON) -m venv $(IAC_VENV)
	$(IAC_BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(IAC_BIN)/pip install --quiet -r infra/requirements-iac.txt
	touch $@

iac: install $(IAC_VENV)/.installed
	$(IAC_BIN)/python infra/check.py --project-python $(BIN)/python
	$(IAC_BIN)/checkov -d infra/terraform --config-file infra/checkov.yaml --quiet --compact

dictionary: install
	$(BIN)/rosetta-monitoring dictionary > docs/data-dictionary.md

clean:
	rm -rf $(VENV) $(IAC_VENV) .rosetta .pytest_cache .mypy_cache .ruff_cache
