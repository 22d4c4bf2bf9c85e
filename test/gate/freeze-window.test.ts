import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import { evaluateFreezeWindow, pickFreezeWindow } from "../../src/gate/freeze-window.js"
import type { FreezeWindowPolicy } from "../../src/gate/policy.js"
import { parseRfc3339 } from "../../src/kernel/time.js"

const at = (iso: string): bigint => Option.getOrThrow(parseRfc3339(iso))
const policy = (over: Partial<FreezeWindowPolicy> = {}): FreezeWindowPolicy => ({
  timezone: "America/Toronto",
  effect: "block",
  reason: "",
  environments: [],
  riskClasses: [],
  windows: [{ name: "quarter-end", start: "2026-03-10T09:00:00", end: "2026-03-10T12:00:00" }],
  ...over
})
const ctx = { environment: "production", riskClass: "high" }

describe("freeze windows", () => {
  it("converts the window from the policy's zone (EDT: 09:00-12:00 is 13:00-16:00Z)", () => {
    const d = evaluateFreezeWindow(policy(), ctx, at("2026-03-10T14:30:00Z"))
    expect(d.status).toBe("active")
    expect(d.window_name).toBe("quarter-end")
    expect(d.window_start).toBe("2026-03-10T13:00:00Z")
    expect(d.window_end).toBe("2026-03-10T16:00:00Z")
    expect(d.reason_code).toBe("freeze_window_active_block")
    expect(d.reason).toBe("quarter-end")
    expect(evaluateFreezeWindow(policy(), ctx, at("2026-03-10T12:59:59Z")).status).toBe("inactive")
    expect(evaluateFreezeWindow(policy(), ctx, at("2026-03-10T16:00:00Z")).status).toBe("inactive")
  })

  it("handles the daylight-saving change inside a window (01:00 EST to 04:00 EDT)", () => {
    const dst = policy({ windows: [{ name: "dst", start: "2026-03-08T01:00:00", end: "2026-03-08T04:00:00" }] })
    const d = evaluateFreezeWindow(dst, ctx, at("2026-03-08T07:30:00Z"))
    expect(d.status).toBe("active")
    expect(d.window_start).toBe("2026-03-08T06:00:00Z")
    expect(d.window_end).toBe("2026-03-08T08:00:00Z")
  })

  it("fails closed on an unknown zone or an invalid range", () => {
    const tz = evaluateFreezeWindow(policy({ timezone: "Mars/Olympus" }), ctx, at("2026-03-10T14:30:00Z"))
    expect([tz.status, tz.effect, tz.reason_code]).toEqual(["invalid", "block", "freeze_window_invalid_timezone"])
    const range = evaluateFreezeWindow(
      policy({ windows: [{ name: "w", start: "2026-03-10T12:00:00", end: "2026-03-10T09:00:00" }] }),
      ctx,
      at("2026-03-10T14:30:00Z")
    )
    expect([range.status, range.reason_code]).toEqual(["invalid", "freeze_window_invalid_window"])
  })

  it("applies only to listed environments and risk classes", () => {
    expect(evaluateFreezeWindow(policy({ environments: ["staging"] }), ctx, at("2026-03-10T14:30:00Z")).status).toBe("inactive")
    expect(evaluateFreezeWindow(policy({ riskClasses: ["low"] }), ctx, at("2026-03-10T14:30:00Z")).status).toBe("inactive")
  })

  it("prefers invalid over active over inactive, then block", () => {
    const now = at("2026-03-10T14:30:00Z")
    const active = evaluateFreezeWindow(policy({ effect: "require_approval" }), ctx, now)
    const activeBlock = evaluateFreezeWindow(policy(), ctx, now)
    const invalid = evaluateFreezeWindow(policy({ timezone: "Nowhere/None" }), ctx, now)
    expect(pickFreezeWindow(active, activeBlock)).toBe(activeBlock)
    expect(pickFreezeWindow(activeBlock, invalid)).toBe(invalid)
  })
})
