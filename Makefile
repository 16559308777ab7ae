# The two commands a newcomer needs: `make run` (serve the API) and `make test` (run every test).
# Both create .venv and install requirements.txt first; DATABASE_URL picks PostgreSQL, else SQLite.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# Local development: DEBUG on (so no SECRET_KEY is needed) unless the environment says otherwise.
run: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The apps' layers first (.importlinter: no import runs back up), then every test.
test: install
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Benchmark (bench/run.py): PostgreSQL on 127.0.0.1, wrk; BENCH_ARGS="--sizes 10k,100k,1m" etc.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)
