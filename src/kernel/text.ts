/** String helpers with the reference's exact semantics (Go `strings.TrimSpace`, byte-order sorting). */

/** Go's `strings.TrimSpace` trims Unicode White_Space, which JavaScript's `trim` also covers (plus U+FEFF). */
export const trim = (s: string): string => s.trim()

export const lowerTrim = (s: string): string => s.trim().toLowerCase()

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
