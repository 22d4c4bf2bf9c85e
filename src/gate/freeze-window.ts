/**
 * Freeze windows (spec gate.md §4.7): a rule may forbid (or gate behind approval) its effect during
 * wall-clock windows of an IANA time zone. Windows are `YYYY-MM-DDTHH:MM:SS` in the policy's zone;
 * zone offsets, including daylight-saving changes, come from the runtime's ICU data via `Intl`.
 */
import { compareBytes, lowerTrim } from "../kernel/text.js"
import { formatRfc3339Nano, GO_ZERO_TIME } from "../kernel/time.js"
import type { FreezeWindowPolicy } from "./policy.js"
import type { Verdict } from "./vocabulary.js"

export interface FreezeWindowDecision {
  readonly status: "inactive" | "active" | "invalid"
  readonly effect: Verdict
  readonly timezone: string
  readonly evaluated_at: string
  readonly window_name?: string
  /** UTC; Go's zero time when no window is active (the reference serializes it regardless). */
  readonly window_start: string
  readonly window_end: string
  readonly reason?: string
  readonly reason_code?: string
}

const formatters = new Map<string, Intl.DateTimeFormat | undefined>()

/** A formatter for the zone, or undefined when the runtime does not know it. */
const formatterFor = (timezone: string): Intl.DateTimeFormat | undefined => {
  if (formatters.has(timezone)) return formatters.get(timezone)
  const zone = timezone === "Local" ? Intl.DateTimeFormat().resolvedOptions().timeZone : timezone
  let formatter: Intl.DateTimeFormat | undefined
  try {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit"
    })
  } catch {
    formatter = undefined
  }
  formatters.set(timezone, formatter)
  return formatter
}

/** Offset (ms) of the zone at a UTC instant: local wall time minus UTC. */
const offsetAt = (formatter: Intl.DateTimeFormat, utcMillis: number): number => {
  const parts: Record<string, number> = {}
  for (const p of formatter.formatToParts(new Date(utcMillis))) if (p.type !== "literal") parts[p.type] = Number(p.value)
  const asUtc = Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
  return asUtc - Math.floor(utcMillis / 1000) * 1000
}

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/

/** Wall time in the zone → UTC epoch ms, or undefined when the text is not a valid wall time. */
export const zonedWallTimeToUtc = (text: string, formatter: Intl.DateTimeFormat): number | undefined => {
  const m = WALL_TIME.exec(text)
  if (m === null) return undefined
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const guess = Date.UTC(y, mo - 1, d, h, mi, s)
  const check = new Date(guess)
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined
  const first = guess - offsetAt(formatter, guess)
  const second = offsetAt(formatter, first)
  return guess - second
}

const msToRfc3339 = (ms: number): string => formatRfc3339Nano(BigInt(ms) * 1_000_000n)

export const evaluateFreezeWindow = (
  policy: FreezeWindowPolicy,
  context: { readonly environment: string; readonly riskClass: string },
  now: bigint
): FreezeWindowDecision => {
  const base = {
    status: "inactive" as const,
    effect: policy.effect,
    timezone: policy.timezone,
    evaluated_at: formatRfc3339Nano(now),
    window_start: GO_ZERO_TIME,
    window_end: GO_ZERO_TIME
  }
  if (policy.environments.length > 0 && !policy.environments.includes(lowerTrim(context.environment))) return base
  if (policy.riskClasses.length > 0 && !policy.riskClasses.includes(lowerTrim(context.riskClass))) return base
  const formatter = formatterFor(policy.timezone)
  if (formatter === undefined) {
    return {
      ...base,
      status: "invalid",
      effect: "block",
      reason: "freeze window timezone could not be loaded",
      reason_code: "freeze_window_invalid_timezone"
    }
  }
  const nowMs = Number(now / 1_000_000n)
  for (const window of policy.windows) {
    const start = zonedWallTimeToUtc(window.start, formatter)
    const end = zonedWallTimeToUtc(window.end, formatter)
    if (start === undefined || end === undefined || end <= start) {
      return {
        ...base,
        status: "invalid",
        effect: "block",
        reason: "freeze window has an invalid range",
        reason_code: "freeze_window_invalid_window"
      }
    }
    if (start <= nowMs && nowMs < end) {
      return {
        ...base,
        status: "active",
        window_name: window.name,
        window_start: msToRfc3339(start),
        window_end: msToRfc3339(end),
        reason: policy.reason !== "" ? policy.reason : window.name,
        reason_code: policy.effect === "require_approval" ? "freeze_window_active_require_approval" : "freeze_window_active_block"
      }
    }
  }
  return base
}

const STATUS_RANK = { invalid: 3, active: 2, inactive: 1 } as const

/** Across rules: invalid > active > inactive, then block > require_approval, then the smaller window name. */
export const pickFreezeWindow = (a: FreezeWindowDecision | undefined, b: FreezeWindowDecision): FreezeWindowDecision => {
  if (a === undefined) return b
  if (STATUS_RANK[a.status] !== STATUS_RANK[b.status]) return STATUS_RANK[b.status] > STATUS_RANK[a.status] ? b : a
  if (a.effect !== b.effect) return b.effect === "block" ? b : a
  return compareBytes(b.window_name ?? "", a.window_name ?? "") < 0 ? b : a
}
