# Palimpsest: `make run` sets up, indexes corpus/ and serves; `make test` installs and tests.
# `make run PORT=8001 HOST=0.0.0.0` serves elsewhere.
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench torture install index clean screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

index: $(STAMP)
	$(BIN)/palimpsest index corpus --index-dir index

run: index
	$(BIN)/palimpsest serve --index-dir index --host $(HOST) --port $(PORT)

# Pictures of every page at desktop and phone widths, for the README (needs Chromium).
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots/take.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/language_choice.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/ranking_study.py
	$(BIN)/python bench/search_latency.py
	$(BIN)/python bench/engine_latency.py
	$(BIN)/python bench/cluster.py
	$(BIN)/python bench/web_latency.py
	$(BIN)/python bench/diff_speed.py
	$(BIN)/python bench/extraction.py
	$(BIN)/python bench/reuse.py --study

# The torture suite's long form (bench/torture/, issue 17): 40-60 minutes on 2 cores.
torture: $(STAMP)
	mkdir -p bench/work
	$(BIN)/python -m bench.torture --long --out bench/work/torture.json

clean:
	rm -rf $(VENV) index .pytest_cache .ruff_cache
