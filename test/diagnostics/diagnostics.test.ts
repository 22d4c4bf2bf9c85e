import { describe, expect, it } from "@effect/vitest"
import { type GaitError, diagnose, diagnoseDefect, isGaitError, rules } from "../../src/diagnostics/diagnostics.js"
import { UsageError } from "../../src/kernel/errors.js"
import { renderJsonLine } from "../../src/kernel/json-output.js"
import { PolicyLegacyFields } from "../../src/gate/errors.js"

const CATEGORIES = new Set([
  "invalid_input",
  "verification_failed",
  "policy_blocked",
  "approval_required",
  "dependency_missing",
  "io_failure",
  "state_contention",
  "network_transient",
  "network_permanent",
  "internal_failure"
])
const EXIT_CODES = new Set([1, 2, 3, 4, 5, 6, 7, 8])

describe("the diagnostics table", () => {
  it("classifies every error tag with a documented exit code, a canonical category and a code", () => {
    for (const [tag, rule] of Object.entries(rules)) {
      expect(EXIT_CODES.has(rule.exitCode), tag).toBe(true)
      expect(CATEGORIES.has(rule.category), tag).toBe(true)
      expect(rule.code, tag).toMatch(/^[a-z_]+$/)
      if (typeof rule.httpStatus === "number") expect(rule.httpStatus >= 400 && rule.httpStatus < 600, tag).toBe(true)
      expect(rule.retryable, tag).toBe(rule.category === "state_contention" || rule.category === "network_transient")
    }
  })

  it("is exhaustive at the type level", () => {
    // A table that lacks a row for some tag does not type-check.
    // @ts-expect-error -- missing rows
    const incomplete: { readonly [K in GaitError["_tag"]]: number } = { UsageError: 6 }
    expect(incomplete).toBeDefined()
  })

  it("renders the reference's golden invalid-input envelope byte for byte", () => {
    const d = diagnose(new UsageError({ detail: "missing required --policy" }), "cid-golden-invalid")
    expect(d.exitCode).toBe(6)
    expect(renderJsonLine(d.body)).toBe(
      '{"correlation_id":"cid-golden-invalid","error":"missing required --policy","error_category":"invalid_input","error_code":"invalid_input","hint":"check command usage and input schema","ok":false,"retryable":false}'
    )
  })

  it("renders the reference's golden internal-failure envelope byte for byte", () => {
    const d = diagnoseDefect("cid-golden-internal")
    expect(d.exitCode).toBe(1)
    expect(renderJsonLine(d.body)).toBe(
      '{"correlation_id":"cid-golden-internal","error":"unexpected failure","error_category":"internal_failure","error_code":"internal_failure","hint":"retry after checking local environment and logs","ok":false,"retryable":false}'
    )
  })

  it("carries the typed fields and migration metadata of legacy policies", () => {
    const e = new PolicyLegacyFields({
      path: "p.yaml",
      deprecated_fields: ["version"],
      field_replacements: ["version->schema_id|schema_version (set schema_id=gait.gate.policy and schema_version=1.0.0)"]
    })
    const body = diagnose(e, "cid").body
    expect(body.path).toBe("p.yaml")
    expect(body.migration).toEqual({
      kind: "policy_fields",
      deprecated_fields: ["version"],
      field_replacements: e.field_replacements
    })
    expect(String(body.hint)).toContain("`.gait.yaml`")
    expect(String(body.error)).toContain("legacy policy proposal fields are not supported [version]")
  })

  it("recognises its own errors and nothing else", () => {
    expect(isGaitError(new UsageError({ detail: "x" }))).toBe(true)
    expect(isGaitError(new Error("x"))).toBe(false)
    expect(isGaitError({ _tag: "SomethingElse" })).toBe(false)
  })
})
