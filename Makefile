# Palimpsest: `make run` sets up, indexes corpus/ and serves; `make test` installs and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install index clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

index: $(STAMP)
	$(BIN)/palimpsest index corpus --index-dir index

run: index
	$(BIN)/palimpsest serve --index-dir index --host 127.0.0.1 --port 8000

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
	$(BIN)/python bench/web_latency.py
	$(BIN)/python bench/diff_speed.py
	$(BIN)/python bench/extraction.py
	$(BIN)/python bench/reuse.py --study

clean:
	rm -rf $(VENV) index .pytest_cache .ruff_cache
