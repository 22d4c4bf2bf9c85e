import { defineConfig } from "vitest/config"

/**
 * Tests that start dozens or hundreds of processes at once would starve each other (and any test
 * beside them) on a 2-core machine, so `make test` runs them in a second phase, one file at a time.
 * GAIT_TEST_PHASE=main|processes selects a phase; unset runs everything.
 *
 * `make test-hardening-acceptance` (scripts/test_hardening_acceptance.sh) runs its own two phases:
 * GAIT_TEST_PHASE=hardening (the acceptance set, in parallel) and hardening-processes (its
 * process-heavy part, one file at a time). test/hardening/** runs only there, not in `make test`.
 */
const PROCESS_HEAVY = [
  // Long runs of synchronous spawnSync: beside other files its worker can miss vitest's 60 s RPC timeout.
  "test/cli/session.test.ts",
  "test/telemetry/integrity.test.ts",
  "test/cli/session-durability.test.ts",
  "test/session/lock-processes.test.ts"
]

/**
 * The acceptance gates of the hardening contract: the new files plus existing files that already pin
 * a property. test/cli/session.test.ts is left out on purpose: its long runs of synchronous
 * spawnSync tests keep a worker's event loop busy for over a minute on a loaded 2-core machine, and
 * vitest then reports "Timeout calling onTaskUpdate" (its RPC timeout is 60 s), failing the run.
 * test/hardening/lock-contention.test.ts pins the same lock envelope with asynchronous processes.
 */
const HARDENING = [
  "test/hardening/**/*.test.ts",
  // 1. error taxonomy and the envelope
  "test/diagnostics/diagnostics.test.ts",
  "test/kernel/json-output.test.ts",
  // 2. atomic write, locked append
  "test/kernel/files.test.ts",
  "test/kernel/append.test.ts",
  // 3. lock contention, stale takeover
  "test/session/lock.test.ts",
  "test/session/lock-config.test.ts",
  // 5. serve boundary
  "test/serve/serve.test.ts",
  "test/serve/serve-limits.test.ts",
  "test/serve/serve-startup.test.ts",
  "test/mcp/serve-paths.test.ts",
  "test/retention/retention.test.ts",
  // 6. doctor production readiness
  "test/doctor/doctor.test.ts"
]
const HARDENING_PROCESSES = [
  "test/hardening/lock-contention.test.ts",
  "test/hardening/session-concurrency.test.ts",
  // 3./4. stale takeover races and concurrent appends between processes
  "test/session/lock-processes.test.ts"
]

const phase = process.env.GAIT_TEST_PHASE

const includeOf = (p: string | undefined): Array<string> =>
  p === "processes" ? PROCESS_HEAVY : p === "hardening" ? HARDENING : p === "hardening-processes" ? HARDENING_PROCESSES : ["test/**/*.test.ts"]

const excludeOf = (p: string | undefined): Array<string> =>
  p === "main"
    ? ["**/node_modules/**", ...PROCESS_HEAVY, "test/hardening/**"]
    : p === "hardening"
      ? ["**/node_modules/**", ...HARDENING_PROCESSES]
      : ["**/node_modules/**"]

export default defineConfig({
  test: {
    include: includeOf(phase),
    exclude: excludeOf(phase),
    fileParallelism: phase !== "processes" && phase !== "hardening-processes",
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ["test/global-setup.ts"]
  }
})
