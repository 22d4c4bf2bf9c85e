/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Hand-written on purpose: it is small, it sits under every digest and signature, and it is tested
 * against the RFC's own vectors (test/kernel/canonical-json.test.ts). ECMAScript's `Number#toString`
 * and `JSON.stringify(string)` are exactly the serializations RFC 8785 §3.2.2 prescribes; what this
 * module adds is key ordering by UTF-16 code units and rejection of inputs that I-JSON forbids
 * (non-finite numbers, lone surrogates), which `JSON.stringify` would silently turn into `null` or
 * escape sequences.
 */
import { Either, Schema } from "effect"

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

export class CanonicalJsonError extends Schema.TaggedError<CanonicalJsonError>()("CanonicalJsonError", {
  /** JSON pointer-ish location of the offending value, e.g. `$.args.name`. */
  at: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `value at ${this.at} cannot be canonicalized: ${this.reason}`
  }
}

interface Failure {
  readonly at: string
  readonly reason: string
}

const quote = (s: string): string | undefined => (s.isWellFormed() ? JSON.stringify(s) : undefined)

/** Serializes `value` per RFC 8785, or fails with the first value that has no canonical form. */
export const canonicalize = (value: unknown): Either.Either<string, CanonicalJsonError> => {
  let failure: Failure | undefined
  const fail = (at: string, reason: string): string => {
    failure ??= { at, reason }
    return ""
  }
  const write = (v: unknown, at: string): string => {
    if (v === null) return "null"
    switch (typeof v) {
      case "boolean":
        return v ? "true" : "false"
      case "number":
        return Number.isFinite(v) ? String(v) : fail(at, `non-finite number ${String(v)}`)
      case "string":
        return quote(v) ?? fail(at, "string contains a lone surrogate")
      case "object": {
        if (Array.isArray(v)) {
          let out = "["
          for (let i = 0; i < v.length; i++) {
            if (i > 0) out += ","
            out += write(v[i], `${at}[${i}]`)
          }
          return `${out}]`
        }
        const record = v as Record<string, unknown>
        const keys = Object.keys(record).sort()
        let out = "{"
        let first = true
        for (const key of keys) {
          const member = record[key]
          if (member === undefined) continue
          const name = quote(key)
          if (name === undefined) return fail(at, "object key contains a lone surrogate")
          out += `${first ? "" : ","}${name}:${write(member, `${at}.${key}`)}`
          first = false
        }
        return `${out}}`
      }
      default:
        return fail(at, `unsupported type ${typeof v}`)
    }
  }
  const text = write(value, "$")
  return failure === undefined ? Either.right(text) : Either.left(new CanonicalJsonError(failure))
}
