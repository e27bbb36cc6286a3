# The two commands: `make run` and `make test`. Everything else is for people and CI alike.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv assets messages run test screenshots beat lint fmt typecheck schema schema-check migrations-check check bench load worker seed clean

help:
	@echo "make run     set everything up, start the sandbox (:8100) and the wallet (:8000)"
	@echo "make test    the whole test suite"
	@echo "make lint | fmt | typecheck | schema | check | bench | load | worker | seed"

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

# Dev-only keys and secrets in var/dev.env: written once, completed when a newer version
# needs more; existing keys never change. Then the dev receipt-signing key it names (needs the venv).
venv: $(STAMP) assets
	@$(PYTHON) scripts/devinit.py
	@$(PY) scripts/devkeys.py
	@$(PY) scripts/compilemessages.py

# The Helsinki Design System's CSS (served by the wallet itself) and axe-core (for the browser
# tests), exact versions from package.json. Without npm the pages work unstyled; a check warns.
assets: node_modules/.installed

node_modules/.installed: package.json
	@if command -v npm >/dev/null; then \
	  npm install --no-package-lock --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the pages will be unstyled (install Node.js and run make assets)"; fi

# Finnish and Swedish catalogues from the code's strings (needs GNU gettext's xgettext); the
# .mo files are compiled by `make venv` without it. `make messages APP=consent`: one app only.
I18N_APPS := wallet consent connectors
APP ?=
messages: venv
	$(PY) manage.py makemessages -l fi -l sv --no-obsolete $(foreach d,.venv node_modules sandbox tests bench scripts var staticfiles $(if $(APP),$(filter-out $(APP),$(I18N_APPS))),-i "$(d)/*")
	@$(PY) scripts/compilemessages.py

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py migrate --noinput --database keys
	$(PY) -m sandbox migrate --noinput
	$(PY) -m sandbox seed
	$(PY) manage.py seed_demo_services
	$(PY) manage.py collectstatic --noinput -v0
	bash scripts/run.sh

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

# docs/screenshots/<page>-<lang>.png: every page of tests/browser/pages.py in fi, sv and en at
# desktop width, full page, through Chromium at /usr/bin/chromium (CHROMIUM_PATH) against a live
# wallet and the sandbox that the pytest run starts itself (tests marked `screenshots`, which
# skip unless SCREENSHOTS_DIR is set; here, without Chromium, they fail).
screenshots: venv
	SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest -q -m screenshots tests/browser

# ruff, then the architecture contracts of pyproject.toml's [tool.importlinter] (the core imports
# no app, the apps are independent, the sandbox stands apart).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: venv
	$(VENV)/bin/mypy wallet connectors consent

schema: venv
	$(PY) manage.py graphql_schema --out schema.graphql

# The committed schema.graphql must match the code.
schema-check: venv
	$(PY) manage.py graphql_schema --out var/schema.check.graphql >/dev/null
	diff -u schema.graphql var/schema.check.graphql

migrations-check: venv
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m sandbox makemigrations --check --dry-run

check: migrations-check schema-check
	$(PY) manage.py check

# Every benchmark (`consent` needs PostgreSQL, `workers` Redis: BENCH_DATABASE_URL, BENCH_BROKER_URL),
# then docs/benchmarks.md written from the results. `make bench BENCH_ARGS=--quick`: small sizes, a
# smoke test, its page in var/bench/benchmarks.quick.md. `BENCH_ARGS="--only me"`: one, its JSON.
bench: venv
	BENCH_MAKE_COMMAND='make bench$(if $(BENCH_ARGS), BENCH_ARGS="$(BENCH_ARGS)")' $(PY) -m bench $(BENCH_ARGS)

# 50 locust clients for 60 s against the wallet under gunicorn and PostgreSQL (BENCH_DATABASE_URL),
# with a sandbox, all on loopback ports it starts and stops itself: citizens' `me` reads and
# `syncMyData`, a service's `citizenData` reads. Fails on any error; writes the load section of
# docs/benchmarks.md. `make load LOAD_ARGS="--seconds 10 --users 5 --citizens 300"`: a smoke
# test, its section in var/bench/load.quick.md.
load: venv
	LOAD_MAKE_COMMAND='make load$(if $(LOAD_ARGS), LOAD_ARGS="$(LOAD_ARGS)")' $(PY) -m bench.load $(LOAD_ARGS)

worker: venv
	$(VENV)/bin/celery -A wallet worker --loglevel=INFO --concurrency=2

beat: venv
	$(VENV)/bin/celery -A wallet beat --loglevel=INFO --schedule var/celerybeat-schedule

# `make seed CITIZENS=N`: N more people upstream (up to 100,000) and their wallets.
CITIZENS ?= 0
seed: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py migrate --noinput --database keys
	$(PY) -m sandbox migrate --noinput
	$(PY) -m sandbox seed --citizens $(CITIZENS)
	$(PY) -m bench.seed_wallets --citizens $(CITIZENS)

clean:
	rm -rf $(VENV) var staticfiles node_modules .pytest_cache .ruff_cache .mypy_cache .hypothesis
