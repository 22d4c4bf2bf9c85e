// Golden vectors of spec gate.md §13: digests recomputed from the reference's own fixture files
// (test/gate/fixtures/reference, copied byte for byte; provenance in fixtures/reference/SOURCES.md).
import { describe, expect, it } from "@effect/vitest"
import { canonicalize } from "../../src/kernel/canonical-json.js"
import { digestJson } from "../../src/kernel/digest.js"
import { traceIdOf } from "../../src/kernel/ids.js"
import { normalizeIntent } from "../../src/gate/intent.js"
import { loadPolicyText, policyDigestPayload } from "../../src/gate/policy.js"
import { intentFixture, prepared, readFixture, unwrap } from "./fixtures/builders.js"

const ref = (file: string) => ["reference", file] as const

describe("golden policy digests (§13)", () => {
  it("default_verdict: require_approval → 07a528a8…", () => {
    const loaded = unwrap(loadPolicyText("default_verdict: require_approval\n", "p.yaml"))
    expect(unwrap(canonicalize(policyDigestPayload(loaded.policy)))).toBe(
      '{"DefaultVerdict":"require_approval","FailClosed":{"Enabled":false,"RequiredFields":[],"RiskClasses":[]},"Rules":[],"SchemaID":"gait.gate.policy","SchemaVersion":"1.0.0"}'
    )
    expect(loaded.digest).toBe("07a528a879e4f0e0cd5a0e2ca801924746b47dac624862207ef21d4ec266f8f9")
  })

  it("the approval-expiry scenario policy file gives the same digest", () => {
    const loaded = unwrap(loadPolicyText(readFixture(...ref("approval_expiry_policy.yaml")), "p.yaml"))
    expect(loaded.digest).toBe("07a528a879e4f0e0cd5a0e2ca801924746b47dac624862207ef21d4ec266f8f9")
  })

  it("an empty policy file is the same policy (all defaults)", () => {
    expect(unwrap(loadPolicyText("", "p.yaml")).digest).toBe(
      "07a528a879e4f0e0cd5a0e2ca801924746b47dac624862207ef21d4ec266f8f9"
    )
  })

  it("approved-registry-signature-mismatch-high-risk/policy.yaml → 44ae1968…", () => {
    const loaded = unwrap(loadPolicyText(readFixture(...ref("approved_registry_policy.yaml")), "p.yaml"))
    expect(loaded.policy.rules.map((r) => [r.name, r.priority])).toEqual([["require_write_approval", 10]])
    expect(loaded.digest).toBe("44ae19688443915c381be9f806b7fc9ddb2736d286c4e40464b7575a874e9420")
  })
})

describe("golden intent digests (§13)", () => {
  it("intent_equivalent_a and _b normalize to identical bytes and digest 2bae77d9…", () => {
    const a = prepared(intentFixture(...ref("intent_equivalent_a.json")))
    const b = prepared(intentFixture(...ref("intent_equivalent_b.json")))
    expect(unwrap(canonicalize(a.body))).toBe(unwrap(canonicalize(b.body)))
    expect(a.intentDigest).toBe("2bae77d908ce5435fba6a8a4417be8718571f5d68bd89c67d548e791cc3771ca")
    expect(b.intentDigest).toBe("2bae77d908ce5435fba6a8a4417be8718571f5d68bd89c67d548e791cc3771ca")
    expect(a.argsDigest).toBe(b.argsDigest)
  })

  it("intent_different → 66ab8932…, distinct from the equivalent pair", () => {
    const c = prepared(intentFixture(...ref("intent_different.json")))
    expect(c.intentDigest).toBe("66ab8932ca394f4074931904515d6acdaf0af8cf2c76fb643d220bff4174f8db")
  })

  it("the raw normalizer (before context stripping) gives the same digests for these fixtures", () => {
    const a = unwrap(normalizeIntent(intentFixture(...ref("intent_equivalent_a.json"))))
    expect(unwrap(digestJson(a))).toBe("2bae77d908ce5435fba6a8a4417be8718571f5d68bd89c67d548e791cc3771ca")
  })

  it("approval-token-valid/intent.json → 4b53bb79…, args_digest 3ce5713f…", () => {
    const p = prepared(intentFixture(...ref("approval_token_valid_intent.json")))
    expect(p.intentDigest).toBe("4b53bb79e35105ac9170963ac6f84ed0ed15530c68f06a46fc1233c5ec766913")
    expect(p.argsDigest).toBe("3ce5713f41f9b6812880cac570b0f8ce318c7afff371873f241884729e518370")
    // §13: the target gains discovery_method "unknown", the context gains phase "apply".
    expect(p.body.targets).toEqual([
      { kind: "path", value: "/tmp/approve-valid.txt", operation: "write", endpoint_class: "fs.write", discovery_method: "unknown" }
    ])
    expect(p.body.context.phase).toBe("apply")
    expect(p.createdAt).toBe("2026-02-18T00:00:00Z")
  })

  it("approval-expiry-1s-past/intent.json → 5560b84b…", () => {
    const p = prepared(intentFixture(...ref("approval_expiry_intent.json")))
    expect(p.intentDigest).toBe("5560b84bd90ae0b84079bd0125a27d74750fb25f55a62a12a6b718eaca3dca51")
  })

  it("args {} digest is 44136fa3…", () => {
    expect(unwrap(digestJson({}))).toBe("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
  })

  it("derived trace_id of scenario #5 (allow) is 8a640148677956eba29ff9cf", () => {
    const p = prepared(intentFixture(...ref("approval_token_valid_intent.json")))
    const policy = unwrap(loadPolicyText("default_verdict: require_approval\n", "p.yaml"))
    expect(traceIdOf(policy.digest, p.intentDigest, "allow")).toBe("8a640148677956eba29ff9cf")
  })
})
