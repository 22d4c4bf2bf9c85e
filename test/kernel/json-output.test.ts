import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { renderJsonFile, renderJsonLine } from "../../src/kernel/json-output.js"

describe("renderJsonLine (ops.md §0)", () => {
  it("sorts keys at every level, including inside arrays", () => {
    const value = { z: 1, a: { y: [{ d: 1, c: 2 }, { b: { k: 1, j: 2 } }], x: null }, m: "s" }
    expect(renderJsonLine(value)).toBe('{"a":{"x":null,"y":[{"c":2,"d":1},{"b":{"j":2,"k":1}}]},"m":"s","z":1}')
  })

  it("is compact, one line, without a trailing newline", () => {
    const line = renderJsonLine({ ok: true, list: [1, 2], text: "a\nb" })
    expect(line).toBe('{"list":[1,2],"ok":true,"text":"a\\nb"}')
    expect(line).not.toContain("\n")
  })

  it("escapes <, > and & as Go's encoder does (lowercase hex)", () => {
    expect(renderJsonLine({ html: "<a href='x'>&amp;</a>" })).toBe(`{"html":"\\u003ca href='x'\\u003e\\u0026amp;\\u003c/a\\u003e"}`)
  })

  it("escapes U+2028 and U+2029", () => {
    expect(renderJsonLine(["\u2028", "\u2029"])).toBe('["\\u2028","\\u2029"]')
  })

  it("escapes in keys too", () => {
    expect(renderJsonLine({ "a<b": 1 })).toBe('{"a\\u003cb":1}')
  })

  it("keeps other non-ASCII text as UTF-8", () => {
    expect(renderJsonLine({ s: "€ é \u{1F600}" })).toBe('{"s":"€ é \u{1F600}"}')
  })

  it("omits undefined members", () => {
    expect(renderJsonLine({ a: undefined, b: 1, c: { d: undefined } })).toBe('{"b":1,"c":{}}')
  })

  it("writes numbers like Go's encoder (ES6 form: 1e+21, 1e-7, no exponent padding)", () => {
    expect(renderJsonLine([1e21, 1e-7, 0.000001, 123456789, 1.5, -0])).toBe("[1e+21,1e-7,0.000001,123456789,1.5,0]")
  })

  it("orders integer-like keys as strings, as Go's sorted map keys do", () => {
    // Go marshals map[string]any with keys sorted bytewise: "10" < "9" < "a".
    expect(renderJsonLine({ a: 1, 9: 2, 10: 3 })).toBe('{"10":3,"9":2,"a":1}')
  })

  it("orders keys by UTF-8 bytes, as Go's sorted map keys do (U+FFFF before an astral key)", () => {
    expect(renderJsonLine({ "\u{1F600}": 1, "\uffff": 2 })).toBe('{"\uffff":2,"\u{1F600}":1}')
  })

  it.prop(
    "parses back to the same value (for JSON values with non-numeric keys)",
    [fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown)],
    ([value]) => {
      expect(JSON.parse(renderJsonLine(value))).toStrictEqual(value)
    }
  )
})

describe("renderJsonFile", () => {
  it("keeps insertion order, indents by two spaces and ends with a newline", () => {
    expect(renderJsonFile({ b: 1, a: [1, { d: 2, c: "<" }] })).toBe(
      '{\n  "b": 1,\n  "a": [\n    1,\n    {\n      "d": 2,\n      "c": "<"\n    }\n  ]\n}\n'
    )
  })
})
