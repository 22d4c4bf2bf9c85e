/**
 * Go's `path.Match`: `*` matches any run of non-`/` characters, `?` one non-`/` character, `[...]`
 * a class (ranges, `^` negation), `\` escapes. A malformed pattern matches nothing.
 */
const matchClass = (pattern: string, start: number, ch: string): { readonly end: number; readonly hit: boolean } | undefined => {
  let i = start + 1
  let negated = false
  if (pattern[i] === "^") {
    negated = true
    i++
  }
  let hit = false
  let first = true
  while (i < pattern.length && (pattern[i] !== "]" || first)) {
    first = false
    let lo = pattern[i] as string
    if (lo === "\\") {
      i++
      if (i >= pattern.length) return undefined
      lo = pattern[i] as string
    }
    i++
    let hi = lo
    if (pattern[i] === "-" && pattern[i + 1] !== undefined && pattern[i + 1] !== "]") {
      i++
      hi = pattern[i] as string
      if (hi === "\\") {
        i++
        if (i >= pattern.length) return undefined
        hi = pattern[i] as string
      }
      i++
      if (hi < lo) return undefined
    }
    if (lo <= ch && ch <= hi) hit = true
  }
  if (pattern[i] !== "]") return undefined
  return { end: i + 1, hit: hit !== negated }
}

const wellFormed = (pattern: string): boolean => {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === "\\") {
      if (i + 1 >= pattern.length) return false
      i++
    } else if (c === "[") {
      const cls = matchClass(pattern, i, "a")
      if (cls === undefined) return false
      i = cls.end - 1
    }
  }
  return true
}

const matchFrom = (pattern: string, p: number, name: string, n: number): boolean => {
  while (p < pattern.length) {
    const c = pattern[p]
    if (c === "*") {
      while (pattern[p] === "*") p++
      if (p === pattern.length) return !name.slice(n).includes("/")
      for (let k = n; k <= name.length; k++) {
        if (matchFrom(pattern, p, name, k)) return true
        if (name[k] === "/") return false
      }
      return false
    }
    if (n >= name.length) return false
    const ch = name[n] as string
    if (c === "?") {
      if (ch === "/") return false
      p++
    } else if (c === "[") {
      if (ch === "/") return false
      const cls = matchClass(pattern, p, ch)
      if (cls === undefined || !cls.hit) return false
      p = cls.end
    } else {
      const literal = c === "\\" ? pattern[p + 1] : c
      if (literal !== ch) return false
      p += c === "\\" ? 2 : 1
    }
    n++
  }
  return n === name.length
}

export const goPathMatch = (pattern: string, name: string): boolean => wellFormed(pattern) && matchFrom(pattern, 0, name, 0)
