# Two commands matter: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# uv installs exactly uv.lock. It lives beside the venv's packages, not among them, so
# that syncing the venv to the lock does not remove it; a new version gets a new folder.
UV_VERSION := 0.13.9
UV     := $(VENV)/.uv-$(UV_VERSION)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint typecheck schemas completions bench clean lock

# pip fetches uv: the interpreter's own pip, else the one ensurepip puts in the venv.
$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	if $(PYTHON) -m pip --version >/dev/null 2>&1; then pip="$(PYTHON) -m pip"; \
	else $(BIN)/python -m ensurepip --default-pip >/dev/null && pip="$(BIN)/python -m pip"; fi; \
	$$pip install --quiet --disable-pip-version-check --root-user-action=ignore \
		--target $(VENV)/.uv-$(UV_VERSION) uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	@$(UV) lock --check --quiet || { \
		echo "error: uv.lock does not match pyproject.toml; run 'make lock' and commit uv.lock" >&2; \
		exit 1; }
	$(UV) sync --frozen --extra dev --quiet
	touch $(STAMP)

# Re-resolve after editing dependencies in pyproject.toml; commit the new uv.lock.
lock: | $(UV)
	$(UV) lock

# The digest with publish=true: every step runs, the newsroom team's last.
demo: $(STAMP)
	$(BIN)/agentgo validate manifests/examples
	cd manifests/examples && ../../$(BIN)/agentgo run workflows/research-digest.yaml -i publish=true
	cd manifests/examples && ../../$(BIN)/agentgo jobs list --limit 3

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

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
	$(BIN)/python bench/serve_http.py
	$(BIN)/python bench/a2a_http.py
	$(BIN)/python bench/trace_overhead.py
	$(BIN)/python bench/team_overhead.py
	$(BIN)/python bench/todo_claims.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
