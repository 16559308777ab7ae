# The two commands a newcomer needs: `make run` (serve the API) and `make test` (run every test).
# Both create .venv and install requirements.txt first; DATABASE_URL picks PostgreSQL, else SQLite.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install bench cluster cluster-down cluster-status

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

# Local cluster on loopback as root (deploy/cluster.py): the main PostgreSQL and a streaming replica
# (5434), Redis, gunicorn on 8001 and 8002, nginx on 8080. Run `up` again to restart what is down.
cluster: install
	$(BIN)/python deploy/cluster.py up

# Stops and removes all of it, the replica's slot too; keeps the database unless
# CLUSTER_ARGS=--drop-database.
cluster-down: install
	$(BIN)/python deploy/cluster.py down $(CLUSTER_ARGS)

# One line per part, with the replica's lag; fails if a part is down.
cluster-status: install
	$(BIN)/python deploy/cluster.py status
