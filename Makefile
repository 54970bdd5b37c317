# Yieldledger — the two commands: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests use the real services; override either variable to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/yieldledger
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
PYTEST_ARGS ?=

# First Python >= 3.12 found on PATH or in pyenv (Django 6 needs 3.12).
FIND_PYTHON = for p in python3.13 python3.12 python3 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	  "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$p"; exit 0; }; done; \
	  echo "Python 3.12 or newer is required" >&2; exit 1

.PHONY: run test install install-dev node migrate demo worker beat lint format system-deps clean

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || "$$( $(FIND_PYTHON) )" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Test-only npm packages (package-lock.json): a local Ethereum node (anvil) and
## the compiled Uniswap / OpenZeppelin contracts for the wallet-sync tests.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm (Node.js 20+) is needed for the wallet tests: install nodejs and npm" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

node: node_modules/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

## make run: install, migrate, load demo data and serve on http://127.0.0.1:8000
##           (embedded default: SQLite, tasks in process, no other service).
run: demo
	@echo "Serving on http://$(HOST):$(PORT)/"
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver $(HOST):$(PORT)

## Headless Chromium for the browser tests (Debian package; needs root or sudo).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "Installing Debian chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

lint: install-dev
	$(PY) -m ruff check .

## Type checking: mypy with the Django and DRF plugins over the whole project ([tool.mypy] in pyproject.toml).
.PHONY: typecheck
typecheck: install-dev
	$(PY) -m mypy

format: install-dev
	$(PY) -m ruff check --fix . && $(PY) -m ruff format .

## make test: the whole suite against PostgreSQL and Redis (real services).
test: install-dev node system-deps lint typecheck
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  $(PY) -m pytest $(PYTEST_ARGS)

## Worker and beat against Redis (set REDIS_URL and DATABASE_URL first).
worker: install
	$(VENV)/bin/celery -A config worker -l info -Q default,slow

beat: install
	$(VENV)/bin/celery -A config beat -l info

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache

## make schema: regenerate the committed OpenAPI schema (docs/openapi.yaml) after an API change.
.PHONY: schema
schema: install
	# PostgreSQL, as the tests compare it: integer ranges differ on SQLite.
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml
