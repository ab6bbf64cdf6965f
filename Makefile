# The README's commands. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
PORT ?= 5000
export FLASK_APP := wsgi
export PORT

.PHONY: install run test test-postgres lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "Serving the dashboard on http://127.0.0.1:$(PORT) (Zoom sandbox at /zoom-sandbox/)"
	LAKESIS_EMBEDDED_WORKER=1 $(FLASK) run --host 127.0.0.1 --port $(PORT) --no-reload

# The whole suite on SQLite (PostgreSQL-only tests, the fault run among them, use the local
# server); then, when TEST_DATABASE_URL names a PostgreSQL database, every database test
# again on it (the PostgreSQL-only ones have run already, on databases of their own).
test: install
	env -u TEST_DATABASE_URL $(PY) -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; fi

test-postgres: install
	$(PY) -m pytest -m "not browser and not postgres" --ignore=tests/sandbox --ignore=tests/unit

lint: install
	$(VENV)/bin/ruff check dashboard tests wsgi.py

bench: install
	$(PY) -m pytest tests/perf -p no:randomly -s -q -o addopts="" -o norecursedirs=""

clean:
	rm -rf $(VENV) instance/*.db
