/**
 * The CLI's `--json` line: compact, object keys sorted at every level (the reference re-marshals its
 * output through a map), `<`, `>`, `&`, U+2028 and U+2029 escaped as Go's encoder does, `undefined`
 * members omitted. Files on disk keep their struct order and use `JSON.stringify` instead.
 */
import { compareBytes } from "./text.js"

const HTML_UNSAFE = /[<>&\u2028\u2029]/g
const escapeHtml = (s: string): string =>
  s.replace(HTML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/** A JSON string literal as Go's encoder writes it (HTML-sensitive characters escaped). */
export const goJsonString = (s: string): string => escapeHtml(JSON.stringify(s))

const write = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : write(v))).join(",")}]`
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>
    const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort(compareBytes)
    return `{${keys.map((k) => `${JSON.stringify(k)}:${write(record[k])}`).join(",")}}`
  }
  return JSON.stringify(value)
}
export const renderJsonLine = (value: unknown): string => escapeHtml(write(value))

/** One record of a JSONL file: compact, member order as built (struct order), Go's HTML escaping. */
export const renderJsonRecord = (value: unknown): string => escapeHtml(JSON.stringify(value))

/** Pretty file form used for artifacts: 2-space indent plus a trailing newline. */
export const renderJsonFile = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`
