import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { cleanPath, compareBytes, lowerTrim, trim, uniqueSorted, uniqueSortedLower } from "../../src/kernel/text.js"

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0)
const utf8Order = (a: string, b: string): number => sign(Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")))

describe("trim / lowerTrim (Go strings.TrimSpace / strings.ToLower)", () => {
  it("trims ASCII and Unicode White_Space", () => {
    expect(trim(" \t\n\v\f\r x \r\n")).toBe("x")
    expect(trim("\u00a0\u2000\u3000x\u2028\u2029\u205f")).toBe("x")
    expect(trim("a b")).toBe("a b")
  })

  it("trims U+0085 (NEL), which Go's unicode.IsSpace counts as space", () => {
    expect(trim("\u0085x\u0085")).toBe("x")
  })

  it("lowerTrim lowers and trims", () => {
    expect(lowerTrim("  Tool.READ \n")).toBe("tool.read")
  })

  it("lowerTrim maps rune by rune like Go's strings.ToLower (no final-sigma or dotted-I expansion)", () => {
    // Go: unicode.ToLower('Σ') = 'σ' everywhere; unicode.ToLower('İ') = 'i'.
    expect(lowerTrim("ΟΔΟΣ")).toBe("οδοσ")
    expect(lowerTrim("İ")).toBe("i")
  })
})

describe("compareBytes", () => {
  it("orders ASCII like plain comparison", () => {
    expect(sign(compareBytes("a", "b"))).toBe(-1)
    expect(sign(compareBytes("b", "a"))).toBe(1)
    expect(compareBytes("abc", "abc")).toBe(0)
    expect(sign(compareBytes("ab", "abc"))).toBe(-1)
    expect(sign(compareBytes("B", "a"))).toBe(-1)
    expect(sign(compareBytes("", "a"))).toBe(-1)
  })

  it("orders an astral character after U+E000..U+FFFF, as UTF-8 bytes do (UTF-16 order is the opposite)", () => {
    const astral = "\u{1F600}" // F0 9F 98 80; UTF-16 D83D DE00
    for (const bmp of ["\ue000", "\uf8ff", "\ufb33", "\ufeff", "\uffff"]) {
      expect(sign(compareBytes(bmp, astral))).toBe(-1)
      expect(sign(compareBytes(astral, bmp))).toBe(1)
      expect(bmp < astral).toBe(false) // the JavaScript default, which is wrong here
    }
  })

  it("orders astral characters among themselves and after the rest of the BMP", () => {
    expect(sign(compareBytes("\u{10000}", "\u{10FFFF}"))).toBe(-1)
    expect(sign(compareBytes("\u{1D11E}", "\u{1F600}"))).toBe(-1)
    expect(sign(compareBytes("\ud7ff", "\u{10000}"))).toBe(-1)
    expect(sign(compareBytes("\u00e9", "\u20ac"))).toBe(-1)
  })

  it.prop("agrees with the order of the UTF-8 encodings", [fc.string({ unit: "binary" }), fc.string({ unit: "binary" })], ([a, b]) => {
    expect(sign(compareBytes(a, b))).toBe(utf8Order(a, b))
  })

  it.prop(
    "agrees with UTF-8 order on strings drawn from the interesting ranges",
    [fc.array(fc.constantFrom("a", "\u007f", "\u0080", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff", "\u{10000}", "\u{1F600}", "\u{10FFFF}"), { maxLength: 4 }).map((xs) => xs.join("")), fc.array(fc.constantFrom("a", "\u007f", "\u0080", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff", "\u{10000}", "\u{1F600}", "\u{10FFFF}"), { maxLength: 4 }).map((xs) => xs.join(""))],
    ([a, b]) => {
      expect(sign(compareBytes(a, b))).toBe(utf8Order(a, b))
    }
  )
})

describe("uniqueSorted", () => {
  it("trims, drops empty strings, deduplicates and sorts by byte order", () => {
    expect(uniqueSorted([" b", "a ", "", "  ", "b", "\tc\n", "a"])).toStrictEqual(["a", "b", "c"])
  })

  it("is case-sensitive (upper case sorts first)", () => {
    expect(uniqueSorted(["b", "B", "a", "A"])).toStrictEqual(["A", "B", "a", "b"])
  })

  it("deduplicates after trimming", () => {
    expect(uniqueSorted(["x", " x", "x "])).toStrictEqual(["x"])
  })

  it("never returns null: null, undefined and [] give a fresh empty array", () => {
    expect(uniqueSorted(null)).toStrictEqual([])
    expect(uniqueSorted(undefined)).toStrictEqual([])
    expect(uniqueSorted([])).toStrictEqual([])
    expect(uniqueSorted([" ", ""])).toStrictEqual([])
  })

  it("sorts by UTF-8 byte order, not UTF-16", () => {
    expect(uniqueSorted(["\u{1F600}", "\uffff", "z", "\u00e9"])).toStrictEqual(["z", "\u00e9", "\uffff", "\u{1F600}"])
  })

  it("does not mutate its input", () => {
    const input = ["b", "a"]
    uniqueSorted(input)
    expect(input).toStrictEqual(["b", "a"])
  })

  it("applies a custom map before deduplication", () => {
    expect(uniqueSorted(["a", "b"], (s) => (s === "b" ? "" : s.toUpperCase()))).toStrictEqual(["A"])
  })

  it("uniqueSortedLower lowers before deduplicating", () => {
    expect(uniqueSortedLower([" Read", "READ", "write ", "Write"])).toStrictEqual(["read", "write"])
    expect(uniqueSortedLower(null)).toStrictEqual([])
  })

  it.prop("result is sorted, unique, trimmed and non-empty", [fc.array(fc.string({ unit: "binary" }), { maxLength: 12 })], ([items]) => {
    const out = uniqueSorted(items)
    expect(new Set(out).size).toBe(out.length)
    for (const s of out) {
      expect(s).not.toBe("")
      expect(s).toBe(s.trim())
      expect(items.some((i) => i.trim() === s)).toBe(true)
    }
    for (let i = 1; i < out.length; i++) expect(utf8Order(out[i - 1] as string, out[i] as string)).toBe(-1)
    for (const i of items) if (i.trim() !== "") expect(out).toContain(i.trim())
  })
})

describe("cleanPath (Go filepath.Clean on Linux)", () => {
  // Go's path/filepath cleantests (the non-Windows ones) plus the cases gait relies on.
  it.each([
    // already clean
    ["abc", "abc"],
    ["abc/def", "abc/def"],
    ["a/b/c", "a/b/c"],
    [".", "."],
    ["..", ".."],
    ["../..", "../.."],
    ["../../abc", "../../abc"],
    ["/abc", "/abc"],
    ["/", "/"],
    // empty is the current directory
    ["", "."],
    // trailing slashes
    ["abc/", "abc"],
    ["abc/def/", "abc/def"],
    ["a/b/c/", "a/b/c"],
    ["./", "."],
    ["../", ".."],
    ["../../", "../.."],
    ["/abc/", "/abc"],
    // doubled slashes
    ["abc//def//ghi", "abc/def/ghi"],
    ["abc//", "abc"],
    ["a//b/", "a/b"],
    ["//abc", "/abc"],
    ["///", "/"],
    // . elements
    ["abc/./def", "abc/def"],
    ["/./abc/def", "/abc/def"],
    ["abc/.", "abc"],
    ["./x", "x"],
    // .. elements
    ["abc/def/ghi/../jkl", "abc/def/jkl"],
    ["abc/def/../ghi/../jkl", "abc/jkl"],
    ["abc/def/..", "abc"],
    ["abc/def/../..", "."],
    ["/abc/def/../..", "/"],
    ["abc/def/../../..", ".."],
    ["/abc/def/../../..", "/"],
    ["abc/def/../../../ghi/jkl/../../../mno", "../../mno"],
    ["/../abc", "/abc"],
    ["/../a", "/a"],
    ["a/../..", ".."],
    ["a/../b:/../../c", "../c"],
    // combinations
    ["abc/./../def", "def"],
    ["abc//./../def", "def"],
    ["abc/../../././../def", "../../def"],
    // backslashes are ordinary characters on Linux
    ["a\\b/../c", "c"],
    ["a\\..\\b", "a\\..\\b"],
    ["...", "..."],
    ["a/.../b", "a/.../b"]
  ])("%j → %j", (input, expected) => {
    expect(cleanPath(input)).toBe(expected)
  })

  it.prop("is idempotent", [fc.array(fc.constantFrom("a", "b", ".", "..", "", "..."), { maxLength: 8 }).map((xs) => xs.join("/"))], ([path]) => {
    expect(cleanPath(cleanPath(path))).toBe(cleanPath(path))
  })
})
