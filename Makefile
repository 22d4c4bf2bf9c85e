# gait — two commands on a fresh clone: `make demo` and `make test`.
SHELL := /bin/bash
NODE ?= node
NPM ?= npm
STAMP := node_modules/.install-stamp

.PHONY: all install build typecheck lint test demo bench bench-quick bench-budgets schemas clean \
	test-hardening-acceptance test-chaos test-session-soak release-check

all: build

# Install exactly what package-lock.json pins, whenever node_modules is missing or older than the lock.
$(STAMP): package-lock.json package.json
	$(NPM) ci --ignore-scripts --no-audit --no-fund
	@touch $(STAMP)

install: $(STAMP)

dist/gait.cjs: $(STAMP) $(shell find src -name '*.ts' 2>/dev/null) scripts/build.mjs
	$(NODE) scripts/build.mjs

build: dist/gait.cjs

typecheck: $(STAMP)
	$(NODE) node_modules/typescript/bin/tsc -p tsconfig.json --noEmit

lint: $(STAMP)
	node_modules/.bin/biome check --error-on-warnings .

# Two phases: the suite in parallel, then the process-heavy files one at a time (see vitest.config.ts).
test: typecheck lint
	@mkdir -p .tmp
	GAIT_TEST_PHASE=main node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-main.json
	GAIT_TEST_PHASE=processes node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-processes.json
	@$(NODE) scripts/test-summary.mjs .tmp/vitest-main.json .tmp/vitest-processes.json

demo: build
	@bash scripts/demo.sh

bench: build
	$(NODE) scripts/bench.mjs

bench-quick: build
	BENCH_QUICK=1 $(NODE) scripts/bench.mjs

# Release gates (see README "Release gates"). Each runs real processes against real files and servers.
test-hardening-acceptance: build
	bash scripts/test_hardening_acceptance.sh

test-chaos: build
	bash scripts/test_chaos.sh

test-session-soak: build
	bash scripts/test_session_soak.sh

bench-budgets: build
	$(NODE) scripts/check_command_budgets.mjs bin/gait.cjs .tmp/command_budget_report.json perf/runtime_slo_budgets.json

# All five gates in order, one line each with pass/fail and duration.
release-check: build
	bash scripts/release_check.sh

schemas: $(STAMP)
	UPDATE_SCHEMAS=1 node_modules/.bin/vitest run test/library/schemas.test.ts

clean:
	rm -rf dist .tmp
