# qsort: two commands on a fresh Debian/Ubuntu machine.
#   make run   - install, migrate, seed the demo once, serve http://127.0.0.1:8000
#   make test  - install, make sure PostgreSQL, Redis and Chromium are there, run every test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# Tests always talk to real services; these defaults match the machine's local ones.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/qsort
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0
# pytest-xdist processes, each with its own test database and Celery queue. Three on 2 cores: the
# browser tests wait on Chromium and the live server, so one per core left the CPUs idle (587 s
# with 2, once), while a fourth adds its start-up and contention to a machine already 98 % busy
# (2026-12-01, quiet: 168 s with 3, 176-183 s with 4). worksteal: a process that runs out takes
# queued tests from the others, so the long browser tests do not end on one process.
TEST_PROCESSES ?= 3

.PHONY: run test screenshots install install-dev services typecheck lint format check-deploy benchmarks worker clean

# `make run` needs only the runtime packages; `make test` adds the test and lint tools on top.
$(BIN)/.installed-runtime: requirements.txt
	@test -x $(BIN)/pip || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); } || { rm -rf $(VENV); \
		echo "Could not create $(VENV): on Debian/Ubuntu, apt-get install python3-venv first." >&2; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(BIN)/.installed-dev: $(BIN)/.installed-runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(BIN)/.installed-runtime

install-dev: $(BIN)/.installed-dev

run: install
	$(BIN)/python scripts/ensure_database.py
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	@# The demo account exists in development only; seed_demo prints its password when it creates it.
	@if [ "$${DEBUG:-1}" != 0 ]; then DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo; fi
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
		echo "Starting a Celery worker on $$CELERY_BROKER_URL"; \
		DEBUG=$${DEBUG:-1} OPENBLAS_NUM_THREADS=1 $(BIN)/celery -A qsort worker -B -s var/celerybeat-schedule --loglevel=INFO --concurrency=2 & \
	fi; \
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# One BLAS thread per worker process (see docker-compose.yml). -B runs beat, whose sweep re-sends
# runs lost with a broker outage and takes over a killed worker's run: run exactly one beat.
worker: install
	OPENBLAS_NUM_THREADS=1 $(BIN)/celery -A qsort worker -B -s var/celerybeat-schedule --loglevel=INFO

services:
	@bash scripts/ensure-services.sh

# PYTHONDONTWRITEBYTECODE is emptied: where a machine sets it, every test process, worker and
# manage.py it starts would compile the project (and pytest rewrite the test modules) again.
test: install-dev services
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
	SECURE_HTTPS=0 DEBUG=0 PYTHONDONTWRITEBYTECODE= \
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist worksteal $(ARGS)

# The browser tests, saving a PNG of each page they visit under screenshots/ (git-ignored).
screenshots: install-dev services
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
	SECURE_HTTPS=0 DEBUG=0 SCREENSHOTS=1 \
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist worksteal tests/browser $(ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The whole package with django-stubs and djangorestframework-stubs; the pure engine
# (qsort/analysis) strict. See [tool.mypy] in pyproject.toml.
typecheck: install-dev
	$(BIN)/mypy qsort

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `check --deploy` with production-like values: must report nothing.
check-deploy: install
	DEBUG=0 SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \
	ALLOWED_HOSTS=qsort.example.org SITE_URL=https://qsort.example.org \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

# Each script prints its figures; the Django ones work in a throw-away database.
benchmarks: install-dev services
	$(BIN)/python benchmarks/analysis.py
	@for script in participate phone workspace runs exchange; do \
		echo "== benchmarks/$$script.py"; \
		DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
		$(BIN)/python benchmarks/$$script.py || exit 1; \
	done

# Backups of the PostgreSQL database in DATABASE_URL, in pg_dump's custom format (compressed,
# restorable whole or table by table). They hold everything participants gave: the files are
# readable by their owner only (umask 077); keep them encrypted and off this machine.
#   make backup                          -> var/backups/qsort-<UTC time>.dump (or BACKUP=path)
#   make restore BACKUP=var/backups/...  -> creates the database if missing, replaces its contents
BACKUP_DIR ?= var/backups
backup:
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL=postgres://... (the database to back up)"; exit 1; }
	@umask 077 && mkdir -p $(BACKUP_DIR) && file=$${BACKUP:-$(BACKUP_DIR)/qsort-$$(date -u +%Y%m%dT%H%M%SZ).dump} && \
		pg_dump --format=custom --no-owner --no-privileges --file="$$file" "$$DATABASE_URL" && \
		echo "Backed up to $$file"

restore:
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL=postgres://... (the database to restore into)"; exit 1; }
	@test -f "$(BACKUP)" || { echo "Name the backup: make restore BACKUP=var/backups/qsort-....dump"; exit 1; }
	$(BIN)/python scripts/ensure_database.py
	pg_restore --clean --if-exists --no-owner --no-privileges --exit-on-error --single-transaction \
		--dbname="$$DATABASE_URL" "$(BACKUP)"
	@echo "Restored $(BACKUP)"

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
