# 社工 Shegong — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-pg test-browser test-fuzz lint bench bench-compliance install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(APP_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $(APP_STAMP)

$(TEST_STAMP): $(APP_STAMP)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(TEST_STAMP)

install: $(APP_STAMP)

run: $(APP_STAMP)
	mkdir -p var
	$(BIN)/shegong migrate --noinput -v 0
	$(BIN)/shegong demo --if-empty
	$(BIN)/shegong serve --port $${PORT:-8000}

test: $(TEST_STAMP)
	$(BIN)/pytest -n auto

test-pg: $(TEST_STAMP)
	DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test $(BIN)/pytest -n auto

test-browser: $(TEST_STAMP)
	$(BIN)/pytest -m browser tests/browser

test-fuzz: $(TEST_STAMP)
	$(BIN)/pytest -n auto -m schemathesis tests/schemathesis

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy shegong config
	$(BIN)/lint-imports --no-cache
	@out="$$($(BIN)/radon cc --min D --show-complexity --exclude '*/migrations/*' shegong)"; \
	if [ -n "$$out" ]; then echo "radon: functions worse than grade C:"; echo "$$out"; exit 1; fi

bench: $(TEST_STAMP)
	$(BIN)/python bench/pages.py

bench-compliance: $(TEST_STAMP)
	$(BIN)/python bench/compliance_bench.py --reuse

clean:
	rm -rf $(VENV) var/static
