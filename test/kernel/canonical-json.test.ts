/**
 * RFC 8785 (JCS) against the RFC's own published examples, plus properties that every canonical form
 * must have. Expected strings are copied from the RFC, never produced by the code under test.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import { CanonicalJsonError, canonicalize, type Json } from "../../src/kernel/canonical-json.js"

/** Builds the IEEE-754 binary64 value whose big-endian bits are `hex` (16 hex digits). */
const fromBits = (hex: string): number => {
  const view = new DataView(new ArrayBuffer(8))
  view.setBigUint64(0, BigInt(`0x${hex}`))
  return view.getFloat64(0)
}

const ok = (value: unknown): string => {
  const result = canonicalize(value)
  if (Either.isLeft(result)) throw new Error(`expected a canonical form, got ${result.left.message}`)
  return result.right
}

const failure = (value: unknown): CanonicalJsonError => {
  const result = canonicalize(value)
  if (Either.isRight(result)) throw new Error(`expected CanonicalJsonError, got ${result.right}`)
  return result.left
}

describe("canonicalize: RFC 8785 Appendix B number serialization", () => {
  // RFC 8785 Appendix B, "Number Serialization Samples": IEEE-754 hex → JSON representation.
  const table: ReadonlyArray<readonly [string, string]> = [
    ["0000000000000000", "0"],
    ["8000000000000000", "0"], // minus zero
    ["0000000000000001", "5e-324"], // min pos number
    ["8000000000000001", "-5e-324"], // min neg number
    ["7fefffffffffffff", "1.7976931348623157e+308"], // max pos number
    ["ffefffffffffffff", "-1.7976931348623157e+308"], // max neg number
    ["4340000000000000", "9007199254740992"], // max pos int
    ["c340000000000000", "-9007199254740992"], // max neg int
    ["4430000000000000", "295147905179352830000"], // ~2**68
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"] // round to even
  ]

  it.each(table)("0x%s serializes as %s", (hex, expected) => {
    expect(ok(fromBits(hex))).toBe(expected)
    // The same number inside a structure serializes the same way.
    expect(ok({ n: [fromBits(hex)] })).toBe(`{"n":[${expected}]}`)
  })

  it("the hex helper really builds the doubles (sanity check of the fixture)", () => {
    expect(Object.is(fromBits("8000000000000000"), -0)).toBe(true)
    expect(fromBits("0000000000000001")).toBe(Number.MIN_VALUE)
    expect(fromBits("7fefffffffffffff")).toBe(Number.MAX_VALUE)
    expect(fromBits("4340000000000000")).toBe(2 ** 53)
  })

  // Appendix B lists NaN (7fffffffffffffff) and Infinity (7ff0000000000000) with no representation: they are errors.
  it.each([
    ["NaN (0x7fffffffffffffff)", fromBits("7fffffffffffffff")],
    ["Infinity (0x7ff0000000000000)", fromBits("7ff0000000000000")],
    ["-Infinity (0xfff0000000000000)", fromBits("fff0000000000000")]
  ])("%s is rejected with CanonicalJsonError", (_label, value) => {
    const error = failure(value)
    expect(error).toBeInstanceOf(CanonicalJsonError)
    expect(error._tag).toBe("CanonicalJsonError")
    expect(error.at).toBe("$")
    expect(error.reason).toContain("non-finite")
  })

  it("reports where a nested non-finite number sits", () => {
    const error = failure({ args: { list: [1, Number.NaN] } })
    expect(error.at).toBe("$.args.list[1]")
    expect(error.message).toContain("$.args.list[1]")
  })
})

describe("canonicalize: RFC 8785 §3.2 examples", () => {
  it("§3.2.2 / §3.2.3: the sample object (parsed from its JSON text) canonicalizes byte for byte", () => {
    // The RFC's input text, with its \u escapes, 1E30, 4.50 and the long fraction.
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`
    expect(ok(JSON.parse(input))).toBe(expected)
  })

  it("§3.2.2.2: string escaping (control characters as lowercase \\u00xx, short forms, no escaping of / or non-ASCII)", () => {
    const parsed: unknown = JSON.parse(String.raw`"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"`)
    expect(ok(parsed)).toBe(String.raw`"€$\u000f\nA'B\"\\\\\"/"`)
    expect(ok("\b\f\n\r\t\u0000\u001f\u007f")).toBe(String.raw`"\b\f\n\r\t\u0000\u001f` + "\u007f" + `"`)
  })

  it("§3.2.3: keys are sorted by UTF-16 code units (the RFC's seven-key example)", () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`
    const expected =
      `{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",` +
      `"\u20ac":"Euro Sign","\u{1F600}":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}`
    expect(ok(JSON.parse(input))).toBe(expected)
  })

  it("§3.2.3: UTF-16 order puts an astral key before U+E000..U+FFFF (unlike UTF-8 byte order)", () => {
    expect(ok({ "\ue000": 1, "\u{1D11E}": 2 })).toBe(`{"\u{1D11E}":2,"\ue000":1}`)
  })

  it("§3.2.3: sorting is recursive and arrays keep their order", () => {
    expect(ok({ b: [{ z: 1, a: 2 }, 3], a: { d: null, c: true } })).toBe('{"a":{"c":true,"d":null},"b":[{"a":2,"z":1},3]}')
  })

  it("integer-like keys are sorted as strings, not in JavaScript's numeric property order", () => {
    expect(ok({ b: 1, 10: 2, 9: 3, a: 4 })).toBe('{"10":2,"9":3,"a":4,"b":1}')
  })

  it("§3.2.4: output is compact and non-ASCII text is plain UTF-8", () => {
    const text = ok({ literals: [null, true, false] })
    expect(text).toBe('{"literals":[null,true,false]}')
    const bytes = Buffer.from(ok({ "€": 1 }), "utf8")
    expect([...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ")).toBe("7b 22 e2 82 ac 22 3a 31 7d")
  })

  it("literals and empty containers", () => {
    expect(ok(null)).toBe("null")
    expect(ok(true)).toBe("true")
    expect(ok(false)).toBe("false")
    expect(ok({})).toBe("{}")
    expect(ok([])).toBe("[]")
    expect(ok("")).toBe('""')
  })
})

describe("canonicalize: I-JSON restrictions and JavaScript values", () => {
  it("rejects a lone high surrogate in a string value", () => {
    const error = failure({ s: "a\ud800b" })
    expect(error.at).toBe("$.s")
    expect(error.reason).toContain("lone surrogate")
  })

  it("rejects a lone low surrogate and a reversed pair", () => {
    expect(Either.isLeft(canonicalize("\udc00"))).toBe(true)
    expect(Either.isLeft(canonicalize("\ude00\ud83d"))).toBe(true)
  })

  it("rejects a lone surrogate in an object key", () => {
    const error = failure({ "\ud83d": 1 })
    expect(error.reason).toContain("lone surrogate")
  })

  it("accepts a well-formed surrogate pair and writes it as raw UTF-8", () => {
    expect(ok("\ud83d\ude00")).toBe('"\u{1F600}"')
  })

  it("skips object members whose value is undefined", () => {
    expect(ok({ a: undefined, b: 1, c: undefined })).toBe('{"b":1}')
    expect(ok({ only: undefined })).toBe("{}")
  })

  it("rejects values JSON cannot represent (bigint, function, symbol, top-level undefined)", () => {
    expect(failure(1n).reason).toContain("bigint")
    expect(failure({ f: () => 1 }).at).toBe("$.f")
    expect(failure([Symbol("s")]).at).toBe("$[0]")
    expect(Either.isLeft(canonicalize(undefined))).toBe(true)
  })

  it("reports only the first failure", () => {
    const error = failure({ a: Number.NaN, b: "\ud800" })
    expect(error.at).toBe("$.a")
  })
})

/** Arbitrary I-JSON values: finite numbers, well-formed strings, nested arrays and objects. */
const jsonValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.string({ unit: "grapheme" }),
    fc.string({ unit: "binary" }),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: "binary" }), tie("value"), { maxKeys: 5 })
  )
})).value

/** The same value with the insertion order of every object's keys reversed. */
const reverseKeys = (value: Json): Json => {
  if (Array.isArray(value)) return value.map(reverseKeys)
  if (value !== null && typeof value === "object") {
    const out: Record<string, Json> = {}
    for (const key of Object.keys(value).reverse()) out[key] = reverseKeys((value as Record<string, Json>)[key] as Json)
    return out
  }
  return value
}

describe("canonicalize: properties", () => {
  it.prop("is idempotent: canonicalize(JSON.parse(c)) === c", [jsonValue], ([value]) => {
    const c = ok(value)
    expect(ok(JSON.parse(c))).toBe(c)
  })

  it.prop("is valid JSON that parses back to an equal value", [jsonValue], ([value]) => {
    const c = ok(value)
    // -0 is written as 0, so compare against the JSON.stringify round trip (which does the same).
    expect(JSON.parse(c)).toStrictEqual(JSON.parse(JSON.stringify(value)))
  })

  it.prop("does not depend on key insertion order", [jsonValue], ([value]) => {
    expect(ok(reverseKeys(value))).toBe(ok(value))
  })

  it.prop(
    "emits object keys in UTF-16 code-unit order",
    [fc.dictionary(fc.string({ unit: "binary" }), fc.integer(), { maxKeys: 8 })],
    ([record]) => {
      // An independent comparator over code units (not Array#sort's default, which the code under test uses).
      const byUnits = (a: string, b: string): number => {
        for (let i = 0; i < Math.min(a.length, b.length); i++) {
          const d = a.charCodeAt(i) - b.charCodeAt(i)
          if (d !== 0) return d
        }
        return a.length - b.length
      }
      const keys = Object.keys(record)
      keys.sort(byUnits)
      const expected = `{${keys.map((k) => `${JSON.stringify(k)}:${String(record[k])}`).join(",")}}`
      expect(ok(record)).toBe(expected)
    }
  )

  it.prop("rejects every string that contains a lone surrogate", [fc.string(), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string()], ([pre, unit, post]) => {
    // Guard against accidentally forming a valid pair with the neighbours.
    const s = `${pre}x${String.fromCharCode(unit)}x${post}`
    expect(Either.isLeft(canonicalize({ k: s }))).toBe(true)
  })
})
