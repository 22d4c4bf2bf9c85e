// `make bench-budgets`: runtime SLO budgets per command (spec ops.md §8.1–8.2, ported to the commands
// this CLI has). Every command runs as a whole process, with cwd = a fresh temp dir, once per round
// (sorted name order) for `repeats` rounds; its wall time (start-up included) is checked against
// p50/p95/p99 budgets. Each sample is preceded by one sample of `node -e 0`, so every p50 is also
// reported as a ratio to Node's own start-up measured under the same load: that ratio is what compares
// across machines, and an optional per-command max_p50_ratio_to_node gates on it too (it holds when
// load from elsewhere inflates every ms figure). --repeats and --only make quick smoke runs (tests).
//
//   node scripts/check_command_budgets.mjs [--repeats N] [--only name,…] <gait-launcher> <report.json> [budgets.json]
//
// Exit codes: 0 pass, 1 a budget or structural check failed, 2 usage error, missing launcher or bad budget file.
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import path from "node:path"

const BUDGET_SCHEMA_ID = "gait.perf.runtime_slo_budgets"
const REPORT_SCHEMA_ID = "gait.perf.command_budget_report"
const REPORT_SCHEMA_VERSION = "2.0.0"
const DEFAULT_BUDGETS = path.join("perf", "runtime_slo_budgets.json")
// The issue asks for at least 7 runs per command; fewer make p95/p99 meaningless.
const MIN_FILE_REPEATS = 7
const CHILD_TIMEOUT_MS = 60_000
const BASELINE_ARGV = ["-e", "0"]
// Two sessions: checkpoint emission appends to one while the chain of the other, written once during
// setup, is verified; so the measured commands do not depend on each other or on their order.
const EMIT_SESSION = { journal: "sessions/runtime_budgets.journal.jsonl", id: "budget", out: "session_checkpoint.zip" }
const VERIFY_SESSION = { journal: "sessions/verify_budget.journal.jsonl", id: "verify_budget", out: "verify_checkpoint.zip" }
const chainOf = (session) => session.journal.replace(/\.journal\.jsonl$/, "_chain.json")
const USAGE =
  "usage: node scripts/check_command_budgets.mjs [--repeats N] [--only name[,name…]] <gait-launcher> <report.json> [budgets.json]"

/** Gate intent classes of spec §8.2; the target values are arbitrary data, never touched. */
const GATE_CLASSES = {
  fs_read: { tool: "tool.read", target: { kind: "path", value: "/data/gait/slo/read.txt", operation: "read", endpoint_class: "fs.read" } },
  fs_write: { tool: "tool.write", target: { kind: "path", value: "/data/gait/slo/write.txt", operation: "write", endpoint_class: "fs.write" } },
  fs_delete: {
    tool: "tool.delete",
    target: { kind: "path", value: "/data/gait/slo/delete.txt", operation: "delete", endpoint_class: "fs.delete", destructive: true }
  },
  proc_exec: {
    tool: "tool.exec",
    target: { kind: "other", value: "local-shell", operation: "exec", endpoint_class: "proc.exec", destructive: true }
  },
  net_http: {
    tool: "tool.http",
    target: {
      kind: "url",
      value: "https://api.example.com/v1/health",
      operation: "get",
      endpoint_class: "net.http",
      endpoint_domain: "api.example.com"
    }
  },
  net_dns: {
    tool: "tool.dns",
    target: { kind: "host", value: "api.example.com", operation: "dns", endpoint_class: "net.dns", endpoint_domain: "api.example.com" }
  }
}

const POLICY_YAML = `default_verdict: allow
rules:
  - name: allow-write
    effect: allow
    match:
      tool_names: [tool.read,tool.write,tool.delete,tool.exec,tool.http,tool.dns]
`

const OPENAI_CALL = {
  type: "function",
  function: { name: "tool.write", arguments: JSON.stringify({ path: "/data/gait/slo/write.txt" }) }
}

/**
 * The measured commands, keyed by budget name: argv after the launcher, an optional untimed pre-hook
 * per attempt, an optional cwd (relative to the temp dir), the capability they need and the session
 * setup has to prepare for them.
 */
const commandSpecs = (work) => {
  const policy = path.join(work, "policy.yaml")
  const specs = {}
  for (const name of Object.keys(GATE_CLASSES)) {
    specs[`gate_eval_${name}`] = {
      argv: ["gate", "eval", "--policy", policy, "--intent", path.join(work, "intents", `gate_eval_${name}.json`), "--json"]
    }
  }
  specs.session_checkpoint_emit = {
    argv: checkpointArgv(EMIT_SESSION),
    preHook: (attempt) => appendArgv(EMIT_SESSION, attempt + 1),
    needs: "session_checkpointing",
    session: EMIT_SESSION
  }
  specs.session_chain_verify = {
    argv: ["verify", "session-chain", "--chain", chainOf(VERIFY_SESSION), "--json"],
    needs: "session_checkpointing",
    session: VERIFY_SESSION
  }
  specs.mcp_proxy = {
    argv: ["mcp", "proxy", "--policy", policy, "--adapter", "openai", "--call", path.join(work, "mcp_call_openai.json"), "--json"]
  }
  // Default (non-production) doctor exits 0 in an empty directory (status warn: no gait-out yet).
  specs.doctor = { argv: ["doctor", "--json"], cwd: "doctor" }
  return specs
}

const startArgv = (session) =>
  ["run", "session", "start", "--journal", session.journal, "--session-id", `sess_${session.id}`, "--run-id", `run_${session.id}`, "--json"]
const appendArgv = (session, n) =>
  ["run", "session", "append", "--journal", session.journal, "--tool", "tool.write", "--verdict", "allow", "--intent-id", `budget_intent_${n}`, "--json"]
const checkpointArgv = (session) =>
  ["run", "session", "checkpoint", "--journal", session.journal, "--out", session.out, "--chain-out", chainOf(session), "--json"]

const KNOWN_COMMANDS = Object.keys(commandSpecs(tmpdir())).sort()

class Fatal extends Error {
  constructor(lines) {
    super(lines.join("\n"))
    this.lines = lines
  }
}

const parseArgs = (argv) => {
  const positionals = []
  let repeats
  let only
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new Fatal([`${arg} needs a value`, USAGE])
      return v
    }
    if (arg === "--repeats") {
      const v = value()
      if (!/^[1-9]\d*$/.test(v)) throw new Fatal([`--repeats must be a positive integer, got ${JSON.stringify(v)}`])
      repeats = Number(v)
    } else if (arg === "--only") {
      only = value()
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "")
      const unknown = only.filter((name) => !KNOWN_COMMANDS.includes(name))
      if (only.length === 0 || unknown.length > 0) {
        throw new Fatal([`--only: unknown command ${JSON.stringify(unknown.join(","))}; known: ${KNOWN_COMMANDS.join(", ")}`])
      }
    } else if (arg.startsWith("--")) {
      throw new Fatal([`unknown option ${arg}`, USAGE])
    } else {
      positionals.push(arg)
    }
  }
  if (positionals.length < 2 || positionals.length > 3) throw new Fatal([USAGE])
  const [launcher, report, budgets] = positionals
  return { launcher, report, budgets: budgets ?? DEFAULT_BUDGETS, repeats, only }
}

const isNonNegative = (v) => typeof v === "number" && Number.isFinite(v) && v >= 0
const BUDGET_KEYS = ["p50_ms", "p95_ms", "p99_ms", "max_error_rate"]
const ENTRY_KEYS = new Set([...BUDGET_KEYS, "max_p50_ratio_to_node", "expected_exit_code", "notes"])
const TOP_KEYS = new Set(["schema_id", "schema_version", "repeats", "commands", "notes"])

/** Every problem of a budget file, one line each (an empty list means it is valid). */
const validateBudgets = (doc) => {
  const problems = []
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return ["the file must hold a JSON object"]
  for (const key of Object.keys(doc)) if (!TOP_KEYS.has(key)) problems.push(`unknown top-level field ${JSON.stringify(key)}`)
  if (doc.schema_id !== BUDGET_SCHEMA_ID) problems.push(`schema_id must be ${JSON.stringify(BUDGET_SCHEMA_ID)}, got ${JSON.stringify(doc.schema_id)}`)
  if (typeof doc.schema_version !== "string" || !/^\d+\.\d+\.\d+$/.test(doc.schema_version)) {
    problems.push(`schema_version must be a version string like "1.0.0", got ${JSON.stringify(doc.schema_version)}`)
  }
  if (!Number.isInteger(doc.repeats) || doc.repeats < MIN_FILE_REPEATS) {
    problems.push(`repeats must be an integer >= ${MIN_FILE_REPEATS}, got ${JSON.stringify(doc.repeats)}`)
  }
  if (doc.notes !== undefined && typeof doc.notes !== "string" && !(Array.isArray(doc.notes) && doc.notes.every((n) => typeof n === "string"))) {
    problems.push("notes must be a string or a list of strings")
  }
  const commands = doc.commands
  if (commands === null || typeof commands !== "object" || Array.isArray(commands)) {
    problems.push("commands must be an object of budget name -> budget")
    return problems
  }
  for (const [name, entry] of Object.entries(commands)) {
    const where = `commands.${name}`
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      problems.push(`${where} must be an object`)
      continue
    }
    for (const key of Object.keys(entry)) if (!ENTRY_KEYS.has(key)) problems.push(`${where}: unknown field ${JSON.stringify(key)}`)
    for (const key of BUDGET_KEYS) {
      if (!isNonNegative(entry[key])) problems.push(`${where}.${key} must be a non-negative number, got ${JSON.stringify(entry[key])}`)
    }
    if (isNonNegative(entry.max_error_rate) && entry.max_error_rate > 1) {
      problems.push(`${where}.max_error_rate must be at most 1, got ${entry.max_error_rate}`)
    }
    if ([entry.p50_ms, entry.p95_ms, entry.p99_ms].every(isNonNegative) && !(entry.p50_ms <= entry.p95_ms && entry.p95_ms <= entry.p99_ms)) {
      problems.push(`${where}: budgets must satisfy p50_ms <= p95_ms <= p99_ms, got ${entry.p50_ms}/${entry.p95_ms}/${entry.p99_ms}`)
    }
    const ratio = entry.max_p50_ratio_to_node
    if (ratio !== undefined && !(isNonNegative(ratio) && ratio > 0)) {
      problems.push(`${where}.max_p50_ratio_to_node must be a positive number, got ${JSON.stringify(ratio)}`)
    }
    const code = entry.expected_exit_code
    if (code !== undefined && !(Number.isInteger(code) && code >= 0 && code <= 255)) {
      problems.push(`${where}.expected_exit_code must be an integer 0..255, got ${JSON.stringify(code)}`)
    }
    if (entry.notes !== undefined && typeof entry.notes !== "string") problems.push(`${where}.notes must be a string`)
  }
  return problems
}

const loadBudgets = (file) => {
  let text
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    throw new Fatal([`cannot read budget file ${file}: ${e.message}`])
  }
  let doc
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw new Fatal([`budget file ${file} is not valid JSON: ${e.message}`])
  }
  const problems = validateBudgets(doc)
  if (problems.length > 0) throw new Fatal([`bad budget file ${file}:`, ...problems.map((p) => `- ${p}`)])
  return doc
}

/**
 * Linear interpolation between the closest ranks, rank = (n-1)·p/100, as upstream. Without samples it
 * is null (upstream writes Infinity, which is not JSON), and a null percentile is over any budget.
 */
const percentile = (samples, p) => {
  if (samples.length === 0) return null
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = ((sorted.length - 1) * p) / 100
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo)
}

const round3 = (v) => (v === null ? null : Math.round(v * 1000) / 1000)

// Children get no GAIT_* variables: every setting a command needs is on its command line, and a stray
// GAIT_CODE_CACHE_OUT or telemetry log would change what is timed.
const childEnv = () => Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("GAIT_")))

const runTimed = (argv, cwd, env) => {
  const [cmd, ...args] = argv
  const t0 = process.hrtime.bigint()
  const r = spawnSync(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", timeout: CHILD_TIMEOUT_MS })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  return { ms, status: r.status, signal: r.signal, error: r.error, stdout: r.stdout ?? "", stderr: r.stderr ?? "" }
}

/** Why a child run did not end with the expected exit code (undefined when it did). */
const failureOf = (r, expected) => {
  if (r.error?.code === "ETIMEDOUT") return `timed out after ${CHILD_TIMEOUT_MS} ms`
  if (r.error !== undefined) return `could not run: ${r.error.message}`
  if (r.status === expected) return undefined
  const firstLine = (text) => text.split("\n").find((l) => l.trim() !== "") ?? ""
  const detail = (firstLine(r.stdout) || firstLine(r.stderr)).trim().slice(0, 240)
  const how = r.status === null ? `killed by ${r.signal}` : `exit ${r.status} (expected ${expected})`
  return detail === "" ? how : `${how}: ${detail}`
}

const fmtMs = (v) => (v === null ? "n/a" : v.toFixed(1))
const fmtRatio = (v) => (v === null ? "n/a" : v.toFixed(2))

/** Writes the policy, intents and call files, probes capabilities and prepares the two sessions. */
const setUp = (work, specs, selected, runGait) => {
  const failures = []
  writeFileSync(path.join(work, "policy.yaml"), POLICY_YAML)
  mkdirSync(path.join(work, "intents"))
  for (const [name, { tool, target }] of Object.entries(GATE_CLASSES)) {
    const intent = {
      schema_id: "gait.gate.intent_request",
      schema_version: "1.0.0",
      created_at: "2026-02-06T00:00:00Z",
      producer_version: "0.0.0-bench",
      tool_name: tool,
      args: { path: target.value },
      targets: [target],
      arg_provenance: [{ arg_path: "$.path", source: "user" }],
      context: { identity: "alice", workspace: work, risk_class: "high", phase: target.destructive === true ? "plan" : "apply" }
    }
    writeFileSync(path.join(work, "intents", `gate_eval_${name}.json`), JSON.stringify(intent))
  }
  writeFileSync(path.join(work, "mcp_call_openai.json"), JSON.stringify(OPENAI_CALL))
  mkdirSync(path.join(work, "doctor"))

  // This CLI answers --help for an unknown command with the root help and exit 0, so a command counts
  // as supported only when its help shows its own usage line.
  const supports = (argv) => {
    const r = runGait([...argv, "--help"])
    return r.status === 0 && r.stdout.includes(`$ ${argv[argv.length - 1]} `)
  }
  const capabilities = {
    session_checkpointing: supports(["run", "session", "checkpoint"]) && supports(["verify", "session-chain"]),
    delegation_tokens: supports(["delegate", "mint"])
  }
  const sessions = capabilities.session_checkpointing ? selected.map((name) => specs[name].session).filter((s) => s !== undefined) : []
  for (const session of sessions) {
    for (const argv of [startArgv(session), appendArgv(session, 0), checkpointArgv(session)]) {
      const problem = failureOf(runGait(argv), 0)
      if (problem !== undefined) failures.push(`setup: ${argv.slice(0, 3).join(" ")} --journal ${session.journal}: ${problem}`)
    }
  }
  return { capabilities, failures }
}

/**
 * `repeats` rounds; each round runs every command once in sorted order, each sample preceded by one
 * `node -e 0` sample and then the command's untimed pre-hook. Rounds spread every command's samples
 * over the whole run, so a burst of load from elsewhere lands on all commands alike.
 */
const measure = (work, specs, names, budgets, repeats, runGait, env) => {
  const state = names.map((name) => ({ name, samples: [], baselines: [], errors: [] }))
  for (let attempt = 0; attempt < repeats; attempt++) {
    for (const s of state) {
      const spec = specs[s.name]
      const cwd = spec.cwd === undefined ? work : path.join(work, spec.cwd)
      s.baselines.push(runTimed([process.execPath, ...BASELINE_ARGV], cwd, env).ms)
      if (spec.preHook !== undefined) {
        const hook = spec.preHook(attempt)
        const hookProblem = failureOf(runGait(hook, cwd), 0)
        if (hookProblem !== undefined) {
          s.errors.push(`attempt ${attempt + 1}: pre-hook ${hook.slice(0, 3).join(" ")}: ${hookProblem}`)
          continue
        }
      }
      const r = runGait(spec.argv, cwd)
      const problem = failureOf(r, budgets.commands[s.name]?.expected_exit_code ?? 0)
      if (problem === undefined) s.samples.push(r.ms)
      else s.errors.push(`attempt ${attempt + 1}: ${problem}`)
    }
  }
  return state
}

/** The report entry of one command and the failure lines it adds. */
const evaluate = ({ name, samples, baselines, errors }, spec, budget, repeats, nodeP50, launcher, work) => {
  const [p50, p95, p99] = [50, 95, 99].map((p) => round3(percentile(samples, p)))
  const ratio = p50 === null || !nodeP50 ? null : Math.round((p50 / nodeP50) * 100) / 100
  const errorRate = errors.length / repeats
  const failures = errors.map((e) => `${name}: ${e}`)
  if (budget === undefined) {
    failures.push(`missing runtime budget for command: ${name}`)
  } else {
    if (errorRate > budget.max_error_rate) failures.push(`${name}: error_rate ${errorRate.toFixed(3)} > max_error_rate ${budget.max_error_rate}`)
    // Shows whether Node itself was slow beside this command, i.e. whether the machine was starved.
    const beside = `(node -e 0 beside it: p50=${fmtMs(percentile(baselines, 50))}ms max=${fmtMs(Math.max(...baselines))}ms)`
    for (const [label, value, limit] of [
      ["p50", p50, budget.p50_ms],
      ["p95", p95, budget.p95_ms],
      ["p99", p99, budget.p99_ms]
    ]) {
      if (value === null || value > limit) failures.push(`${name}: ${label} ${fmtMs(value)}ms > budget ${limit}ms ${beside}`)
    }
    const maxRatio = budget.max_p50_ratio_to_node
    if (maxRatio !== undefined && (ratio === null || ratio > maxRatio)) {
      failures.push(`${name}: p50 ratio to node -e 0 ${fmtRatio(ratio)}× > max_p50_ratio_to_node ${maxRatio}×`)
    }
  }
  const hide = (argv) => argv.map((a) => a.replaceAll(work, "$TMP"))
  const entry = {
    command: hide([launcher, ...spec.argv]),
    cwd: spec.cwd === undefined ? "$TMP" : `$TMP/${spec.cwd}`,
    ...(spec.preHook === undefined ? {} : { pre_hook: hide([launcher, ...spec.preHook(0)]) }),
    expected_exit_code: budget?.expected_exit_code ?? 0,
    samples_ms: samples.map(round3),
    p50_ms: p50,
    p95_ms: p95,
    p99_ms: p99,
    median_ms: p50,
    attempts: repeats,
    successes: samples.length,
    failures: errors.length,
    error_rate: round3(errorRate),
    p50_ratio_to_node: ratio,
    baseline_p50_ms: round3(percentile(baselines, 50)),
    budget:
      budget === undefined
        ? null
        : {
            p50_ms: budget.p50_ms,
            p95_ms: budget.p95_ms,
            p99_ms: budget.p99_ms,
            max_error_rate: budget.max_error_rate,
            ...(budget.max_p50_ratio_to_node === undefined ? {} : { max_p50_ratio_to_node: budget.max_p50_ratio_to_node })
          },
    status: budget === undefined ? "missing_budget" : failures.length === 0 ? "ok" : "over_budget"
  }
  return { entry, failures }
}

const main = () => {
  const args = parseArgs(process.argv.slice(2))
  const launcher = path.resolve(args.launcher)
  if (!existsSync(launcher) || !statSync(launcher).isFile()) throw new Fatal([`gait launcher not found: ${args.launcher}`])
  const budgets = loadBudgets(args.budgets)
  const repeats = args.repeats ?? budgets.repeats
  const selected = args.only === undefined ? KNOWN_COMMANDS : KNOWN_COMMANDS.filter((name) => args.only.includes(name))
  // A script launcher (bin/gait.cjs) runs under this node; anything else is executed directly.
  const gait = /\.[cm]?js$/.test(launcher) ? [process.execPath, launcher] : [launcher]
  const env = childEnv()
  const started = process.hrtime.bigint()
  const failures = Object.keys(budgets.commands)
    .filter((name) => !KNOWN_COMMANDS.includes(name))
    .sort()
    .map((name) => `runtime budget configured for unknown command: ${name}`)
  const commands = {}
  const skipped = {}
  let baselineSamples = []
  let baselineP50 = null
  let capabilities
  const work = mkdtempSync(path.join(tmpdir(), "gait-budget-"))
  try {
    const specs = commandSpecs(work)
    const runGait = (argv, cwd = work) => runTimed([...gait, ...argv], cwd, env)
    const setup = setUp(work, specs, selected, runGait)
    capabilities = setup.capabilities
    failures.push(...setup.failures)
    const runnable = selected.filter((name) => {
      const needs = specs[name].needs
      if (needs === undefined || capabilities[needs]) return true
      skipped[name] = "unsupported by target binary"
      return false
    })
    console.log(`measuring ${runnable.length} commands × ${repeats} interleaved rounds (each after one node -e 0 sample)`)
    const measured = measure(work, specs, runnable, budgets, repeats, runGait, env)
    baselineSamples = measured.flatMap((m) => m.baselines)
    baselineP50 = round3(percentile(baselineSamples, 50))
    for (const m of measured) {
      const { entry, failures: lines } = evaluate(m, specs[m.name], budgets.commands[m.name], repeats, baselineP50, args.launcher, work)
      commands[m.name] = entry
      failures.push(...lines)
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }

  for (const [name, entry] of Object.entries(commands)) {
    console.log(
      `${name}: p50=${fmtMs(entry.p50_ms)}ms p95=${fmtMs(entry.p95_ms)}ms p99=${fmtMs(entry.p99_ms)}ms ` +
        `error_rate=${entry.error_rate.toFixed(3)} ratio=${fmtRatio(entry.p50_ratio_to_node)}× status=${entry.status}`
    )
  }
  for (const [name, reason] of Object.entries(skipped)) console.log(`${name}: skipped (${reason})`)
  const report = {
    schema_id: REPORT_SCHEMA_ID,
    schema_version: REPORT_SCHEMA_VERSION,
    generated_at: new Date().toISOString(),
    runtime_budget_source: args.budgets,
    repeats,
    budget_repeats: budgets.repeats,
    duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
    host: { node: process.version, platform: process.platform, arch: process.arch, cpus: availableParallelism() },
    baseline: { command: ["node", ...BASELINE_ARGV], samples_ms: baselineSamples.map(round3), p50_ms: baselineP50 },
    commands,
    failures,
    capabilities,
    ...(Object.keys(skipped).length > 0 ? { skipped_commands: skipped } : {})
  }
  mkdirSync(path.dirname(path.resolve(args.report)), { recursive: true })
  writeFileSync(args.report, `${JSON.stringify(report, null, 2)}\n`)
  console.log(`baseline node -e 0: p50=${fmtMs(baselineP50)}ms over ${baselineSamples.length} samples`)
  console.log(`report: ${args.report} (${(report.duration_ms / 1000).toFixed(1)} s)`)
  if (failures.length > 0) {
    console.error(["runtime SLO budget check failed:", ...failures.map((f) => `- ${f}`)].join("\n"))
    return 1
  }
  console.log("runtime SLO budget check passed")
  return 0
}

try {
  process.exitCode = main()
} catch (e) {
  if (!(e instanceof Fatal)) throw e
  console.error(e.lines.join("\n"))
  process.exitCode = 2
}
