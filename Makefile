# The two commands a newcomer needs: `make run` (the whole local stack) and `make test` (linters + all tests).
# Each installs what it needs into .venv first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell scripts/find-python.sh)
PYTHON313 := $(shell scripts/find-python.sh 3.13 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
empty :=
space := $(empty) $(empty)
FUNCTION_DIRS := $(wildcard $(CURDIR)/functions/*)
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/shared:$(CURDIR)/sandbox:$(subst $(space),:,$(FUNCTION_DIRS))
export AWS_DEFAULT_REGION ?= eu-north-1
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

COMPANY ?= demo-company
ROLE ?= owner
PLAN ?= team
PYTEST_ARGS ?=

.PHONY: help install run sandbox token lint checkov build openapi openapi-check test test-fast test-browser browser bench redrive clean

help:
	@echo "make run      - start the local stack (API on http://127.0.0.1:$${PORT:-3000}, web page at /app/, /docs, demo data)"
	@echo "               SMARTACCOUNTS_API_URL=<url> make run: use that SmartAccounts instead of the sandbox"
	@echo "make test     - install, lint (ruff, cfn-lint, sam validate --lint), sam build, run every test"
	@echo "make test-browser - only the browser tier (web page in Chromium; installs Chromium when missing)"
	@echo "make sandbox  - start the SmartAccounts sandbox alone on http://127.0.0.1:$${SANDBOX_PORT:-8765}"
	@echo "make token COMPANY=<id> ROLE=<owner|admin|member> PLAN=<free|team|elite> - print a dev JWT"
	@echo "make openapi  - write docs/openapi.json from the code"
	@echo "make bench    - run the benchmarks under bench/"
	@echo "make redrive DLQ=<url|name> [TO=<url|name>] [ENDPOINT=<url>] [ARGS=--list] - move dead letters back after a fix"

$(STAMP): requirements-dev.txt layers/shared/requirements.txt
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required" >&2; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip >/dev/null
	@$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@

install: $(STAMP)

run: install
	@$(BIN)/python -m local_stack

sandbox: install
	@$(BIN)/python -m sa_sandbox

token: install
	@$(BIN)/python -m local_stack.tokens --company "$(COMPANY)" --role "$(ROLE)" --plan "$(PLAN)"

lint: install
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint --template template.yaml

build: install
	@test -n "$(PYTHON313)" || { echo "sam build needs Python 3.13 on this machine (pyenv install 3.13)" >&2; exit 1; }
	PATH="$(dir $(PYTHON313)):$$PATH" $(BIN)/sam build --template template.yaml --build-dir .aws-sam/build

CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required" >&2; exit 1; }
	@$(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/pip install -q -r requirements-checkov.txt
	@touch $@

# Every failed check is fixed or skipped in template.yaml with a one-line reason (Metadata: checkov: skip).
checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

openapi: install
	@$(BIN)/python -m smartaccounts_sync.api.openapi > docs/openapi.json
	@echo "wrote docs/openapi.json"

openapi-check: install
	@$(BIN)/python -m smartaccounts_sync.api.openapi | diff -u docs/openapi.json - \
		|| { echo "docs/openapi.json is stale: run 'make openapi' and commit it" >&2; exit 1; }

# build runs before pytest: tests/build checks the SharedLayer exactly as `sam build` ships it
test: lint checkov openapi-check build browser
	REQUIRE_BUILT_LAYER=1 $(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# The browser tier drives the system's Chromium; this installs the Debian package when it is missing.
browser:
	@scripts/ensure-chromium.sh

test-browser: install browser
	$(BIN)/python -m pytest tests/browser -m browser -q $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest tests/unit -q $(PYTEST_ARGS)

bench: install
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python "$$script" || exit 1; done

redrive: install
	@test -n "$(DLQ)" || { echo "usage: make redrive DLQ=<dead-letter queue url or name> [TO=...] [ENDPOINT=...] [ARGS=--list]" >&2; exit 1; }
	@$(BIN)/python scripts/redrive.py --from "$(DLQ)" $(if $(TO),--to "$(TO)") $(if $(ENDPOINT),--endpoint-url "$(ENDPOINT)") $(ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .ruff_cache
