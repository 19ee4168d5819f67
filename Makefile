# Two commands do all the set-up on a fresh machine:
#   make demo   installs the project in .venv and runs the demo
#   make test   installs the project and its dev tools in .venv, then lints, type-checks, runs the tests,
#               checks the infrastructure code and checks the Backstage plugin (npm ci, jest, e2e in Chromium)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Every transitive version is pinned here; pyproject.toml pins the direct ones.
CONSTRAINTS := constraints.txt

IAC_VENV ?= .venv-iac
IAC_BIN := $(IAC_VENV)/bin

PLUGIN_DEPS := plugins/rosetta-monitoring/node_modules/.installed
PLUGIN_DEPS_LOG := .plugin-deps.log

.PHONY: demo test lint typecheck pytest install install-dev dictionary openapi iac plugin plugin-deps clean

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

# The 20 slowest tests close the report: where a test run's time goes, in every CI log.
pytest: install-dev
	$(BIN)/pytest -n auto --dist loadscope --durations=20

# The plugin's npm packages and chromium are fetched while the Python checks run: the downloads wait on the network,
# the tests on the cores. What the fetch printed comes after the checks' own output.
test:
	@$(MAKE) --no-print-directory plugin-deps > $(PLUGIN_DEPS_LOG) 2>&1 & fetch=$$!; \
	$(MAKE) --no-print-directory lint typecheck pytest iac; checks=$$?; \
	wait $$fetch; fetched=$$?; cat $(PLUGIN_DEPS_LOG); rm -f $(PLUGIN_DEPS_LOG); \
	if [ $$checks -ne 0 ]; then exit $$checks; fi; \
	if [ $$fetched -ne 0 ]; then echo "the plugin's npm packages or chromium could not be installed" >&2; exit $$fetched; fi; \
	$(MAKE) --no-print-directory plugin

# Infrastructure checks in a venv of their own (checkov's dependencies must not touch the runtime set):
# Terraform parses, every handler it names exists, the API function gets what it reads, the README names existing
# variables and outputs, the gateway opens only the app's open routes, the image build suits Lambda, the Glue tables
# are current, checkov is clean.
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

openapi: install
	$(BIN)/rosetta-monitoring openapi > docs/openapi.json

# The Backstage plugin: npm ci (pinned lockfile), type-check, API types current with docs/openapi.json, jest,
# build, then the dev app against the demo's API in headless Chromium (Debian's, installed when missing).
plugin: install-dev
	bash plugins/rosetta-monitoring/scripts/ci.sh

$(PLUGIN_DEPS): plugins/rosetta-monitoring/package-lock.json
	bash plugins/rosetta-monitoring/scripts/install-deps.sh

plugin-deps: $(PLUGIN_DEPS)

clean:
	rm -rf $(VENV) $(IAC_VENV) .rosetta .pytest_cache .mypy_cache .ruff_cache plugins/*/node_modules
