# 社工 Shegong — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-pg test-browser lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(BIN)/shegong migrate --noinput -v 0
	$(BIN)/shegong demo --if-empty
	$(BIN)/shegong serve --port $${PORT:-8000}

test: $(STAMP)
	$(BIN)/pytest

test-pg: $(STAMP)
	DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test $(BIN)/pytest

test-browser: $(STAMP)
	$(BIN)/pytest -m browser tests/browser

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy shegong config

clean:
	rm -rf $(VENV) var/static
