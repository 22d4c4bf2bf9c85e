/** goPathMatch against Go's own path.Match test table (src/path/match_test.go) and a few additions. */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { goPathMatch } from "../../src/gate/glob.js"

// [pattern, name, match, bad pattern] — the rows of Go's matchTests, in order.
const GO_MATCH_TESTS: ReadonlyArray<readonly [string, string, boolean, boolean]> = [
  ["abc", "abc", true, false],
  ["*", "abc", true, false],
  ["*c", "abc", true, false],
  ["a*", "a", true, false],
  ["a*", "abc", true, false],
  ["a*", "ab/c", false, false],
  ["a*/b", "abc/b", true, false],
  ["a*/b", "a/c/b", false, false],
  ["a*b*c*d*e*/f", "axbxcxdxe/f", true, false],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false],
  ["a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false],
  ["a*b?c*x", "abxbbxdbxebxczzx", true, false],
  ["a*b?c*x", "abxbbxdbxebxczzy", false, false],
  ["ab[c]", "abc", true, false],
  ["ab[b-d]", "abc", true, false],
  ["ab[e-g]", "abc", false, false],
  ["ab[^c]", "abc", false, false],
  ["ab[^b-d]", "abc", false, false],
  ["ab[^e-g]", "abc", true, false],
  ["a\\*b", "a*b", true, false],
  ["a\\*b", "ab", false, false],
  ["a?b", "a☺b", true, false],
  ["a[^a]b", "a☺b", true, false],
  ["a???b", "a☺b", false, false],
  ["a[^a][^a][^a]b", "a☺b", false, false],
  ["[a-ζ]*", "α", true, false],
  ["*[a-ζ]", "A", false, false],
  ["a?b", "a/b", false, false],
  ["a*b", "a/b", false, false],
  ["[\\]a]", "]", true, false],
  ["[\\-]", "-", true, false],
  ["[x\\-]", "x", true, false],
  ["[x\\-]", "-", true, false],
  ["[x\\-]", "z", false, false],
  ["[\\-x]", "x", true, false],
  ["[\\-x]", "-", true, false],
  ["[\\-x]", "a", false, false],
  ["[]a]", "]", false, true],
  ["[-]", "-", false, true],
  ["[x-]", "x", false, true],
  ["[x-]", "-", false, true],
  ["[x-]", "z", false, true],
  ["[-x]", "x", false, true],
  ["[-x]", "-", false, true],
  ["[-x]", "a", false, true],
  ["\\", "a", false, true],
  ["[a-b-c]", "a", false, true],
  ["[", "a", false, true],
  ["[^", "a", false, true],
  ["[^bc", "a", false, true],
  ["a[", "a", false, true],
  ["a[", "ab", false, true],
  ["a[", "x", false, true],
  ["a/b[", "x", false, true],
  ["*x", "xxx", true, false]
]

describe("goPathMatch: Go's path.Match table", () => {
  it.each(GO_MATCH_TESTS)("Match(%j, %j) = %s (bad pattern: %s)", (pattern, name, match) => {
    expect(goPathMatch(pattern, name)).toBe(match)
  })
})

describe("goPathMatch: semantics", () => {
  it("* matches any run of non-/ characters, including none, but never crosses /", () => {
    expect(goPathMatch("*", "")).toBe(true)
    expect(goPathMatch("*", "a/b")).toBe(false)
    expect(goPathMatch("/repo/*", "/repo/file")).toBe(true)
    expect(goPathMatch("/repo/*", "/repo/")).toBe(true)
    expect(goPathMatch("/repo/*", "/repo/a/b")).toBe(false)
    expect(goPathMatch("/repo/*/x", "/repo/a/x")).toBe(true)
    expect(goPathMatch("/repo/*/x", "/repo/a/b/x")).toBe(false)
    expect(goPathMatch("**", "a/b")).toBe(false)
    expect(goPathMatch("a**b", "axxb")).toBe(true)
  })

  it("? matches exactly one non-/ character", () => {
    expect(goPathMatch("?", "a")).toBe(true)
    expect(goPathMatch("?", "")).toBe(false)
    expect(goPathMatch("?", "ab")).toBe(false)
    expect(goPathMatch("?", "/")).toBe(false)
  })

  it("? and [^…] match one character even when it is outside the BMP (Go matches runes)", () => {
    expect(goPathMatch("a?b", "a\u{1F600}b")).toBe(true)
    expect(goPathMatch("a[^x]b", "a\u{1F600}b")).toBe(true)
    expect(goPathMatch("a??b", "a\u{1F600}b")).toBe(false)
    expect(goPathMatch("[\u{1F600}]", "\u{1F600}")).toBe(true)
  })

  it("classes: ranges, negation, escapes", () => {
    expect(goPathMatch("[a-c][0-9]", "b7")).toBe(true)
    expect(goPathMatch("[a-c][0-9]", "d7")).toBe(false)
    expect(goPathMatch("[^a-c]", "d")).toBe(true)
    expect(goPathMatch("[^a-c]", "b")).toBe(false)
    expect(goPathMatch("[abc]", "c")).toBe(true)
    expect(goPathMatch("[\\^a]", "^")).toBe(true)
    expect(goPathMatch("[*]", "*")).toBe(true)
    expect(goPathMatch("[*]", "a")).toBe(false)
  })

  it("unlike ? and *, a class is not barred from matching / (Go's matchChunk has no separator check for classes)", () => {
    expect(goPathMatch("a[/]b", "a/b")).toBe(true)
    expect(goPathMatch("a[^x]b", "a/b")).toBe(true)
    expect(goPathMatch("[^/]", "/")).toBe(false)
    expect(goPathMatch("a?b", "a/b")).toBe(false)
  })

  it("Go commits to the leftmost match of each chunk after a star (no backtracking across chunks)", () => {
    // Go: chunk "[a/]" matches the "a" at 0, then "*z" cannot skip the "/" → false,
    // although a backtracking matcher would find  * = "a", [a/] = "/", * = "", z.
    expect(goPathMatch("*[a/]*z", "a/z")).toBe(false)
  })

  it("a reversed range is not an error in Go: it matches nothing, so its negation matches anything", () => {
    expect(goPathMatch("[z-a]", "m")).toBe(false)
    expect(goPathMatch("[z-a]", "z")).toBe(false)
    expect(goPathMatch("[^z-a]", "m")).toBe(true)
  })

  it("escapes make metacharacters literal", () => {
    expect(goPathMatch("\\?", "?")).toBe(true)
    expect(goPathMatch("\\?", "a")).toBe(false)
    expect(goPathMatch("\\[", "[")).toBe(true)
    expect(goPathMatch("\\a", "a")).toBe(true)
  })

  it("a malformed pattern matches nothing, even where its prefix would match", () => {
    for (const [pattern, name] of [
      ["a[", "a["],
      ["*[", "x["],
      ["a\\", "a\\"],
      ["a*\\", "ab"],
      ["abc[", "abc"],
      ["x*[]", "x"],
      ["[]", ""],
      ["[^]", "a"]
    ] as const) {
      expect(goPathMatch(pattern, name)).toBe(false)
    }
  })

  it("literal patterns match only themselves", () => {
    expect(goPathMatch("/etc/passwd", "/etc/passwd")).toBe(true)
    expect(goPathMatch("/etc/passwd", "/etc/passwd2")).toBe(false)
    expect(goPathMatch("/etc/passwd", "/etc/passw")).toBe(false)
    expect(goPathMatch("", "")).toBe(true)
    expect(goPathMatch("", "a")).toBe(false)
  })

  const segment = fc.stringMatching(/^[a-z0-9._-]{0,6}$/)

  it.prop("a literal name (no metacharacters) matches itself", [fc.array(segment, { maxLength: 4 }).map((xs) => xs.join("/"))], ([name]) => {
    expect(goPathMatch(name, name)).toBe(true)
  })

  it.prop("* matches exactly the names without /", [fc.array(segment, { minLength: 1, maxLength: 3 }).map((xs) => xs.join("/"))], ([name]) => {
    expect(goPathMatch("*", name)).toBe(!name.includes("/"))
  })
})
