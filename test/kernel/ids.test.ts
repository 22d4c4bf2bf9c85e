import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { correlationIdOf, eventIdOf, traceIdOf } from "../../src/kernel/ids.js"

const sha = (s: string): string => createHash("sha256").update(s, "utf8").digest("hex")

describe("correlationIdOf (ops.md §4)", () => {
  it.each([
    [["gait", "version", "--json"], "e817da1ea5bc1c4b0c6da48f"],
    [["gait", "doctor", "--production-readiness", "--json"], "cae6758fc01c4cee7e86ebb9"],
    [["gait"], "7b3d74039aeefa454cd47c0b"]
  ])("%j → %s", (argv, expected) => {
    expect(correlationIdOf(argv)).toBe(expected)
  })

  it("an empty argv gives 24 zeros", () => {
    expect(correlationIdOf([])).toBe("000000000000000000000000")
  })

  it("trims each element before joining with U+001F", () => {
    expect(correlationIdOf([" gait ", "\tversion", "--json\n"])).toBe("e817da1ea5bc1c4b0c6da48f")
    expect(correlationIdOf(["a", "b"])).toBe(sha("a\x1fb").slice(0, 24))
  })

  it("argv[0] is part of the input (./gait and gait differ)", () => {
    expect(correlationIdOf(["./gait", "version", "--json"])).not.toBe(correlationIdOf(["gait", "version", "--json"]))
  })

  it("element boundaries matter", () => {
    expect(correlationIdOf(["ab", "c"])).not.toBe(correlationIdOf(["a", "bc"]))
    expect(correlationIdOf(["a b"])).not.toBe(correlationIdOf(["a", "b"]))
  })

  it.prop("is 24 lowercase hex characters and deterministic", [fc.array(fc.string(), { minLength: 1, maxLength: 6 })], ([argv]) => {
    const id = correlationIdOf(argv)
    expect(id).toMatch(/^[0-9a-f]{24}$/)
    expect(correlationIdOf([...argv])).toBe(id)
    expect(id).toBe(sha(argv.map((a) => a.trim()).join("\x1f")).slice(0, 24))
  })
})

describe("traceIdOf / eventIdOf (gate.md §0.3, §7.2)", () => {
  const policy = "07a528a879e4f0e0cd5a0e2ca801924746b47dac624862207ef21d4ec266f8f9"
  const intent = "4b53bb79e35105ac9170963ac6f84ed0ed15530c68f06a46fc1233c5ec766913"

  it("trace_id = first 24 hex of sha256(policy_digest:intent_digest:verdict)", () => {
    const id = traceIdOf(policy, intent, "allow")
    expect(id).toBe(sha(`${policy}:${intent}:allow`).slice(0, 24))
    expect(id).toMatch(/^[0-9a-f]{24}$/)
  })

  it("trace_id reproduces scenario #5 of gate.md §13 (require_approval policy, approval-token-valid intent)", () => {
    expect(traceIdOf(policy, intent, "allow")).toBe(
      "8a640148677956eba29ff9cf"
    )
  })

  it("trace_id is stable and changes with each input", () => {
    const base = traceIdOf(policy, intent, "allow")
    expect(traceIdOf(policy, intent, "allow")).toBe(base)
    expect(traceIdOf(policy, intent, "block")).not.toBe(base)
    expect(traceIdOf(intent, policy, "allow")).not.toBe(base)
  })

  it("event_id = first 24 hex of sha256(trace_id:observed_at)", () => {
    const traceId = traceIdOf(policy, intent, "block")
    expect(eventIdOf(traceId, "2026-02-06T16:00:00.12Z")).toBe(sha(`${traceId}:2026-02-06T16:00:00.12Z`).slice(0, 24))
  })

  it("event_id hashes the time string as written (distinct strings for the same instant give distinct ids)", () => {
    const traceId = traceIdOf(policy, intent, "allow")
    expect(eventIdOf(traceId, "2026-02-06T16:00:00.12Z")).not.toBe(eventIdOf(traceId, "2026-02-06T16:00:00.120Z"))
    expect(eventIdOf(traceId, "2026-02-06T16:00:00.12Z")).not.toBe(eventIdOf(traceId, "2026-02-06T16:00:00.120000001Z"))
  })
})
