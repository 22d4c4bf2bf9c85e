import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, Option } from "effect"
import { formatGoDuration, parseGoDuration } from "../../src/kernel/duration.js"

const NS = 1n
const US = 1_000n
const MS = 1_000_000n
const S = 1_000_000_000n
const M = 60n * S
const H = 60n * M
const MAX = (1n << 63n) - 1n
const MIN = -(1n << 63n)

describe("parseGoDuration", () => {
  // Go's time_test.go parseDurationTests (all of them), then the forms gait documents.
  it.each([
    ["0", 0n],
    ["5s", 5n * S],
    ["30s", 30n * S],
    ["1478s", 1478n * S],
    ["-5s", -5n * S],
    ["+5s", 5n * S],
    ["-0", 0n],
    ["+0", 0n],
    ["5.0s", 5n * S],
    ["5.6s", 5n * S + 600n * MS],
    ["5.s", 5n * S],
    [".5s", 500n * MS],
    ["1.0s", S],
    ["1.00s", S],
    ["1.004s", S + 4n * MS],
    ["1.0040s", S + 4n * MS],
    ["100.00100s", 100n * S + 1n * MS],
    ["10ns", 10n * NS],
    ["11us", 11n * US],
    ["12\u00b5s", 12n * US], // U+00B5 micro sign
    ["12\u03bcs", 12n * US], // U+03BC Greek mu
    ["13ms", 13n * MS],
    ["14s", 14n * S],
    ["15m", 15n * M],
    ["16h", 16n * H],
    ["3h30m", 3n * H + 30n * M],
    ["10.5s4m", 4n * M + 10n * S + 500n * MS],
    ["-2m3.4s", -(2n * M + 3n * S + 400n * MS)],
    ["1h2m3s4ms5us6ns", H + 2n * M + 3n * S + 4n * MS + 5n * US + 6n * NS],
    ["39h9m14.425s", 39n * H + 9n * M + 14n * S + 425n * MS],
    ["52763797000ns", 52_763_797_000n],
    ["0.3333333333333333333h", 20n * M], // more than 9 fractional digits (golang.org/issue/6617)
    ["9007199254740993ns", (1n << 53n) + 1n],
    ["9223372036854775807ns", MAX],
    ["9223372036854775.807us", MAX],
    ["9223372036s854ms775us807ns", MAX],
    ["-9223372036854775808ns", MIN],
    ["-9223372036854775.808us", MIN],
    ["-9223372036s854ms775us808ns", MIN],
    ["-2562047h47m16.854775808s", MIN], // largest negative round-trip value (golang.org/issue/48629)
    ["0.100000000000000000000h", 6n * M], // huge string (golang.org/issue/15011)
    ["0.830103483285477580700h", 49n * M + 48n * S + 372_539_827n * NS], // first overflow check in leadingFraction
    // The forms gait's config and policies use.
    ["24h", 24n * H],
    ["168h", 168n * H],
    ["90s", 90n * S],
    ["1.5s", 1500n * MS],
    ["250ms", 250n * MS],
    ["300ms", 300n * MS],
    ["1h30m", 90n * M],
    ["0s", 0n],
    ["-1.5h", -90n * M],
    ["1.0000000001s", S],
    ["2562047h47m16.854775807s", MAX]
  ])("%s", (text, nanos) => {
    expect(parseGoDuration(text)).toStrictEqual(Option.some(nanos))
  })

  it.each([
    ["", "empty"],
    ["7d", "days are not a unit"],
    ["3", "missing unit"],
    ["1.5", "missing unit after fraction"],
    ["-", "sign only"],
    ["+", "sign only"],
    [".", "dot only"],
    [".s", "no digits"],
    ["-.s", "no digits after sign"],
    ["s", "unit only"],
    ["1hh", "unit without number"],
    ["1S", "upper-case unit"],
    ["1 s", "space before unit"],
    [" 1s", "leading space"],
    ["1s ", "trailing space"],
    ["1sec", "unknown unit"],
    ["1x", "unknown unit"],
    ["--1s", "double sign"],
    ["9223372036854775808ns", "one past the maximum"],
    ["2562048h", "hours overflow"],
    ["9223372036854775.808us", "fraction overflows"],
    ["9223372036854775808ns", "positive 1<<63"],
    ["-9223372036854775809ns", "below the minimum"],
    ["3000000h", "Go's overflow case"],
    ["9223372036854775807.0s", "huge seconds"],
    ["-.", "sign and dot"],
    ["+.s", "sign, dot and unit"],
    ["1d", "days"],
    ["\uFFFD", "replacement character"],
    ["9223372036854775810ns", "overflow"],
    ["9223372036854776us", "overflow after unit scaling"],
    ["9223372036854ms775us808ns", "overflow across parts"]
  ])("rejects %s (%s)", (text) => {
    expect(parseGoDuration(text)).toStrictEqual(Option.none())
  })
})

describe("formatGoDuration (Go Duration.String)", () => {
  // Go's time_test.go durationTests, plus the examples gait documents.
  it.each([
    [0n, "0s"],
    [1n * NS, "1ns"],
    [1100n * NS, "1.1\u00b5s"],
    [2200n * US, "2.2ms"],
    [3300n * MS, "3.3s"],
    [4n * M + 5n * S, "4m5s"],
    [4n * M + 5001n * MS, "4m5.001s"],
    [5n * H + 6n * M + 7001n * MS, "5h6m7.001s"],
    [8n * M + 1n * NS, "8m0.000000001s"],
    [MAX, "2562047h47m16.854775807s"],
    [MIN, "-2562047h47m16.854775808s"],
    [24n * H, "24h0m0s"],
    [90n * S, "1m30s"],
    [1500n * MS, "1.5s"],
    [250n * MS, "250ms"],
    [90n * M, "1h30m0s"],
    [H, "1h0m0s"],
    [M, "1m0s"],
    [S, "1s"],
    [-1n, "-1ns"],
    [-90n * S, "-1m30s"],
    [999n, "999ns"],
    [1000n, "1\u00b5s"],
    [999_999n, "999.999\u00b5s"],
    [1_000_000n, "1ms"]
  ])("%s ns → %s", (nanos, text) => {
    expect(formatGoDuration(nanos)).toBe(text)
  })

  it("uses the micro sign U+00B5, as Go does", () => {
    expect(formatGoDuration(1500n).codePointAt(3)).toBe(0xb5)
  })

  it.prop("parse(format(d)) === d (MIN itself is in the table above)", [fc.bigInt({ min: MIN + 1n, max: MAX })], ([nanos]) => {
    expect(parseGoDuration(formatGoDuration(nanos))).toStrictEqual(Option.some(nanos))
  })
})
