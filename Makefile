# Backbone. Two commands: `make demo` and `make test`. Both set everything up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint fmt install browsers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml requirements/constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/backbone demo --port $${PORT:-8000}

browsers:
	@scripts/ensure-chromium

test: install browsers
	scripts/test

bench: install
	$(BIN)/python benchmarks/run.py

lint: install
	$(BIN)/ruff check backbone benchmarks
	$(BIN)/ruff format --check backbone benchmarks

fmt: install
	$(BIN)/ruff format backbone benchmarks
	$(BIN)/ruff check --fix backbone benchmarks

clean:
	rm -rf $(VENV) var
