# Two commands on a fresh machine: `make run` and `make test`.
# .venv's interpreter: the distribution's python3 where it is 3.11 or later and can make
# a venv, else python3 from PATH (`make PYTHON=...` chooses). On Debian that is the one
# deploy/install.sh builds the service on (sudo's PATH), so the tests run on what is
# deployed; built with PGO and LTO, it also runs a cold pass ~10% and a steady one ~25%
# faster than pyenv's default build (bench/README.md, "Session 29").
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo $(SYSTEM_PYTHON) || echo python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= config/newswatch.yaml

.PHONY: run test lint bench clean constraints bytecode

$(BIN)/newswatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Bytecode of our own modules, brought up to date before each use: an editable install
# has none, and with PYTHONDONTWRITEBYTECODE set (as on these machines) every command
# would otherwise compile each module changed since at its start (~0.1 s when up to date).
bytecode: $(BIN)/newswatch
	$(BIN)/python -m compileall -q daemon/newswatch

run: bytecode
	$(BIN)/newswatch --config $(CONFIG) run

lint: bytecode
	$(BIN)/ruff check daemon tests bench
	$(BIN)/ruff format --check daemon tests bench
	$(BIN)/mypy

# Four test processes on two cores: most tests wait on a daemon, a server or a subprocess.
# One test at a time to each, slow ones first (tests/conftest.py), so all end together.
# pytest keeps its assertion-rewritten test modules as bytecode, but not with
# PYTHONDONTWRITEBYTECODE set: then each of the four rewrote all of them (~4 s of CPU
# each, a tenth of the suite's). One collection first writes them for the four to read.
test: lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q --collect-only -p no:xdist > /dev/null
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
