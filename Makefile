# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= config/newswatch.yaml

.PHONY: run test lint bench clean constraints

$(BIN)/newswatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# bytecode of our own modules: an editable install has none, and with
	# PYTHONDONTWRITEBYTECODE set every command would compile them all at its start
	$(BIN)/python -m compileall -q daemon/newswatch
	touch $@

run: $(BIN)/newswatch
	$(BIN)/newswatch --config $(CONFIG) run

lint: $(BIN)/newswatch
	$(BIN)/ruff check daemon tests bench
	$(BIN)/ruff format --check daemon tests bench
	$(BIN)/mypy

# Four test processes on two cores: most tests wait on a daemon, a server or a subprocess.
# One test at a time to each, slow ones first (tests/conftest.py), so all end together.
test: lint
	$(BIN)/pytest -q -n 4 --maxschedchunk 1

bench: $(BIN)/newswatch
	$(BIN)/python bench/bench_ingest.py
	cd bench && ../$(BIN)/python bench_feed_ingest.py
	$(BIN)/python bench/bench_feeds.py
	$(BIN)/python bench/bench_match.py

# The versions deploy/install.sh and the Dockerfile install (run after changing dependencies).
constraints: $(BIN)/newswatch
	$(BIN)/pip freeze --exclude-editable --local | grep -v '^newswatch' > deploy/constraints.txt

clean:
	rm -rf $(VENV) state .pytest_cache .mypy_cache .ruff_cache
