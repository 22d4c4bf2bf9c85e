/**
 * Chaos: trace uniqueness (spec gate.md §7.2, §7.4). CHAOS_TRACE_EVALS (1,000) `gait gate eval`
 * processes evaluate the same intent against the same policy, CHAOS_TRACE_INFLIGHT (48) at a time,
 * all in one working directory and without `--trace-out`, so every trace goes to its default path
 * there. Every emission must get its own `event_id` and its own trace file: 1,000 distinct event ids,
 * 1,000 files, each holding the record of exactly the evaluation that reported it (none overwritten),
 * each intact (its signed digest matches its content).
 */
import { createHash } from "node:crypto"
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { chaosReport, describeRun, envInt, jsonOf, pool, RFC3339_UTC, runGait } from "./lib-processes.mjs"

const report = chaosReport("trace_uniqueness")
const EVALS = envInt("CHAOS_TRACE_EVALS", 1000)
const INFLIGHT = envInt("CHAOS_TRACE_INFLIGHT", 48)

const POLICY = `schema_id: gait.gate.policy
schema_version: 1.0.0
default_verdict: block
rules:
  - name: allow-reads
    priority: 10
    effect: allow
    match:
      tool_names: [fs.read]
    reason_codes: [read_allowed]
`
const INTENT = {
  schema_id: "gait.gate.intent_request",
  schema_version: "1.0.0",
  created_at: "2026-11-27T09:00:00Z",
  producer_version: "chaos-agent/1.0.0",
  tool_name: "fs.read",
  args: { path: "/srv/app/README.md" },
  targets: [{ kind: "path", value: "/srv/app/README.md", operation: "read" }],
  arg_provenance: [{ arg_path: "args.path", source: "user" }],
  context: { identity: "agent:chaos", workspace: "/srv/app", risk_class: "low" }
}

/** RFC 8785 for the values a trace holds (objects, arrays, strings, finite numbers, booleans, null). */
const canonicalJson = (value) => {
  if (value === null || typeof value !== "object") return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const keys = Object.keys(value).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`
}

const TRACE_NAME = /^trace_([0-9a-f]{24})_([0-9a-f]{24})\.json$/

const main = async () => {
  const work = report.scratch()
  const policy = path.join(work, "policy.yaml")
  const intent = path.join(work, "intent.json")
  writeFileSync(policy, POLICY)
  writeFileSync(intent, `${JSON.stringify(INTENT, null, 2)}\n`)
  // Nothing but the traces is written here, so the directory listing is the set of trace files.
  const traces = path.join(work, "traces")
  mkdirSync(traces)
  const args = ["gate", "eval", "--policy", policy, "--intent", intent, "--json"]

  report.progress(`${EVALS} evaluations of one intent, ${INFLIGHT} in flight, default trace paths in ${traces}`)
  const started = Date.now()
  let done = 0
  const runs = await pool(EVALS, INFLIGHT, async () => {
    const run = await runGait(args, { cwd: traces, timeoutMs: 120_000 })
    done++
    if (done % 200 === 0 || done === EVALS) report.progress(`${done}/${EVALS} evaluations done`)
    return run
  })
  const seconds = (Date.now() - started) / 1000

  // What each evaluation reported.
  const outputs = []
  for (const run of runs) {
    const body = jsonOf(run)
    if (!report.check(run.code === 0 && body?.ok === true && body.verdict === "allow", () => `evaluation: ${describeRun(run)}`)) continue
    outputs.push(body)
    report.check(
      /^[0-9a-f]{24}$/.test(body.event_id ?? "") && body.trace_path === `trace_${body.trace_id}_${body.event_id}.json`,
      () => `evaluation reported trace_path ${body.trace_path} for event_id ${body.event_id}`
    )
  }
  const traceIds = new Set(outputs.map((o) => o.trace_id))
  report.check(traceIds.size === 1, () => `the same decision got ${traceIds.size} trace ids: ${[...traceIds].slice(0, 5).join(", ")}`)
  const eventIds = new Set(outputs.map((o) => o.event_id))
  report.check(eventIds.size === EVALS, `${eventIds.size} distinct event_ids reported, want ${EVALS}`)

  // What is on disk: every file intact and named after the emission it holds.
  const entries = readdirSync(traces)
  const files = entries.filter((name) => /^trace_.*\.json$/.test(name))
  const strays = entries.filter((name) => !files.includes(name))
  report.check(strays.length === 0, () => `unexpected files next to the traces: ${strays.slice(0, 10).join(", ")}`)
  report.check(files.length === EVALS, `${files.length} trace files, want ${EVALS}`)
  const records = new Map()
  const observed = new Set()
  for (const name of files) {
    const file = path.join(traces, name)
    let record
    try {
      record = JSON.parse(readFileSync(file, "utf8"))
    } catch (error) {
      report.problem(`${name}: not JSON (${error.message})`)
      continue
    }
    records.set(name, record)
    const { signature, ...unsigned } = record
    const digest = createHash("sha256").update(canonicalJson(unsigned)).digest("hex")
    const [, traceId, eventId] = TRACE_NAME.exec(name) ?? []
    report.check(
      record.schema_id === "gait.gate.trace" && record.trace_id === traceId && record.event_id === eventId,
      () => `${name}: holds trace_id ${record.trace_id} event_id ${record.event_id}`
    )
    report.check(RFC3339_UTC.test(record.observed_at ?? "") && !observed.has(record.observed_at), `${name}: observed_at ${record.observed_at} missing or repeated`)
    observed.add(record.observed_at)
    report.check(signature?.alg === "ed25519" && signature.signed_digest === digest, `${name}: signed_digest does not match the content`)
    report.check((statSync(file).mode & 0o777) === 0o600, `${name}: mode is not 0600`)
    report.check(eventIds.has(record.event_id), `${name}: no evaluation reported event_id ${record.event_id}`)
  }
  // Each evaluation's own record is in the file it reported; otherwise it was overwritten (or lost).
  const overwritten = outputs.filter((o) => {
    const record = records.get(o.trace_path)
    return !(record?.event_id === o.event_id && record.intent_digest === o.intent_digest && record.policy_digest === o.policy_digest)
  }).length
  report.check(overwritten === 0, `${overwritten} evaluations' trace files are missing or hold another emission`)
  report.progress(
    `${EVALS} evaluations in ${seconds.toFixed(1)}s (${(EVALS / seconds).toFixed(1)}/s); ${eventIds.size} distinct event_ids, ${files.length} trace files, ${overwritten} overwritten`
  )
  report.finish(`${EVALS} evaluations (${INFLIGHT} in flight), ${eventIds.size} distinct event_ids, ${files.length} trace files, ${overwritten} overwritten`)
}

main().catch(report.crash)
