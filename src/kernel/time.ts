/**
 * Timestamps with nanosecond precision, formatted as Go's RFC3339Nano in UTC (trailing fractional
 * zeros trimmed). JavaScript's `Date` keeps milliseconds only; gait hashes and signs these strings,
 * so they are carried as epoch nanoseconds (`bigint`) and never round-tripped through `Date`.
 */
import { Option } from "effect"

const NANOS_PER_SECOND = 1_000_000_000n

/** Formats epoch nanoseconds as RFC3339Nano UTC, e.g. `2026-02-06T16:00:00.12Z`. */
export const formatRfc3339Nano = (epochNanos: bigint): string => {
  let seconds = epochNanos / NANOS_PER_SECOND
  let nanos = epochNanos % NANOS_PER_SECOND
  if (nanos < 0n) {
    nanos += NANOS_PER_SECOND
    seconds -= 1n
  }
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19)
  const fraction = nanos === 0n ? "" : `.${nanos.toString().padStart(9, "0").replace(/0+$/, "")}`
  return `${base}${fraction}Z`
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

/** Parses an RFC 3339 timestamp into epoch nanoseconds; `None` when it is not one. */
export const parseRfc3339 = (text: string): Option.Option<bigint> => {
  const m = RFC3339.exec(text)
  if (m === null) return Option.none()
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return Option.none()
  // setUTCFullYear, unlike Date.UTC, does not map years 0..99 to 1900..1999 (Go's zero time is year 1).
  const check = new Date(0)
  check.setUTCFullYear(year, month - 1, day)
  check.setUTCHours(hour, minute, second, 0)
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return Option.none()
  const utcMillis = check.getTime()
  const offsetMinutes = m[8] !== undefined ? 0 : (m[9] === "-" ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]))
  if (m[8] === undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return Option.none()
  const fraction = BigInt((m[7] ?? "").padEnd(9, "0") || "0")
  const seconds = BigInt(utcMillis / 1000 - offsetMinutes * 60)
  return Option.some(seconds * NANOS_PER_SECOND + fraction)
}

/** Go's zero `time.Time`, which the reference serializes even for omitempty fields. */
export const GO_ZERO_TIME = "0001-01-01T00:00:00Z"

/** The reference's fallback `created_at` when an intent carries none. */
export const DEFAULT_CREATED_AT = "1980-01-01T00:00:00Z"

export const nanosToMillis = (nanos: bigint): number => Number(nanos / 1_000_000n)
