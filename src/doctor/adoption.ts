/**
 * `gait doctor adoption`: activation report over an adoption log (spec ops.md §5.3): per-command
 * counts, milestones A1–A4 (E1–E3 are in the vocabulary but never emitted), time to first success,
 * median run times, skill-workflow summaries and the blockers that remain.
 */
import { Option } from "effect"
import { compareBytes } from "../kernel/text.js"
import { DEFAULT_CREATED_AT, GO_ZERO_TIME, parseRfc3339 } from "../kernel/time.js"
import type { AdoptionEvent } from "../telemetry/schema.js"
import { VERSION } from "../version.js"

const MILESTONES = ["A1", "A2", "A3", "A4", "E1", "E2", "E3"] as const
const ACTIVATION = ["A1", "A2", "A3", "A4"] as const
const BLOCKERS: Record<(typeof ACTIVATION)[number], string> = {
  A1: "missing A1: run `gait demo`",
  A2: "missing A2: run `gait verify <run_id>`",
  A3: "missing A3: run `gait regress init --from <run_id>`",
  A4: "missing A4: run `gait regress run`"
}
const WORKFLOWS: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["gait-capture-runpack", ["run record", "verify"]],
  ["gait-incident-to-regression", ["regress init", "regress run", "regress bootstrap"]],
  ["gait-policy-test-rollout", ["policy test", "policy simulate", "gate eval"]]
]

const millis = (t: string): number => Number(Option.getOrElse(parseRfc3339(t), () => 0n) / 1_000_000n)

/** Median with the reference's rule: the integer average of the two middle values for an even count. */
const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : Math.trunc(((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2)
}

export const adoptionReport = (source: string, events: ReadonlyArray<AdoptionEvent>) => {
  const ordered = [...events].sort((a, b) => millis(a.created_at) - millis(b.created_at))
  const first = ordered[0]
  const last = ordered[ordered.length - 1]
  const commands = new Map<string, { total: number; success: number; failure: number }>()
  for (const e of events) {
    const c = commands.get(e.command) ?? { total: 0, success: 0, failure: 0 }
    c.total++
    if (e.success) c.success++
    else c.failure++
    commands.set(e.command, c)
  }
  const achieved = new Set(events.filter((e) => e.success).flatMap((e) => e.milestones ?? []))
  const timing: Record<string, number> = {}
  for (const m of ACTIVATION) {
    const hit = ordered.find((e) => e.success && (e.milestones ?? []).includes(m))
    if (hit !== undefined && first !== undefined) timing[m] = millis(hit.created_at) - millis(first.created_at)
  }
  const elapsedOf = (command: string) => events.filter((e) => e.command === command && e.success).map((e) => e.elapsed_ms)
  const workflows = WORKFLOWS.map(([name, workflowCommands]) => {
    const matching = events.filter((e) => (e.workflow_id ?? "") === name || ((e.workflow_id ?? "") === "" && workflowCommands.includes(e.command)))
    const failures = new Map<number, number>()
    for (const e of matching) if (!e.success) failures.set(e.exit_code, (failures.get(e.exit_code) ?? 0) + 1)
    const common = [...failures.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0]
    const success = matching.filter((e) => e.success).length
    return {
      workflow_id: name,
      total: matching.length,
      success,
      failure: matching.length - success,
      success_rate: matching.length === 0 ? 0 : success / matching.length,
      median_runtime_ms: median(matching.map((e) => e.elapsed_ms)),
      ...(common === undefined || common === 0 ? {} : { most_common_failure_code: common })
    }
  })
  const complete = ACTIVATION.every((m) => achieved.has(m))
  return {
    schema_id: "gait.doctor.adoption_report",
    schema_version: "1.0.0",
    created_at: last?.created_at ?? DEFAULT_CREATED_AT,
    producer_version: VERSION,
    source,
    total_events: events.length,
    success_events: events.filter((e) => e.success).length,
    failed_events: events.filter((e) => !e.success).length,
    first_event_at: first?.created_at ?? GO_ZERO_TIME,
    last_event_at: last?.created_at ?? GO_ZERO_TIME,
    commands: [...commands.entries()].sort(([a], [b]) => compareBytes(a, b)).map(([command, c]) => ({ command, ...c })),
    milestones: MILESTONES.map((name) => ({ name, achieved: achieved.has(name) })),
    activation_timing_ms: timing,
    activation_medians_ms: {
      m1_demo_elapsed_ms: median(elapsedOf("demo")),
      m2_regress_run_elapsed_ms: median(elapsedOf("regress run"))
    },
    skill_workflows: workflows,
    activation_complete: complete,
    blockers: ACTIVATION.filter((m) => !achieved.has(m)).map((m) => BLOCKERS[m]).sort()
  }
}
