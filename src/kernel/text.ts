/** String helpers with the reference's exact semantics (Go `strings.TrimSpace`, byte-order sorting). */

const GO_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
const GO_TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, "g")

/**
 * Go's `strings.TrimSpace` (`unicode.IsSpace`): unlike JavaScript's `trim` it removes U+0085 and keeps
 * U+FEFF. The common case (printable ASCII at both ends) returns without a regex.
 */
export const trim = (s: string): string => {
  if (s === "") return s
  const first = s.charCodeAt(0)
  const last = s.charCodeAt(s.length - 1)
  if (first > 32 && first < 127 && last > 32 && last < 127) return s
  return s.replace(GO_TRIM, "")
}

/** The trimmed value, or undefined when it is absent or blank (how flags and config values are read). */
export const nonBlank = (s: string | null | undefined): string | undefined => {
  if (s === null || s === undefined) return undefined
  const t = s.trim()
  return t === "" ? undefined : t
}

/** Go's strings.ToLower maps rune by rune with simple case mappings: no final-sigma rule, U+0130 gives "i". */
export const lowerTrim = (s: string): string => {
  const t = trim(s)
  return ASCII.test(t) ? t.toLowerCase() : Array.from(t, (c) => (c === "\u0130" ? "i" : c.toLowerCase())).join("")
}

const ASCII = /^[\x00-\x7f]*$/

/**
 * Byte order of the UTF-8 encodings, which is code-point order. UTF-16 unit order differs only when a
 * surrogate (astral character) meets U+E000..U+FFFF, so those units are re-ranked.
 */
const rank = (unit: number): number => (unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit)

export const compareBytes = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return rank(x) - rank(y)
  }
  return a.length - b.length
}

/** trim each, drop empty, deduplicate, sort by byte order; never null. */
export const uniqueSorted = (items: ReadonlyArray<string> | null | undefined, map: (s: string) => string = trim): Array<string> => {
  if (items === null || items === undefined || items.length === 0) return []
  const set = new Set<string>()
  for (const item of items) {
    const v = map(item)
    if (v !== "") set.add(v)
  }
  return [...set].sort(compareBytes)
}

export const uniqueSortedLower = (items: ReadonlyArray<string> | null | undefined): Array<string> =>
  uniqueSorted(items, lowerTrim)

/** Go's `filepath.Clean` on a slash-separated path (Linux semantics: backslashes are ordinary characters). */
export const cleanPath = (path: string): string => {
  if (path === "") return "."
  const rooted = path.startsWith("/")
  const out: Array<string> = []
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop()
      else if (!rooted) out.push("..")
      continue
    }
    out.push(part)
  }
  const joined = out.join("/")
  return rooted ? `/${joined}` : joined === "" ? "." : joined
}
