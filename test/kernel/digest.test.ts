import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { digestJson, isSha256Hex, sha256Hex } from "../../src/kernel/digest.js"

const right = <A, E>(either: Either.Either<A, E>): A => {
  if (Either.isLeft(either)) throw new Error(`expected Right, got Left ${String(either.left)}`)
  return either.right
}

describe("sha256Hex", () => {
  it("matches the FIPS 180-2 vectors (empty string, \"abc\")", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  })

  it("hashes strings as UTF-8 and agrees with the same bytes", () => {
    const text = "€ \u{1F600}"
    expect(sha256Hex(text)).toBe(sha256Hex(new TextEncoder().encode(text)))
    expect(sha256Hex(new Uint8Array([0xe2, 0x82, 0xac]))).toBe(sha256Hex("€"))
  })

  it("is lowercase hex of 64 characters", () => {
    expect(sha256Hex("gait")).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe("digestJson", () => {
  it("args_digest of {} (gate.md §2.5)", () => {
    expect(right(digestJson({}))).toBe("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
  })

  it("policy_digest golden vector of gate.md §13 (default_verdict require_approval)", () => {
    const payload = {
      SchemaVersion: "1.0.0",
      SchemaID: "gait.gate.policy",
      Rules: [],
      FailClosed: { RiskClasses: [], RequiredFields: [], Enabled: false },
      DefaultVerdict: "require_approval"
    }
    expect(right(digestJson(payload))).toBe("07a528a879e4f0e0cd5a0e2ca801924746b47dac624862207ef21d4ec266f8f9")
  })

  it("is sha256 of the canonical text, independent of key order and whitespace", () => {
    expect(right(digestJson({ b: 2, a: 1 }))).toBe(createHash("sha256").update('{"a":1,"b":2}').digest("hex"))
    expect(right(digestJson({ a: 1, b: 2 }))).toBe(right(digestJson(JSON.parse('{ "b" : 2 ,\n "a" : 1 }'))))
  })

  it("differs when a value differs", () => {
    expect(right(digestJson({ a: 1 }))).not.toBe(right(digestJson({ a: 2 })))
    expect(right(digestJson({ a: "1" }))).not.toBe(right(digestJson({ a: 1 })))
  })

  it("fails with CanonicalJsonError for values without a canonical form", () => {
    const result = digestJson({ x: Number.POSITIVE_INFINITY })
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) expect(result.left._tag).toBe("CanonicalJsonError")
  })
})

describe("isSha256Hex", () => {
  it("accepts exactly 64 lowercase hex characters", () => {
    expect(isSha256Hex("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")).toBe(true)
    expect(isSha256Hex("44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A")).toBe(false)
    expect(isSha256Hex("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8")).toBe(false)
    expect(isSha256Hex("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a0")).toBe(false)
    expect(isSha256Hex("g4136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")).toBe(false)
    expect(isSha256Hex(` 44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a`)).toBe(false)
    expect(isSha256Hex("")).toBe(false)
  })
})
