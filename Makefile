# gait — two commands on a fresh clone: `make demo` and `make test`.
SHELL := /bin/bash
NODE ?= node
NPM ?= npm
STAMP := node_modules/.install-stamp

.PHONY: all install build typecheck lint test demo bench bench-quick schemas clean

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

schemas: $(STAMP)
	UPDATE_SCHEMAS=1 node_modules/.bin/vitest run test/library/schemas.test.ts

clean:
	rm -rf dist .tmp
