import { describe, expect, it } from "@effect/vitest"
import { adoptionReport } from "../../src/doctor/adoption.js"
import type { AdoptionEvent } from "../../src/telemetry/schema.js"

const event = (command: string, at: string, success: boolean, elapsed: number, milestones?: ReadonlyArray<string>): AdoptionEvent => ({
  schema_id: "gait.scout.adoption_event",
  schema_version: "1.0.0",
  created_at: at,
  producer_version: "0.1.0",
  command,
  success,
  exit_code: success ? 0 : 6,
  elapsed_ms: elapsed,
  ...(milestones === undefined ? {} : { milestones }),
  environment: { os: "linux", arch: "amd64" }
})

describe("doctor adoption report", () => {
  it("an empty log has every blocker and the fixed creation time", () => {
    const r = adoptionReport("a.jsonl", [])
    expect(r.created_at).toBe("1980-01-01T00:00:00Z")
    expect(r.first_event_at).toBe("0001-01-01T00:00:00Z")
    expect(r.activation_complete).toBe(false)
    expect(r.blockers).toHaveLength(4)
    expect(r.milestones.map((m) => m.name)).toEqual(["A1", "A2", "A3", "A4", "E1", "E2", "E3"])
  })

  it("counts commands, times milestones from the first event and takes the reference's medians", () => {
    const r = adoptionReport("a.jsonl", [
      event("demo", "2026-01-01T00:00:00Z", true, 100, ["A1"]),
      event("demo", "2026-01-01T00:00:01Z", true, 201, ["A1"]),
      event("verify", "2026-01-01T00:00:02Z", false, 5),
      event("verify", "2026-01-01T00:00:03Z", true, 7, ["A2"]),
      event("regress init", "2026-01-01T00:00:04Z", true, 9, ["A3"]),
      event("regress run", "2026-01-01T00:00:05Z", true, 11, ["A4"])
    ])
    expect(r.total_events).toBe(6)
    expect(r.failed_events).toBe(1)
    expect(r.commands.find((c) => c.command === "verify")).toEqual({ command: "verify", total: 2, success: 1, failure: 1 })
    expect(r.activation_timing_ms).toEqual({ A1: 0, A2: 3000, A3: 4000, A4: 5000 })
    expect(r.activation_medians_ms.m1_demo_elapsed_ms).toBe(150)
    expect(r.activation_complete).toBe(true)
    expect(r.blockers).toEqual([])
    const capture = r.skill_workflows.find((w) => w.workflow_id === "gait-capture-runpack")
    expect(capture).toMatchObject({ total: 2, success: 1, failure: 1, most_common_failure_code: 6 })
  })
})
