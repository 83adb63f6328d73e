# 社工 Shegong — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-pg test-browser test-fuzz lint bench bench-compliance bench-start install clean

# Each step of `make run` says what it does and, when done, how long it took (`make run` narrates, issue 11).
# $(call step,说明,命令): prints "==> 说明", runs the command, prints its time; stops on failure.
define step
	@printf '\n==> %s\n' "$(1)"; t0=$$(date +%s); $(2) && printf '    完成,用时 %s 秒\n' $$(( $$(date +%s) - t0 ))
endef

$(BIN)/python:
	$(call step,创建虚拟环境 $(VENV)(只在第一次),$(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --upgrade pip)

$(APP_STAMP): $(BIN)/python pyproject.toml
	$(call step,安装社工 Shegong 及其依赖(只在第一次或 pyproject.toml 变化后;可能需要几分钟),$(BIN)/pip install --quiet -e .)
	@touch $(APP_STAMP)

$(TEST_STAMP): $(APP_STAMP)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(TEST_STAMP)

install: $(APP_STAMP)

run: $(APP_STAMP)
	@mkdir -p var
	$(call step,迁移数据库(只应用新的迁移),$(BIN)/shegong migrate --noinput -v 0)
	$(call step,加载演示数据(数据库已有数据时跳过),$(BIN)/shegong demo --if-empty)
	@printf '\n==> 启动服务(静态文件只在变化后重新收集、压缩;其余步骤见下)\n'
	@$(BIN)/shegong serve --port $${PORT:-8000}

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

# Seconds until `shegong serve` answers: first start, restart with nothing changed, restart after a CSS file
# was touched (a throw-away var dir; goal: restart with nothing changed ≤ 3 s).
bench-start: $(APP_STAMP)
	$(BIN)/python bench/serve_start.py

clean:
	rm -rf $(VENV) var/static
