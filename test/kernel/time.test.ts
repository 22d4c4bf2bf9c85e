import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, Option } from "effect"
import { DEFAULT_CREATED_AT, formatRfc3339Nano, GO_ZERO_TIME, nanosToMillis, parseRfc3339 } from "../../src/kernel/time.js"

/** Epoch nanoseconds of a UTC wall time, computed independently of the code under test. */
const utcNanos = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0, nanos = 0n): bigint => {
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  d.setUTCHours(hour, minute, second, 0)
  return BigInt(d.getTime()) * 1_000_000n + nanos
}

const FEB_6_16H = utcNanos(2026, 2, 6, 16)

describe("formatRfc3339Nano", () => {
  it("trims trailing fractional zeros (ops.md §0.3)", () => {
    expect(formatRfc3339Nano(FEB_6_16H + 120_000_000n)).toBe("2026-02-06T16:00:00.12Z")
    expect(formatRfc3339Nano(FEB_6_16H + 953_970_000n)).toBe("2026-02-06T16:00:00.95397Z")
    expect(formatRfc3339Nano(FEB_6_16H + 500_000_000n)).toBe("2026-02-06T16:00:00.5Z")
  })

  it("writes no fraction for whole seconds", () => {
    expect(formatRfc3339Nano(FEB_6_16H)).toBe("2026-02-06T16:00:00Z")
    expect(formatRfc3339Nano(0n)).toBe("1970-01-01T00:00:00Z")
  })

  it("keeps all nine digits when the last one is not zero", () => {
    expect(formatRfc3339Nano(FEB_6_16H + 1n)).toBe("2026-02-06T16:00:00.000000001Z")
    expect(formatRfc3339Nano(FEB_6_16H + 123_456_789n)).toBe("2026-02-06T16:00:00.123456789Z")
    expect(formatRfc3339Nano(FEB_6_16H + 1_000n)).toBe("2026-02-06T16:00:00.000001Z")
  })

  it("handles instants before the epoch", () => {
    expect(formatRfc3339Nano(-1n)).toBe("1969-12-31T23:59:59.999999999Z")
    expect(formatRfc3339Nano(-1_000_000_000n)).toBe("1969-12-31T23:59:59Z")
    expect(formatRfc3339Nano(-500_000_000n)).toBe("1969-12-31T23:59:59.5Z")
  })

  it("formats Go's zero time (year 1)", () => {
    expect(formatRfc3339Nano(-62_135_596_800n * 1_000_000_000n)).toBe(GO_ZERO_TIME)
    expect(GO_ZERO_TIME).toBe("0001-01-01T00:00:00Z")
  })
})

describe("parseRfc3339", () => {
  it("parses UTC timestamps with and without a fraction", () => {
    expect(parseRfc3339("2026-02-06T16:00:00Z")).toStrictEqual(Option.some(FEB_6_16H))
    expect(parseRfc3339("2026-02-06T16:00:00.12Z")).toStrictEqual(Option.some(FEB_6_16H + 120_000_000n))
    expect(parseRfc3339("2026-02-06T16:00:00.000000001Z")).toStrictEqual(Option.some(FEB_6_16H + 1n))
    expect(parseRfc3339("2026-02-06T16:00:00.123456789Z")).toStrictEqual(Option.some(FEB_6_16H + 123_456_789n))
  })

  it("accepts numeric offsets and converts to UTC", () => {
    expect(parseRfc3339("2026-02-06T17:00:00+01:00")).toStrictEqual(Option.some(FEB_6_16H))
    expect(parseRfc3339("2026-02-06T11:00:00-05:00")).toStrictEqual(Option.some(FEB_6_16H))
    expect(parseRfc3339("2026-02-06T21:30:00.5+05:30")).toStrictEqual(Option.some(FEB_6_16H + 500_000_000n))
    expect(parseRfc3339("2026-02-06T16:00:00+00:00")).toStrictEqual(Option.some(FEB_6_16H))
    // The offset can move the instant across a day boundary.
    expect(parseRfc3339("2026-02-07T01:00:00+09:00")).toStrictEqual(Option.some(FEB_6_16H))
    expect(parseRfc3339("2026-01-01T00:30:00+01:00")).toStrictEqual(Option.some(utcNanos(2025, 12, 31, 23, 30)))
  })

  it("re-formats an offset timestamp in UTC", () => {
    const parsed = Option.getOrThrow(parseRfc3339("2026-02-06T18:00:00.120+02:00"))
    expect(formatRfc3339Nano(parsed)).toBe("2026-02-06T16:00:00.12Z")
  })

  it("handles year 0001 (Go's zero time) and years below 100 without mapping them to 19xx", () => {
    expect(parseRfc3339("0001-01-01T00:00:00Z")).toStrictEqual(Option.some(-62_135_596_800n * 1_000_000_000n))
    expect(Option.map(parseRfc3339(GO_ZERO_TIME), formatRfc3339Nano)).toStrictEqual(Option.some(GO_ZERO_TIME))
    expect(Option.map(parseRfc3339("0099-12-31T23:59:59Z"), formatRfc3339Nano)).toStrictEqual(Option.some("0099-12-31T23:59:59Z"))
  })

  it("accepts leap days only in leap years", () => {
    expect(Option.isSome(parseRfc3339("2024-02-29T00:00:00Z"))).toBe(true)
    expect(Option.isSome(parseRfc3339("2000-02-29T00:00:00Z"))).toBe(true)
    expect(Option.isNone(parseRfc3339("2025-02-29T00:00:00Z"))).toBe(true)
    expect(Option.isNone(parseRfc3339("1900-02-29T00:00:00Z"))).toBe(true)
  })

  it.each([
    ["2026-02-30T00:00:00Z", "February 30"],
    ["2026-04-31T00:00:00Z", "April 31"],
    ["2026-13-01T00:00:00Z", "month 13"],
    ["2026-00-01T00:00:00Z", "month 0"],
    ["2026-01-00T00:00:00Z", "day 0"],
    ["2026-01-32T00:00:00Z", "day 32"],
    ["2026-02-06T24:00:00Z", "hour 24"],
    ["2026-02-06T16:60:00Z", "minute 60"],
    ["2026-02-06T16:00:60Z", "second 60"],
    ["2026-02-06T16:00:00", "no zone"],
    ["2026-02-06", "date only"],
    ["2026-02-06 16:00:00Z", "space instead of T"],
    ["2026-02-06T16:00:00.Z", "empty fraction"],
    ["2026-02-06T16:00:00+0100", "offset without colon"],
    ["2026-02-06T16:00:00+1", "short offset"],
    ["2026-02-06T16:00:00+24:00", "offset hour 24"],
    ["2026-02-06T16:00:00+01:60", "offset minute 60"],
    ["26-02-06T16:00:00Z", "two-digit year"],
    ["2026-2-6T16:00:00Z", "unpadded month and day"],
    [" 2026-02-06T16:00:00Z", "leading space"],
    ["2026-02-06T16:00:00Z ", "trailing space"],
    ["", "empty"]
  ])("rejects %s (%s)", (text) => {
    expect(parseRfc3339(text)).toStrictEqual(Option.none())
  })

  it.prop(
    "round-trips every instant between years 1 and 9999",
    [fc.bigInt({ min: -62_135_596_800n * 1_000_000_000n, max: 253_402_300_799n * 1_000_000_000n + 999_999_999n })],
    ([nanos]) => {
      const text = formatRfc3339Nano(nanos)
      expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d*[1-9])?Z$/)
      expect(parseRfc3339(text)).toStrictEqual(Option.some(nanos))
    }
  )
})

describe("constants and conversions", () => {
  it("DEFAULT_CREATED_AT is the reference's 1980 fallback", () => {
    expect(DEFAULT_CREATED_AT).toBe("1980-01-01T00:00:00Z")
    expect(Option.map(parseRfc3339(DEFAULT_CREATED_AT), formatRfc3339Nano)).toStrictEqual(Option.some(DEFAULT_CREATED_AT))
  })

  it("nanosToMillis truncates towards zero", () => {
    expect(nanosToMillis(FEB_6_16H + 999_999n)).toBe(Date.UTC(2026, 1, 6, 16))
    expect(nanosToMillis(1_500_000n)).toBe(1)
    expect(nanosToMillis(0n)).toBe(0)
  })
})
