# Two commands matter: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck schemas completions bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/agentgo validate manifests/examples
	cd manifests/examples && ../../$(BIN)/agentgo run workflows/research-digest.yaml
	cd manifests/examples && ../../$(BIN)/agentgo jobs list --limit 3

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

schemas: $(STAMP)
	$(BIN)/agentgo schema export schemas/

completions: $(STAMP)
	for sh in bash zsh fish; do $(BIN)/agentgo completion $$sh > completions/agentgo.$$sh; done

bench: $(STAMP)
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/concurrent_jobs.py
	$(BIN)/python bench/call_lifecycle.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
