/**
 * Go `time.ParseDuration` / `Duration.String`, which gait's config and policies use (`168h`, `1m30s`,
 * `250ms`). Values are nanoseconds as `bigint`. Days (`7d`) are not part of the syntax.
 */
import { Option } from "effect"

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n,
  "μs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n
}

const SECOND = 1_000_000_000n
const MINUTE = 60n * SECOND
const HOUR = 60n * MINUTE
const MAX = 9_223_372_036_854_775_807n

export const DURATION_SYNTAX_HINT = "a Go duration such as 300ms, 30s, 15m, 168h or 1h30m (units ns, us, ms, s, m, h; no d)"

export const parseGoDuration = (text: string): Option.Option<bigint> => {
  let s = text
  let negative = false
  if (s.startsWith("-") || s.startsWith("+")) {
    negative = s.startsWith("-")
    s = s.slice(1)
  }
  if (s === "0") return Option.some(0n)
  if (s === "") return Option.none()
  let total = 0n
  const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/
  while (s !== "") {
    const m = part.exec(s)
    if (m === null) return Option.none()
    const [whole, intPart = "", fracPart] = m
    if (intPart === "" && (fracPart === undefined || fracPart === "")) return Option.none()
    const unit = UNITS[m[3] as string] as bigint
    let value = BigInt(intPart || "0") * unit
    if (fracPart !== undefined && fracPart !== "") {
      // Go's leadingFraction keeps digits while they fit in int64, then adds float64(f) * (unit / scale), truncated.
      let f = 0n
      let scale = 1
      for (const d of fracPart) {
        if (f > (1n << 63n) / 10n) break
        const y = f * 10n + BigInt(d)
        if (y > 1n << 63n) break
        f = y
        scale *= 10
      }
      value += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)))
    }
    total += value
    if (total > MAX + 1n) return Option.none()
    s = s.slice(whole.length)
  }
  if (negative) return Option.some(-total)
  return total > MAX ? Option.none() : Option.some(total)
}

const fraction = (value: bigint, unit: bigint): string => {
  const whole = value / unit
  const rest = value % unit
  if (rest === 0n) return whole.toString()
  const digits = unit.toString().length - 1
  return `${whole}.${rest.toString().padStart(digits, "0").replace(/0+$/, "")}`
}

/** Go's canonical rendering: `24h0m0s`, `1m30s`, `1.5s`, `250ms`, `0s`. */
export const formatGoDuration = (nanos: bigint): string => {
  if (nanos === 0n) return "0s"
  const sign = nanos < 0n ? "-" : ""
  const n = nanos < 0n ? -nanos : nanos
  if (n < 1_000n) return `${sign}${n}ns`
  if (n < 1_000_000n) return `${sign}${fraction(n, 1_000n)}µs`
  if (n < 1_000_000_000n) return `${sign}${fraction(n, 1_000_000n)}ms`
  const hours = n / HOUR
  const minutes = (n % HOUR) / MINUTE
  const seconds = fraction(n % MINUTE, SECOND)
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`
  return `${sign}${seconds}s`
}
