# DockerForge. `make run` starts the whole portal; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
RUN_ID ?= $(shell $(PYTHON) -c 'import uuid; print(uuid.uuid4().hex[:8])')
PORT ?= 8000
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# This machine's pip configuration names local indexes that may be absent: hide that noise.
QUIET_PIP := 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }

.PHONY: run test test-fast lint bench services venv migrate admin clean

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements-dev.txt $(QUIET_PIP)
	$(PIP) install -q --no-deps -e . $(QUIET_PIP)
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

admin: migrate
	$(PY) manage.py bootstrap_admin

# The portal: daphne (HTTP + WebSockets), a Celery worker and Celery beat, under honcho.
# Redis is started from var/ when REDIS_URL is unset and redis-server is installed.
run: admin
	$(PY) manage.py collectstatic --noinput -v0
	@PORT=$(PORT) bash scripts/run.sh

# The whole suite. Services (Docker engine, Redis, PostgreSQL) come from scripts/services.sh;
# DATABASE_URL picks the lane (SQLite by default).
test: venv
	DOCKERFORGE_RUN_ID=$(RUN_ID) $(PY) -m pytest $(PYTEST_ARGS)

# The SQLite lane of CI: everything but the docker, e2e and slow tests.
test-fast: venv
	DOCKERFORGE_RUN_ID=$(RUN_ID) $(PY) -m pytest -m "not docker and not e2e and not slow" $(PYTEST_ARGS)

services:
	bash scripts/services.sh

lint: venv
	$(VENV)/bin/ruff check .

bench: venv
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache
