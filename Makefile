# smb_pipeline: `make demo` and `make test` work on a fresh machine (Python 3.10+ and Java 17).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WORKDIR ?= ./demo
BENCH_ROWS ?= 10000000
PYTEST_ARGS ?=

.PHONY: setup demo test test-fast perf-check test-system check lint bench bench-scale clean chromium

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[spark,connect,dev,bench]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/smb-pipeline demo --workdir $(WORKDIR)

# Everything in one Spark session: transforms, formats, end-to-end runs, plans, failures.
test: $(STAMP) chromium
	$(BIN)/pytest -m "not system and not perf" $(PYTEST_ARGS)

# The pure-Python tests alone (config, CLI parsing, helpers), in seconds: no Spark session.
test-fast: $(STAMP)
	$(BIN)/pytest -m "not spark and not perf" $(PYTEST_ARGS)

# Engine-version details: generated-code sizes and exact plan strings of this Spark release. They guard
# the speed measured by `make bench`, and may need new expectations after a Spark upgrade.
perf-check: $(STAMP)
	$(BIN)/pytest -m perf $(PYTEST_ARGS)

# What starts other processes: CLI runs with real signals and concurrent runs, a standalone
# cluster, the Thrift server, a wheel installed elsewhere, the notebook (about 15 min; CI runs it).
test-system: $(STAMP)
	$(BIN)/pytest -m "system and not perf" $(PYTEST_ARGS)

# The report test renders the HTML page in headless Chromium (Debian's package); as root, install it when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the report rendering test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

check: lint test test-system

# The job vs. a native Spark peer, the lean floor and DuckDB, each Spark variant in a fresh JVM then warm.
bench: $(STAMP)
	BENCH_ROWS=$(BENCH_ROWS) $(BIN)/python -m bench.run
	$(MAKE) perf-check

# 10M and 50M rows (BENCH_SCALE_ROWS), then each variant's marginal cost per 10M rows.
bench-scale: $(STAMP)
	$(BIN)/python -m bench.run --scale

clean:
	rm -rf $(VENV) demo spark-warehouse metastore_db derby.log .pytest_cache
