// scripts/check_command_budgets.mjs (`make bench-budgets`) against the real CLI, with fast settings:
// one round over a few commands. It passes with loose budgets, fails on an impossible one, reports
// budgets for unknown commands and commands without one, and rejects bad budget files and usage.
import { spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { GAIT_BIN, REPO_ROOT, tempDir } from "../helpers/cli.js"

const CHECKER = path.join(REPO_ROOT, "scripts", "check_command_budgets.mjs")
const BUDGETS = path.join(REPO_ROOT, "perf", "runtime_slo_budgets.json")
const ALL_COMMANDS = [
  "doctor",
  "gate_eval_fs_delete",
  "gate_eval_fs_read",
  "gate_eval_fs_write",
  "gate_eval_net_dns",
  "gate_eval_net_http",
  "gate_eval_proc_exec",
  "mcp_proxy",
  "session_chain_verify",
  "session_checkpoint_emit"
]

interface Budget {
  p50_ms: number
  p95_ms: number
  p99_ms: number
  max_error_rate: number
  max_p50_ratio_to_node?: number
  expected_exit_code?: number
  notes?: string
}
interface BudgetFile {
  schema_id: string
  schema_version: string
  repeats: number
  notes?: unknown
  commands: Record<string, Budget>
}

const shippedBudgets = (): BudgetFile => JSON.parse(readFileSync(BUDGETS, "utf8")) as BudgetFile

/** The shipped budget file with every latency budget raised out of reach: only failures can fail it. */
const looseBudgets = (): BudgetFile => {
  const file = shippedBudgets()
  for (const budget of Object.values(file.commands)) {
    Object.assign(budget, { p50_ms: 60_000, p95_ms: 60_000, p99_ms: 60_000, max_p50_ratio_to_node: 1000 })
  }
  return file
}

/** Runs the checker without blocking the test worker (a blocked worker misses vitest's RPC deadlines). */
const runChecker = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [CHECKER, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("error", reject).on("close", (code) => resolve({ code, stdout, stderr }))
  })

const check = async (args: ReadonlyArray<string>, budgets?: unknown) => {
  const dir = tempDir("gait-budget-test-")
  const budgetFile = path.join(dir, "budgets.json")
  if (budgets !== undefined) writeFileSync(budgetFile, JSON.stringify(budgets))
  const report = path.join(dir, "out", "report.json")
  const r = await runChecker([...args, GAIT_BIN, report, budgetFile])
  return {
    ...r,
    reportExists: () => existsSync(report),
    report: () => JSON.parse(readFileSync(report, "utf8")) as Record<string, unknown> & { commands: Record<string, Record<string, unknown>> }
  }
}

describe("check_command_budgets.mjs", () => {
  it("ships a budget for every measured command, with at least 7 repeats and ordered percentiles", () => {
    const file = shippedBudgets()
    expect(file.schema_id).toBe("gait.perf.runtime_slo_budgets")
    expect(file.repeats).toBeGreaterThanOrEqual(7)
    expect(Object.keys(file.commands).sort()).toEqual(ALL_COMMANDS)
    for (const [name, b] of Object.entries(file.commands)) {
      expect(b.max_error_rate, name).toBe(0)
      expect(b.p50_ms, name).toBeLessThanOrEqual(b.p95_ms)
      expect(b.p95_ms, name).toBeLessThanOrEqual(b.p99_ms)
      expect(b.max_p50_ratio_to_node, name).toBeGreaterThan(1)
      expect(b.notes, name).toMatch(/measured/)
    }
  })

  it("passes and writes the report, with each p50 as a ratio to node -e 0 measured beside it", async () => {
    const subset = ["gate_eval_fs_delete", "mcp_proxy", "session_checkpoint_emit"]
    const r = await check(["--repeats", "1", "--only", subset.join(",")], looseBudgets())
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.trim().split("\n")
    expect(lines[lines.length - 1]).toBe("runtime SLO budget check passed")
    const measured = lines.filter((l) => / status=/.test(l))
    expect(measured.map((l) => l.split(":")[0])).toEqual(subset)
    for (const line of measured) {
      expect(line).toMatch(/^[a-z_]+: p50=\d+\.\dms p95=\d+\.\dms p99=\d+\.\dms error_rate=0\.000 ratio=\d+\.\d\d× status=ok$/)
    }

    const report = r.report()
    expect(report).toMatchObject({
      schema_id: "gait.perf.command_budget_report",
      schema_version: "2.0.0",
      repeats: 1,
      failures: [],
      capabilities: { session_checkpointing: true, delegation_tokens: false }
    })
    expect(report["budget_repeats"]).toBeGreaterThanOrEqual(7)
    const baseline = report["baseline"] as { command: Array<string>; samples_ms: Array<number>; p50_ms: number }
    expect(baseline.command).toEqual(["node", "-e", "0"])
    expect(baseline.samples_ms).toHaveLength(subset.length)
    expect(Object.keys(report.commands)).toEqual(subset)
    for (const name of subset) {
      const c = report.commands[name] as { samples_ms: Array<number>; p50_ms: number; p50_ratio_to_node: number }
      expect(c).toMatchObject({ attempts: 1, successes: 1, failures: 0, error_rate: 0, status: "ok", expected_exit_code: 0 })
      expect(c.samples_ms).toHaveLength(1)
      expect(c.p50_ms).toBe(c.samples_ms[0])
      expect(c.p50_ratio_to_node).toBeCloseTo(c.p50_ms / baseline.p50_ms, 1)
    }
    expect(report.commands["session_checkpoint_emit"]?.["pre_hook"]).toContain("append")
  })

  it("fails with exit 1 when a command is over its p50 budget or its ratio ceiling", async () => {
    const budgets = looseBudgets()
    Object.assign(budgets.commands["gate_eval_fs_read"] as Budget, { p50_ms: 0.001, max_p50_ratio_to_node: 0.01 })
    const r = await check(["--repeats", "1", "--only", "gate_eval_fs_read"], budgets)
    expect(r.code, r.stderr).toBe(1)
    expect(r.stdout).toMatch(/^gate_eval_fs_read: p50=.* status=over_budget$/m)
    expect(r.stdout).not.toContain("check passed")
    const lines = r.stderr.trim().split("\n")
    expect(lines[0]).toBe("runtime SLO budget check failed:")
    expect(lines[1]).toMatch(/^- gate_eval_fs_read: p50 \d+\.\dms > budget 0\.001ms \(node -e 0 beside it: p50=\d+\.\dms max=\d+\.\dms\)$/)
    expect(lines[2]).toMatch(/^- gate_eval_fs_read: p50 ratio to node -e 0 \d+\.\d\d× > max_p50_ratio_to_node 0\.01×$/)
    expect(lines).toHaveLength(3)
    const report = r.report()
    expect(report.commands["gate_eval_fs_read"]?.["status"]).toBe("over_budget")
    expect(report["failures"]).toHaveLength(2)
  })

  it("counts a command that exits non-zero as a failed attempt, with no samples", async () => {
    const dir = tempDir("gait-budget-fake-")
    const fake = path.join(dir, "fake-gait.cjs")
    writeFileSync(fake, `process.stdout.write('{"ok":false,"error":"boom"}\\n'); process.exit(3)\n`)
    const budgetFile = path.join(dir, "budgets.json")
    writeFileSync(budgetFile, JSON.stringify(looseBudgets()))
    const report = path.join(dir, "report.json")
    const r = await runChecker(["--repeats", "1", "--only", "doctor", fake, report, budgetFile])
    expect(r.code, r.stderr).toBe(1)
    expect(r.stdout).toMatch(/^doctor: p50=n\/ams p95=n\/ams p99=n\/ams error_rate=1\.000 ratio=n\/a× status=over_budget$/m)
    const lines = r.stderr.split("\n")
    expect(lines).toContain('- doctor: attempt 1: exit 3 (expected 0): {"ok":false,"error":"boom"}')
    expect(lines).toContain("- doctor: error_rate 1.000 > max_error_rate 0")
    const doctor = (JSON.parse(readFileSync(report, "utf8")) as { commands: Record<string, unknown> }).commands["doctor"]
    expect(doctor).toMatchObject({ samples_ms: [], p50_ms: null, successes: 0, failures: 1, error_rate: 1, status: "over_budget" })
  })

  it("fails on a budget for an unknown command and on a measured command without one", async () => {
    const budgets = looseBudgets()
    budgets.commands["demo"] = { p50_ms: 1000, p95_ms: 1700, p99_ms: 2100, max_error_rate: 0 }
    delete budgets.commands["doctor"]
    const r = await check(["--repeats", "1", "--only", "doctor"], budgets)
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr.split("\n")).toEqual([
      "runtime SLO budget check failed:",
      "- runtime budget configured for unknown command: demo",
      "- missing runtime budget for command: doctor",
      ""
    ])
    expect(r.report().commands["doctor"]).toMatchObject({ status: "missing_budget", budget: null, successes: 1 })
  })

  it("rejects a bad budget file with exit 2, one line per problem, and writes no report", async () => {
    const r = await check([], {
      schema_id: "gait.perf.budgets",
      schema_version: 1,
      repeats: 3,
      commands: {
        doctor: { p50_ms: "fast", p95_ms: 10, p99_ms: 20, max_error_rate: 2, p90_ms: 5 },
        mcp_proxy: { p50_ms: 300, p95_ms: 200, p99_ms: 100, max_error_rate: 0, max_p50_ratio_to_node: 0, expected_exit_code: -1 }
      }
    })
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split("\n").slice(1)).toEqual([
      '- schema_id must be "gait.perf.runtime_slo_budgets", got "gait.perf.budgets"',
      '- schema_version must be a version string like "1.0.0", got 1',
      "- repeats must be an integer >= 7, got 3",
      '- commands.doctor: unknown field "p90_ms"',
      '- commands.doctor.p50_ms must be a non-negative number, got "fast"',
      "- commands.doctor.max_error_rate must be at most 1, got 2",
      "- commands.mcp_proxy: budgets must satisfy p50_ms <= p95_ms <= p99_ms, got 300/200/100",
      "- commands.mcp_proxy.max_p50_ratio_to_node must be a positive number, got 0",
      "- commands.mcp_proxy.expected_exit_code must be an integer 0..255, got -1"
    ])
    expect(r.reportExists()).toBe(false)
  })

  it("exits 2 on usage errors and a missing launcher", async () => {
    const usage = await runChecker([GAIT_BIN])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toMatch(/^usage: /)
    const only = await check(["--only", "gate_eval_nope"], looseBudgets())
    expect(only.code).toBe(2)
    expect(only.stderr).toMatch(/^--only: unknown command "gate_eval_nope"/)
    const missing = await runChecker(["no/such/gait.cjs", "report.json", BUDGETS])
    expect(missing.code).toBe(2)
    expect(missing.stderr.trim()).toBe("gait launcher not found: no/such/gait.cjs")
  })
})
