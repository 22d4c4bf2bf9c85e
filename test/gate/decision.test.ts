// From outcome to decision (spec gate.md §5, §6.2): exit codes, approvals without tokens, simulate,
// and the controls this build does not enforce, which fail closed.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { traceIdOf } from "../../src/kernel/ids.js"
import { parseRfc3339 } from "../../src/kernel/time.js"
import { type Decision, decide, exitCodeOf } from "../../src/gate/decision.js"
import type { IntentRequest } from "../../src/gate/intent-schema.js"
import { checkProfileDecision, checkProfileFlags, checkProfilePolicy, parseProfile } from "../../src/gate/profile.js"
import { decideWith, intentFixture, intentOf, NOW, policyOf, prepared, readFixture, unwrap, unwrapLeft } from "./fixtures/builders.js"

const decided = (yaml: string, request: IntentRequest, simulate = false): Decision => unwrap(decideWith(yaml, request, simulate))

const summary = (d: Decision) => ({ verdict: d.verdict, reasons: d.reasonCodes, violations: d.violations, exit: d.exitCode })

const unsupported = (yaml: string, request: IntentRequest) => {
  const error = unwrapLeft(decide({ policy: policyOf(yaml), intent: prepared(request), simulate: false, now: NOW }))
  expect(error._tag).toBe("UnsupportedFeature")
  return error
}

describe("exit codes (§6.2)", () => {
  it.each([
    ["allow", 0],
    ["dry_run", 0],
    ["require_approval", 4],
    ["block", 3]
  ] as const)("%s → %i", (verdict, code) => {
    expect(exitCodeOf(verdict)).toBe(code)
    const d = decided(`default_verdict: ${verdict}\n`, intentOf({}))
    expect([d.verdict, d.exitCode]).toEqual([verdict, code])
  })
})

describe("decision identity", () => {
  it("carries the digests and trace_id = sha256(policy:intent:verdict)[0:24]", () => {
    const request = intentOf({})
    const d = decided("default_verdict: block\n", request)
    expect(d.policyDigest).toBe(policyOf("default_verdict: block\n").digest)
    expect(d.intentDigest).toBe(prepared(request).intentDigest)
    expect(d.traceId).toBe(traceIdOf(d.policyDigest, d.intentDigest, "block"))
    expect(d.traceId).toMatch(/^[a-f0-9]{24}$/)
  })
})

describe("approvals without tokens (§5.4)", () => {
  it("require_approval adds approval_token_missing / approval_not_granted and requires one approval", () => {
    const d = decided("default_verdict: require_approval\n", intentOf({}))
    expect(summary(d)).toEqual({
      verdict: "require_approval",
      reasons: ["approval_token_missing", "default_require_approval"],
      violations: ["approval_not_granted"],
      exit: 4
    })
    expect(d.requiredApprovals).toBe(1)
  })

  it("required approvals follow min_approvals", () => {
    expect(decided("rules:\n  - { name: r, effect: require_approval, min_approvals: 3 }\n", intentOf({})).requiredApprovals).toBe(3)
  })

  it("no approvals are required for other verdicts", () => {
    expect(decided("default_verdict: allow\n", intentOf({})).requiredApprovals).toBe(0)
    expect(decided("rules:\n  - { name: r, effect: block, min_approvals: 2 }\n", intentOf({})).requiredApprovals).toBe(0)
  })

  it("conformance §12 #5 without a token: the approval-token-valid scenario needs approval (exit 4)", () => {
    const d = decided(readFixture("reference", "approval_expiry_policy.yaml"), intentFixture("reference", "approval_token_valid_intent.json"))
    expect(summary(d)).toEqual({
      verdict: "require_approval",
      reasons: ["approval_token_missing", "default_require_approval"],
      violations: ["approval_not_granted"],
      exit: 4
    })
    expect(d.intentDigest).toBe("4b53bb79e35105ac9170963ac6f84ed0ed15530c68f06a46fc1233c5ec766913")
    expect(d.policyDigest).toBe("07a528a879e4f0e0cd5a0e2ca801924746b47dac624862207ef21d4ec266f8f9")
  })

  it("the script step threshold requires approval (conformance §12 #12)", () => {
    const steps = [
      { tool_name: "tool.read", targets: [{ kind: "path", value: "/a", operation: "read" }] },
      { tool_name: "tool.write", targets: [{ kind: "path", value: "/b", operation: "write" }] }
    ]
    const d = decided("default_verdict: allow\nscripts:\n  require_approval_above: 1\n", intentOf({ tool_name: "script", targets: [], script: { steps } }))
    expect(summary(d)).toEqual({
      verdict: "require_approval",
      reasons: ["approval_token_missing", "default_allow", "script_step_threshold_approval"],
      violations: ["approval_not_granted"],
      exit: 4
    })
  })
})

describe("delegation and broker requirements without tokens or broker", () => {
  const delegationPolicy = `
default_verdict: block
rules:
  - name: allow-delegated
    effect: allow
    reason_codes: [delegated_egress_write_allowed]
    match:
      require_delegation: true
`
  const delegated = intentOf({ delegation: { requester_identity: "agent.specialist" } })

  it("a required delegation without tokens blocks with delegation_token_missing (conformance §12 #18 under gate eval)", () => {
    const d = decided(delegationPolicy, delegated)
    expect(summary(d)).toEqual({
      verdict: "block",
      reasons: ["delegated_egress_write_allowed", "delegation_token_missing"],
      violations: ["delegation_not_granted"],
      exit: 3
    })
    expect(d.delegationRequired).toBe(true)
  })

  it("a broker credential requirement on an allow blocks (no broker in this build)", () => {
    const d = decided("rules:\n  - { name: r, effect: allow, require_broker_credential: true }\n", intentOf({}))
    expect(summary(d)).toEqual({
      verdict: "block",
      reasons: ["broker_credential_required", "matched_rule_r"],
      violations: ["broker_credential_missing"],
      exit: 3
    })
  })

  it("a broker requirement on require_approval leaves the approval path", () => {
    const d = decided("rules:\n  - { name: r, effect: require_approval, require_broker_credential: true }\n", intentOf({}))
    expect([d.verdict, d.exitCode]).toEqual(["require_approval", 4])
  })
})

describe("simulate (§5.6)", () => {
  it("a block becomes a non-enforcing allow with exit 0", () => {
    const d = decided("default_verdict: block\n", intentOf({}), true)
    expect(summary(d)).toEqual({
      verdict: "allow",
      reasons: ["default_block", "simulate_mode_non_enforcing", "simulated_block"],
      violations: [],
      exit: 0
    })
    expect(d.simulation).toEqual({ simulatedVerdict: "block", simulatedReasonCodes: ["default_block"], wouldHaveBlocked: true })
  })

  it("require_approval is simulated after the approval stage", () => {
    const d = decided("default_verdict: require_approval\n", intentOf({}), true)
    expect(summary(d)).toEqual({
      verdict: "allow",
      reasons: ["approval_token_missing", "default_require_approval", "simulate_mode_non_enforcing", "simulated_require_approval"],
      violations: [],
      exit: 0
    })
    expect(d.simulation).toEqual({
      simulatedVerdict: "require_approval",
      simulatedReasonCodes: ["approval_token_missing", "default_require_approval"],
      wouldHaveBlocked: true
    })
  })

  it("an allow only gains simulate_mode_non_enforcing (conformance §12 #8)", () => {
    const d = decided(readFixture("reference", "dry_run_policy.yaml"), intentFixture("reference", "dry_run_intent.json"), true)
    expect(summary(d)).toEqual({ verdict: "allow", reasons: ["default_allow", "simulate_mode_non_enforcing"], violations: [], exit: 0 })
    expect(d.simulation?.wouldHaveBlocked).toBe(false)
  })

  it("dry_run would not have blocked and stays dry_run", () => {
    const d = decided("default_verdict: dry_run\n", intentOf({}), true)
    expect([d.verdict, d.exitCode, d.simulation?.wouldHaveBlocked]).toEqual(["dry_run", 0, false])
  })

  it("the trace id binds the rewritten verdict", () => {
    const d = decided("default_verdict: block\n", intentOf({}), true)
    expect(d.traceId).toBe(traceIdOf(d.policyDigest, d.intentDigest, "allow"))
  })

  it("without simulate there is no simulation report", () => {
    expect(decided("default_verdict: block\n", intentOf({})).simulation).toBeUndefined()
  })
})

describe("freeze windows (§4.7; conformance §12 #22–23)", () => {
  const at = (rfc3339: string) => unwrap(Either.fromOption(parseRfc3339(rfc3339), () => rfc3339))
  const decideAt = (policyFile: string, now: string) =>
    unwrap(
      decide({
        policy: policyOf(readFixture("reference", policyFile)),
        intent: prepared(intentFixture("reference", "freeze_intent_prod_deploy.json")),
        simulate: false,
        now: at(now)
      })
    )

  it("production_block at 2026-03-10T14:30:00Z blocks (exit 3)", () => {
    const d = decideAt("freeze_production_block.yaml", "2026-03-10T14:30:00Z")
    expect(summary(d)).toEqual({
      verdict: "block",
      reasons: ["freeze_window_active_block", "matched_rule_allow_prod_deploy"],
      violations: ["freeze_window_active_block"],
      exit: 3
    })
    expect(d.outcome.freezeWindow).toMatchObject({
      status: "active",
      window_name: "quarter-end",
      window_start: "2026-03-10T13:00:00Z",
      window_end: "2026-03-10T16:00:00Z",
      reason: "quarter-end freeze"
    })
  })

  it("production_require_approval at the same time needs approval (exit 4)", () => {
    const d = decideAt("freeze_production_require_approval.yaml", "2026-03-10T14:30:00Z")
    expect(summary(d)).toEqual({
      verdict: "require_approval",
      reasons: ["approval_token_missing", "freeze_window_active_require_approval", "matched_rule_allow_prod_deploy"],
      violations: ["approval_not_granted", "freeze_window_active_require_approval"],
      exit: 4
    })
  })

  it("outside the window the rule allows", () => {
    const d = decideAt("freeze_production_block.yaml", "2026-03-10T16:00:00Z")
    expect(summary(d)).toEqual({ verdict: "allow", reasons: ["matched_rule_allow_prod_deploy"], violations: [], exit: 0 })
    expect(d.outcome.freezeWindow?.status).toBe("inactive")
  })
})

describe("controls this build does not enforce fail closed", () => {
  it("a winning rule with a rate limit is UnsupportedFeature(rate_limit)", () => {
    const error = unsupported("rules:\n  - { name: r, effect: allow, rate_limit: { requests: 5 } }\n", intentOf({}))
    if (error._tag === "UnsupportedFeature") expect(error.feature).toBe("rate_limit")
  })

  it("a destructive budget fails closed only for destructive intents", () => {
    const yaml = "rules:\n  - { name: r, effect: allow, destructive_budget: { requests: 2 } }\n"
    const destructive = intentOf({ tool_name: "tool.delete", targets: [{ kind: "path", value: "/x", operation: "delete" }] })
    const error = unsupported(yaml, destructive)
    if (error._tag === "UnsupportedFeature") expect(error.feature).toBe("destructive_budget")
    expect(decided(yaml, intentOf({ targets: [{ kind: "path", value: "/x", operation: "read" }] })).verdict).toBe("allow")
  })

  it("a destructive budget counts script step targets", () => {
    const yaml = "rules:\n  - { name: r, effect: allow, destructive_budget: { requests: 2 } }\n"
    const script = intentOf({
      tool_name: "script",
      targets: [{ kind: "host", value: "h" }],
      script: { steps: [{ tool_name: "tool.delete", targets: [{ kind: "path", value: "/x", operation: "delete" }] }] }
    })
    expect(unsupported(yaml, script)._tag).toBe("UnsupportedFeature")
  })
})

describe("scenario conformance (§12 #1–4)", () => {
  const lines = (file: string) =>
    readFixture("reference", file)
      .split("\n")
      .filter((l) => l.trim() !== "")

  it("policy-allow-safe-tools: read/list/info are allowed", () => {
    const policy = readFixture("reference", "policy_allow_safe_tools.yaml")
    for (const line of lines("policy_allow_safe_tools_intents.jsonl")) {
      const request = JSON.parse(line) as IntentRequest
      expect(summary(decided(policy, request))).toEqual({ verdict: "allow", reasons: ["matched_rule_allow_safe_tools"], violations: [], exit: 0 })
    }
  })

  it("policy-block-destructive: 3 allows, delete and exec block with exit 3", () => {
    const policy = readFixture("reference", "policy_block_destructive.yaml")
    const results = lines("policy_block_destructive_intents.jsonl").map((line) => summary(decided(policy, JSON.parse(line) as IntentRequest)))
    expect(results.map((r) => [r.verdict, r.exit])).toEqual([
      ["allow", 0],
      ["allow", 0],
      ["allow", 0],
      ["block", 3],
      ["block", 3]
    ])
    expect(results[3]?.reasons).toEqual(["destructive_apply_requires_approval", "matched_rule_block_destructive_tools"])
    expect(results[4]?.reasons).toEqual(["destructive_apply_requires_approval", "matched_rule_block_destructive_tools"])
  })
})

describe("runtime profiles (§1.4)", () => {
  it("parses standard (default) and oss-prod, rejecting anything else", () => {
    for (const raw of [undefined, "", " Standard "]) expect(unwrap(parseProfile(raw))).toBe("standard")
    expect(unwrap(parseProfile(" OSS-PROD "))).toBe("oss-prod")
    expect(unwrapLeft(parseProfile("prod")).message).toBe('unsupported --profile value "prod" (expected standard or oss-prod)')
  })

  it("oss-prod flag checks run in the reference's order", () => {
    const check = (simulate: boolean, keyMode: string, hasPrivateKeySource: boolean) =>
      checkProfileFlags("oss-prod", { simulate, keyMode, hasPrivateKeySource })
    expect(unwrapLeft(check(true, "dev", false)).message).toBe("oss-prod profile does not allow --simulate")
    expect(unwrapLeft(check(false, "dev", false)).message).toBe("oss-prod profile requires --key-mode prod")
    expect(unwrapLeft(check(false, " PROD ", false)).message).toBe("oss-prod profile requires --private-key or --private-key-env")
    expect(Either.isRight(check(false, "prod", true))).toBe(true)
    expect(Either.isRight(checkProfileFlags("standard", { simulate: true, keyMode: "dev", hasPrivateKeySource: false }))).toBe(true)
  })

  it("oss-prod rejects default allow and unbrokered or unbrokerable high-risk action rules", () => {
    const check = (yaml: string) => checkProfilePolicy("oss-prod", policyOf(yaml).policy)
    expect(unwrapLeft(check("default_verdict: allow\n")).message).toBe(
      "oss-prod profile rejects policy default_verdict=allow; use default_verdict: block or require_approval"
    )
    expect(unwrapLeft(check("default_verdict: block\nrules:\n  - { name: r, effect: allow, match: { risk_classes: [high] } }\n")).message).toBe(
      "oss-prod profile requires high-risk allow/approval rules to set require_broker_credential: true"
    )
    expect(
      unwrapLeft(check("default_verdict: block\nrules:\n  - { name: r, effect: require_approval, require_broker_credential: true, match: { risk_classes: [critical] } }\n"))
        .message
    ).toBe("oss-prod profile requires --credential-broker for high-risk policies")
    expect(Either.isRight(check("default_verdict: require_approval\nrules:\n  - { name: r, effect: block, match: { risk_classes: [high] } }\n"))).toBe(true)
    expect(Either.isRight(checkProfilePolicy("standard", policyOf("default_verdict: allow\n").policy))).toBe(true)
  })

  it("oss-prod requires an explicit approval verify key for approval decisions", () => {
    const d = decided("default_verdict: require_approval\n", intentOf({}))
    expect(unwrapLeft(checkProfileDecision("oss-prod", d, false)).message).toBe(
      "oss-prod profile requires explicit approval verify key (--approval-public-key/--approval-public-key-env or approval private key source)"
    )
    expect(Either.isRight(checkProfileDecision("oss-prod", d, true))).toBe(true)
    expect(Either.isRight(checkProfileDecision("standard", d, false))).toBe(true)
  })
})
