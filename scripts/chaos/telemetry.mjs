/**
 * Chaos: telemetry logs under concurrent writer processes (spec ops.md §5.4). Each run starts
 * CHAOS_TELEMETRY_PROCS (300) real `gait` processes at once, all appending to the same operational
 * and adoption logs; the run is repeated CHAOS_REPEATS (3) times. Every process appends exactly three
 * records (operational start and end, one adoption event, §5.1), so afterwards each log must hold
 * exactly the expected lines, every line one complete record of the expected shape (0 torn), and each
 * process's records must be found whole and attributable to it.
 *
 * Attribution: every process has a unique GAIT_ADOPTION_WORKFLOW (its adoption record carries it),
 * and its end event shares the adoption record's `created_at`. Even-numbered processes run
 * `gait version --json` (exit 0; their correlation id is the spec's vector for that argv, shared);
 * odd-numbered ones add their id as an extra argument, a usage error (exit 6) whose argv, and so
 * correlation id, is unique — their start and end events are identified individually.
 *
 * CHAOS_TELEMETRY_INFLIGHT caps the processes alive at once (default: all of them).
 */
import { createHash } from "node:crypto"
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs"
import * as path from "node:path"
import { chaosReport, childEnv, describeRun, envInt, jsonOf, pool, RFC3339_UTC, runGait } from "./lib-processes.mjs"

const report = chaosReport("telemetry")
const PROCS = envInt("CHAOS_TELEMETRY_PROCS", 300)
const REPEATS = envInt("CHAOS_REPEATS", 3)
const INFLIGHT = envInt("CHAOS_TELEMETRY_INFLIGHT", PROCS)

const OPERATIONAL_KEYS = [
  "schema_id",
  "schema_version",
  "created_at",
  "producer_version",
  "correlation_id",
  "command",
  "phase",
  "exit_code",
  "error_category",
  "retryable",
  "elapsed_ms",
  "environment"
]
const ADOPTION_KEYS = [
  "schema_id",
  "schema_version",
  "created_at",
  "producer_version",
  "command",
  "workflow_id",
  "success",
  "exit_code",
  "elapsed_ms",
  "environment"
]
/** ops.md §4: the correlation id of `["gait","version","--json"]`. */
const VERSION_JSON_CORRELATION = "e817da1ea5bc1c4b0c6da48f"

const correlationIdOf = (argv) =>
  createHash("sha256")
    .update(argv.map((a) => a.trim()).join("\x1f"))
    .digest("hex")
    .slice(0, 24)

const sameKeys = (value, keys) => value !== null && typeof value === "object" && JSON.stringify(Object.keys(value)) === JSON.stringify(keys)

/**
 * Splits a log into lines and parses each; a line that is not one JSON object with exactly the
 * expected keys in the expected order counts as torn (interleaved writes, a partial record or two
 * records run together all end up here).
 */
const readLog = (file, keys, label) => {
  const text = readFileSync(file, "utf8")
  report.check(text.endsWith("\n"), `${label}: does not end with a newline`)
  const lines = text.split("\n")
  if (lines.at(-1) === "") lines.pop()
  const records = []
  let torn = 0
  for (const [i, line] of lines.entries()) {
    let record
    try {
      record = JSON.parse(line)
    } catch {
      record = undefined
    }
    if (!sameKeys(record, keys)) {
      torn++
      report.problem(`${label} line ${i + 1} is not one whole record: ${JSON.stringify(line.slice(0, 200))}`)
      continue
    }
    records.push({ line: i + 1, record })
  }
  return { lines: lines.length, records, torn, mode: statSync(file).mode & 0o777 }
}

const checkEnvironment = (environment, label) =>
  report.check(
    sameKeys(environment, ["os", "arch"]) && environment.os !== "" && environment.arch !== "",
    () => `${label}: bad environment ${JSON.stringify(environment)}`
  )

const runOnce = async (work, run, producerVersion) => {
  const dir = path.join(work, `run-${run}`)
  mkdirSync(dir)
  // The logs' directory does not exist yet: the first writers also race to create it (§6.2 step 2).
  const operationalLog = path.join(dir, "logs", "operational.jsonl")
  const adoptionLog = path.join(dir, "logs", "adoption.jsonl")
  const processes = Array.from({ length: PROCS }, (_, i) => {
    const id = `chaos-r${run}-p${String(i).padStart(3, "0")}`
    const failing = i % 2 === 1
    const args = failing ? ["version", "--json", id] : ["version", "--json"]
    return { id, failing, args, exitCode: failing ? 6 : 0, correlationId: correlationIdOf(["gait", ...args]) }
  })

  const started = Date.now()
  let alive = 0
  let peakAlive = 0
  const runs = await pool(PROCS, INFLIGHT, async (i) => {
    const p = processes[i]
    alive++
    peakAlive = Math.max(peakAlive, alive)
    const result = await runGait(p.args, {
      cwd: dir,
      env: childEnv({ GAIT_OPERATIONAL_LOG: operationalLog, GAIT_ADOPTION_LOG: adoptionLog, GAIT_ADOPTION_WORKFLOW: p.id }),
      timeoutMs: 300_000
    })
    alive--
    return result
  })
  const spawnSeconds = (Date.now() - started) / 1000

  // What each process said: the exit code of its kind, one JSON line, no telemetry warning.
  for (const [i, r] of runs.entries()) {
    const p = processes[i]
    const body = jsonOf(r)
    const okBody = p.failing ? body?.ok === false && body?.error_code === "invalid_input" : body?.ok === true
    report.check(r.code === p.exitCode && okBody && r.stderr === "", () => `run ${run} ${p.id}: ${describeRun(r)}`)
  }

  const operational = readLog(operationalLog, OPERATIONAL_KEYS, `run ${run} operational log`)
  const adoption = readLog(adoptionLog, ADOPTION_KEYS, `run ${run} adoption log`)
  report.check(operational.lines === 2 * PROCS, `run ${run}: operational log has ${operational.lines} lines, want ${2 * PROCS}`)
  report.check(adoption.lines === PROCS, `run ${run}: adoption log has ${adoption.lines} lines, want ${PROCS}`)
  report.check(operational.mode === 0o600 && adoption.mode === 0o600, `run ${run}: log modes are not 0600`)
  const leftovers = readdirSync(path.dirname(operationalLog)).filter((f) => f !== "operational.jsonl" && f !== "adoption.jsonl")
  report.check(leftovers.length === 0, () => `run ${run}: files left next to the logs: ${leftovers.join(", ")}`)

  // Operational records: shape and values, grouped by correlation id.
  const byCorrelation = new Map()
  const endsByCreatedAt = new Map()
  for (const { line, record: e } of operational.records) {
    const label = `run ${run} operational line ${line}`
    const common =
      e.schema_id === "gait.scout.operational_event" &&
      e.schema_version === "1.0.0" &&
      RFC3339_UTC.test(e.created_at) &&
      e.producer_version === producerVersion &&
      e.command === "version" &&
      e.retryable === false &&
      Number.isInteger(e.exit_code) &&
      Number.isInteger(e.elapsed_ms) &&
      e.elapsed_ms >= 0
    const phase =
      e.phase === "start"
        ? e.exit_code === 0 && e.error_category === "none" && e.elapsed_ms === 0
        : e.phase === "end" &&
          ((e.exit_code === 0 && e.error_category === "none") || (e.exit_code === 6 && e.error_category === "invalid_input"))
    report.check(common && phase, () => `${label}: unexpected values ${JSON.stringify(e)}`)
    checkEnvironment(e.environment, label)
    const group = byCorrelation.get(e.correlation_id) ?? []
    group.push({ line, event: e })
    byCorrelation.set(e.correlation_id, group)
    if (e.phase === "end") {
      const sameTime = endsByCreatedAt.get(e.created_at) ?? []
      sameTime.push(e)
      endsByCreatedAt.set(e.created_at, sameTime)
    }
  }
  // The succeeding half shares one correlation id: as many starts and ends as processes.
  const shared = byCorrelation.get(VERSION_JSON_CORRELATION) ?? []
  const succeeding = processes.filter((p) => !p.failing).length
  for (const phase of ["start", "end"]) {
    const n = shared.filter((g) => g.event.phase === phase).length
    report.check(n === succeeding, `run ${run}: ${n} ${phase} events of \`gait version --json\`, want ${succeeding}`)
  }
  // Each failing process: exactly its start, then its end with exit 6.
  for (const p of processes.filter((q) => q.failing)) {
    const group = byCorrelation.get(p.correlationId) ?? []
    const [start, end] = group
    const whole =
      group.length === 2 &&
      start.event.phase === "start" &&
      end.event.phase === "end" &&
      end.event.exit_code === 6 &&
      start.line < end.line &&
      start.event.created_at <= end.event.created_at
    report.check(whole, () => `run ${run} ${p.id}: operational events ${JSON.stringify(group.map((g) => [g.line, g.event.phase, g.event.exit_code]))}`)
  }
  const expectedCorrelations = new Set([VERSION_JSON_CORRELATION, ...processes.filter((p) => p.failing).map((p) => p.correlationId)])
  const strangers = [...byCorrelation.keys()].filter((c) => !expectedCorrelations.has(c))
  report.check(strangers.length === 0, () => `run ${run}: operational events with unknown correlation ids ${strangers.join(", ")}`)

  // Adoption records: one per process (by workflow id), bound to that process's end event.
  const byWorkflow = new Map()
  for (const { line, record: a } of adoption.records) {
    const label = `run ${run} adoption line ${line}`
    const valid =
      a.schema_id === "gait.scout.adoption_event" &&
      a.schema_version === "1.0.0" &&
      RFC3339_UTC.test(a.created_at) &&
      a.producer_version === producerVersion &&
      a.command === "version" &&
      a.success === (a.exit_code === 0) &&
      Number.isInteger(a.elapsed_ms) &&
      a.elapsed_ms >= 0
    report.check(valid, () => `${label}: unexpected values ${JSON.stringify(a)}`)
    checkEnvironment(a.environment, label)
    report.check(!byWorkflow.has(a.workflow_id), () => `${label}: second adoption event of ${a.workflow_id}`)
    byWorkflow.set(a.workflow_id, a)
  }
  for (const p of processes) {
    const a = byWorkflow.get(p.id)
    if (!report.check(a !== undefined, `run ${run} ${p.id}: no adoption event`)) continue
    report.check(a.exit_code === p.exitCode, () => `run ${run} ${p.id}: adoption exit_code ${a.exit_code}, want ${p.exitCode}`)
    // The end event is written with the same finish time as the adoption event (§5.1).
    const ends = (endsByCreatedAt.get(a.created_at) ?? []).filter((e) => e.elapsed_ms === a.elapsed_ms && e.exit_code === a.exit_code)
    const mine = p.failing ? ends.filter((e) => e.correlation_id === p.correlationId) : ends
    report.check(mine.length === 1, () => `run ${run} ${p.id}: ${mine.length} operational end events match its adoption event`)
  }
  report.check(byWorkflow.size === PROCS, `run ${run}: ${byWorkflow.size} distinct workflow ids in the adoption log, want ${PROCS}`)

  // gait's own loader reads the adoption log back (every line parsed and validated).
  const doctor = await runGait(["doctor", "adoption", "--from", adoptionLog, "--json"], { cwd: dir })
  const doctorReport = jsonOf(doctor)?.report
  report.check(
    doctor.code === 0 &&
      doctorReport?.total_events === PROCS &&
      doctorReport?.success_events === succeeding &&
      doctorReport?.failed_events === PROCS - succeeding,
    () => `run ${run}: gait doctor adoption: ${describeRun(doctor)}`
  )

  const torn = operational.torn + adoption.torn
  report.progress(
    `run ${run}/${REPEATS}: ${PROCS} processes (peak ${peakAlive} alive) in ${spawnSeconds.toFixed(1)}s; operational ${operational.lines} lines, adoption ${adoption.lines} lines, ${torn} torn`
  )
  return { torn, lines: operational.lines + adoption.lines }
}

const main = async () => {
  const work = report.scratch()
  const probe = await runGait(["version", "--json"], { cwd: work })
  const producerVersion = jsonOf(probe)?.version
  if (!report.check(probe.code === 0 && typeof producerVersion === "string", () => `gait version --json: ${describeRun(probe)}`)) {
    report.finish("(gait does not run)")
  }
  report.progress(`${REPEATS} runs × ${PROCS} processes (${INFLIGHT} alive at most), gait ${producerVersion}`)
  let torn = 0
  const lineCounts = new Set()
  for (let run = 1; run <= REPEATS; run++) {
    const outcome = await runOnce(work, run, producerVersion)
    torn += outcome.torn
    lineCounts.add(outcome.lines)
  }
  report.finish(`${REPEATS} runs × ${PROCS} processes, ${[...lineCounts].join("/")} lines each (want ${3 * PROCS}), ${torn} torn`)
}

main().catch(report.crash)
