# Inbox: two commands.
#   make run    set up (virtualenv, requirements, database, VAPID keys, demo data, static files)
#               and serve the demo site at http://127.0.0.1:8000, with the task worker beside it
#   make test   set up the test requirements and Chromium when missing, and run every test
# Both need Python 3.12+ (3.13 preferred, see .python-version); they install everything else.

SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run test lint bench lock clean

run: $(VENV)/.requirements
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py generate_vapid_keys --if-missing
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	HOST=$(HOST) PORT=$(PORT) bash scripts/serve.sh

test: $(VENV)/.requirements-test
	bash scripts/test.sh

lint: $(VENV)/.requirements-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

bench: $(VENV)/.requirements-test
	bash bench/run.sh

# Recompile the pinned requirements after editing requirements*.in.
lock: $(VENV)/.requirements-test
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements-test.txt requirements-test.in

$(VENV)/bin/python:
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.12 or newer is needed (3.13 preferred); none was found on PATH." >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)

$(VENV)/.requirements: requirements.txt | $(VENV)/bin/python
	$(PIP) -r requirements.txt
	touch $@

$(VENV)/.requirements-test: requirements-test.txt $(VENV)/.requirements
	$(PIP) -r requirements-test.txt
	touch $@

clean:
	rm -rf $(VENV) staticfiles
