# The two commands a new user needs:  make run   and   make test
# Both create .venv, install the hash-locked requirements and, unless DATABASE_URL /
# REDIS_URL are set, start an embedded PostgreSQL and Redis with data under var/.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
WITH_SERVICES := $(PY) -m crm.devservices exec --
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench messages makemessages migrate lock clean help

help:
	@echo "make run    - start the CRM at http://$(HOST):$(PORT) with a Celery worker and beat (Ctrl-C stops all)"
	@echo "make test   - lint, then the whole test suite against real PostgreSQL and Redis"
	@echo "make bench  - the benchmark suite (README.md, Benchmarks)"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

# Re-lock after editing requirements/*.in: requirements.txt (runtime, the image) and
# requirements-dev.txt (everything, the same runtime versions), every file's hash included.
LOCK := $(VENV)/bin/uv pip compile --universal --python-version 3.11 --generate-hashes --quiet --custom-compile-command "make lock"
lock: $(VENV)/.installed
	$(LOCK) requirements/runtime.in -o requirements.txt
	$(LOCK) requirements/dev.in -o requirements-dev.txt

messages: $(VENV)/.installed
	$(VENV)/bin/pybabel compile --statistics -d locale -D django

run: $(VENV)/.installed messages
	HOST=$(HOST) PORT=$(PORT) $(WITH_SERVICES) sh -c '\
		$(PY) manage.py migrate --noinput && \
		$(PY) manage.py seed_demo && \
		exec $(VENV)/bin/honcho -f Procfile.dev start'

test: $(VENV)/.installed messages lint
	$(WITH_SERVICES) $(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(VENV)/.installed messages
	$(WITH_SERVICES) $(PY) -m bench $(BENCH_ARGS)

# Refresh locale/zh_Hans/LC_MESSAGES/django.po from the code and templates (tests and
# benchmarks are not UI). The JavaScript takes its texts from data-* attributes that the
# templates translate, so there is no djangojs catalogue.
makemessages: $(VENV)/.installed
	$(WITH_SERVICES) $(PY) manage.py makemessages --locale zh_Hans --no-obsolete \
		--ignore '.venv/*' --ignore 'var*/*' --ignore 'tests/*' --ignore 'bench/*'

clean:
	rm -rf $(VENV) var/static
