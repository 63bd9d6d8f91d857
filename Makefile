# Librarian: the two commands are `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements-dev.lock
# Test workers (pytest-xdist): one per core by default, each taking whole test files (an e2e module
# shares one bot process across its tests); `make test WORKERS=0` runs in one process.
WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider

.PHONY: install lock run index test test-solo lint format bench bench-smoke clean

install: $(STAMP)

# Exact versions from the lock file (runtime + dev), then the project itself without resolving again.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Re-resolve pyproject.toml's ranges into the two lock files (commit both); the next install uses them.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		-o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		--extra dev -o $(LOCK) pyproject.toml

# `bot.py index` exits 1 when some files failed (it lists them): the bot still starts on the rest.
run: install
	@test -f .env || cp .env.example .env
	$(BIN)/python bot.py index || test $$? -eq 1
	$(BIN)/python bot.py

index: install
	$(BIN)/python bot.py index

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# pytest's exit code 5 (no test collected) is a failure too, said in words.
test: lint
	@$(PYTEST) -n $(WORKERS) --dist loadfile; code=$$?; \
	if [ $$code -eq 5 ]; then echo "pytest collected no tests: nothing was checked" >&2; fi; exit $$code

# The suite as a clone without ../shared sees it (corpus and seeds tests skip, with the reason).
test-solo: install
	LIBRARIAN_SHARED_DIR=/nonexistent/shared $(PYTEST) -n $(WORKERS) --dist loadfile

bench: install
	$(BIN)/python -m bench.run

bench-smoke: install
	$(BIN)/python -m bench.run --smoke

clean:
	rm -rf $(VENV) data/*.db .pytest_cache
