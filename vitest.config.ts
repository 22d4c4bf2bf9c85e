import { defineConfig } from "vitest/config"

/**
 * Tests that start dozens or hundreds of processes at once would starve each other (and any test
 * beside them) on a 2-core machine, so `make test` runs them in a second phase, one file at a time.
 * GAIT_TEST_PHASE=main|processes selects a phase; unset runs everything.
 */
const PROCESS_HEAVY = [
  "test/telemetry/integrity.test.ts",
  "test/cli/session-durability.test.ts",
  "test/session/lock-processes.test.ts"
]
const phase = process.env.GAIT_TEST_PHASE

export default defineConfig({
  test: {
    include: phase === "processes" ? PROCESS_HEAVY : ["test/**/*.test.ts"],
    exclude: phase === "main" ? ["**/node_modules/**", ...PROCESS_HEAVY] : ["**/node_modules/**"],
    fileParallelism: phase !== "processes",
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ["test/global-setup.ts"]
  }
})
