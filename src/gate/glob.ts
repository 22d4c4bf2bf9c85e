/**
 * Go's `path.Match` (src/path/match.go), ported chunk by chunk over code points: `*` matches any run
 * of non-`/` characters, `?` one non-`/` character, `[...]` a class (ranges, `^` negation, `\`
 * escapes). A malformed pattern matches nothing, as `path.Match` returns `ErrBadPattern`.
 */

/** Marker for a malformed pattern; it travels as a value, never as an exception. */
const BAD = Symbol("bad pattern")
type Bad = typeof BAD

interface Chunk {
  readonly star: boolean
  readonly chunk: string
  readonly rest: string
}

const scanChunk = (pattern: string): Chunk => {
  let p = pattern
  let star = false
  while (p.startsWith("*")) {
    p = p.slice(1)
    star = true
  }
  let inRange = false
  for (let i = 0; i < p.length; i++) {
    const c = p[i]
    if (c === "\\") {
      if (i + 1 < p.length) i++
    } else if (c === "[") inRange = true
    else if (c === "]") inRange = false
    else if (c === "*" && !inRange) return { star, chunk: p.slice(0, i), rest: p.slice(i) }
  }
  return { star, chunk: p, rest: "" }
}

const firstCodePoint = (s: string): string => String.fromCodePoint(s.codePointAt(0) as number)

/** One (possibly escaped) class endpoint; `-` or `]` where an endpoint is expected is malformed. */
const getEsc = (chunk: string): { readonly r: number; readonly rest: string } | Bad => {
  if (chunk === "" || chunk[0] === "-" || chunk[0] === "]") return BAD
  const body = chunk[0] === "\\" ? chunk.slice(1) : chunk
  if (body === "") return BAD
  const c = firstCodePoint(body)
  const rest = body.slice(c.length)
  if (rest === "") return BAD
  return { r: c.codePointAt(0) as number, rest }
}

/** Matches one chunk at the start of `s`; the rest of `s`, `undefined` on mismatch, BAD if malformed. */
const matchChunk = (pattern: string, name: string): string | undefined | Bad => {
  let chunk = pattern
  let s = name
  let failed = false
  while (chunk !== "") {
    if (!failed && s === "") failed = true
    const c = chunk[0]
    if (c === "[") {
      let r = -1
      if (!failed) {
        const ch = firstCodePoint(s)
        r = ch.codePointAt(0) as number
        s = s.slice(ch.length)
      }
      chunk = chunk.slice(1)
      let negated = false
      if (chunk[0] === "^") {
        negated = true
        chunk = chunk.slice(1)
      }
      let matched = false
      let ranges = 0
      for (;;) {
        if (chunk[0] === "]" && ranges > 0) {
          chunk = chunk.slice(1)
          break
        }
        const lo = getEsc(chunk)
        if (lo === BAD) return BAD
        chunk = lo.rest
        let hi = lo.r
        if (chunk[0] === "-") {
          const h = getEsc(chunk.slice(1))
          if (h === BAD) return BAD
          chunk = h.rest
          hi = h.r
        }
        if (lo.r <= r && r <= hi) matched = true
        ranges++
      }
      if (matched === negated) failed = true
    } else if (c === "?") {
      if (!failed) {
        if (s[0] === "/") failed = true
        s = s.slice(firstCodePoint(s).length)
      }
      chunk = chunk.slice(1)
    } else {
      if (c === "\\") {
        chunk = chunk.slice(1)
        if (chunk === "") return BAD
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true
        s = s.slice(1)
      }
      chunk = chunk.slice(1)
    }
  }
  return failed ? undefined : s
}

const match = (pattern: string, name: string): boolean | Bad => {
  let p = pattern
  let n = name
  outer: while (p !== "") {
    const scanned = scanChunk(p)
    p = scanned.rest
    if (scanned.star && scanned.chunk === "") return !n.includes("/")
    const t = matchChunk(scanned.chunk, n)
    if (t === BAD) return BAD
    if (t !== undefined && (t === "" || p !== "")) {
      n = t
      continue
    }
    if (scanned.star) {
      for (let i = 0; i < n.length && n[i] !== "/"; i++) {
        const t2 = matchChunk(scanned.chunk, n.slice(i + 1))
        if (t2 === BAD) return BAD
        if (t2 !== undefined) {
          if (p === "" && t2 !== "") continue
          n = t2
          continue outer
        }
      }
    }
    // Like Go, report a malformed remainder of the pattern even when the match already failed.
    while (p !== "") {
      const next = scanChunk(p)
      p = next.rest
      if (matchChunk(next.chunk, "") === BAD) return BAD
    }
    return false
  }
  return n === ""
}

export const goPathMatch = (pattern: string, name: string): boolean => match(pattern, name) === true
