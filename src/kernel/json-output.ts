/**
 * The CLI's `--json` line: compact, object keys sorted at every level (the reference re-marshals its
 * output through a map), `<`, `>`, `&`, U+2028 and U+2029 escaped as Go's encoder does, `undefined`
 * members omitted. Files on disk keep their struct order and use `JSON.stringify` instead.
 */
const HTML_UNSAFE = /[<>&\u2028\u2029]/g
const escapeHtml = (s: string): string =>
  s.replace(HTML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(record).sort()) {
      const member = record[key]
      if (member !== undefined) out[key] = sortKeys(member)
    }
    return out
  }
  return value
}

export const renderJsonLine = (value: unknown): string => escapeHtml(JSON.stringify(sortKeys(value)))

/** Pretty file form used for artifacts: 2-space indent plus a trailing newline. */
export const renderJsonFile = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`
