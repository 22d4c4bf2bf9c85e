// Policy evaluation (spec gate.md §4; §11 items 30–42; conformance rows of §12 at evaluation level).
import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { parseRfc3339 } from "../../src/kernel/time.js"
import { ruleMatches } from "../../src/gate/evaluate.js"
import { prepareIntent } from "../../src/gate/intent.js"
import type { IntentContext, IntentRequest, IntentTarget } from "../../src/gate/intent-schema.js"
import type { RuleMatch } from "../../src/gate/policy.js"
import { evaluate, intentOf, normalized, policyOf, unwrapLeft } from "./fixtures/builders.js"

const matchOf = (block: string): RuleMatch => {
  const rule = policyOf(`rules:\n  - name: r\n    effect: allow\n    match:\n${block}`).policy.rules[0]
  if (rule === undefined) throw new Error("no rule")
  return rule.match
}

const verdictAndReasons = (yaml: string, request: IntentRequest) => {
  const o = evaluate(yaml, request)
  return { verdict: o.verdict, reasons: o.reasonCodes, violations: o.violations }
}

describe("rule matching is deterministic (§11 item 30)", () => {
  const yaml = `
default_verdict: allow
rules:
  - name: block-external-host
    priority: 1
    effect: block
    match:
      tool_names: [tool.write]
      target_kinds: [host]
      target_values: [api.external.com]
      risk_classes: [high]
    reason_codes: [blocked_external]
    violations: [external_target]
`
  const request = intentOf({
    tool_name: "TOOL.WRITE",
    context: { risk_class: "HIGH" },
    targets: [{ kind: "host", value: "api.external.com", operation: "write", sensitivity: "confidential", endpoint_class: "net.http" }]
  })

  it("normalizes TOOL.WRITE/HIGH and matches with the rule's own reasons", () => {
    expect(verdictAndReasons(yaml, request)).toEqual({ verdict: "block", reasons: ["blocked_external"], violations: ["external_target"] })
  })

  it("gives byte-identical outcomes", () => {
    expect(JSON.stringify(evaluate(yaml, request))).toBe(JSON.stringify(evaluate(yaml, request)))
  })
})

describe("fail-closed (§4.1; §11 items 31–34)", () => {
  it("missing targets and provenance block with both reasons (item 31)", () => {
    const yaml = "default_verdict: allow\nfail_closed:\n  enabled: true\n  risk_classes: [high]\n  required_fields: [targets, arg_provenance]\n"
    expect(verdictAndReasons(yaml, intentOf({ targets: [], context: { risk_class: "high" } }))).toEqual({
      verdict: "block",
      reasons: ["fail_closed_missing_arg_provenance", "fail_closed_missing_targets"],
      violations: ["missing_arg_provenance", "missing_targets"]
    })
  })

  describe("required high-risk fields (item 32)", () => {
    const fields = [
      "agent_id",
      "run_id",
      "workflow_id",
      "repo",
      "environment",
      "credential_ref",
      "credential_source",
      "credential_access_type",
      "credential_issuer",
      "credential_ttl_seconds",
      "wrkr_inventory_ref",
      "agent_action_bom_ref"
    ] as const
    const yaml = `default_verdict: allow\nfail_closed:\n  enabled: true\n  risk_classes: [high]\n  required_high_risk_fields: [${fields.join(", ")}]\n`
    const complete: Partial<IntentContext> = {
      risk_class: "high",
      agent_id: "agent.prod.writer",
      run_id: "run-1",
      workflow_id: "wf-1",
      repo: "Clyra-AI/gait",
      environment: "prod",
      credential_ref: "env:GAIT_EXPORT:deadbeef",
      credential_source: "env",
      credential_access_type: "standing",
      credential_issuer: "github.com",
      credential_ttl_seconds: 300,
      wrkr_inventory_ref: "wrkr:inventory:v1",
      agent_action_bom_ref: "bom:agent-action:v1"
    }

    it("a complete context passes to the default verdict", () => {
      expect(evaluate(yaml, intentOf({ context: complete })).verdict).toBe("allow")
    })

    it.each(fields)("missing %s blocks with fail_closed_missing_<field>", (field) => {
      const context: Partial<IntentContext> = { ...complete, [field]: field === "credential_ttl_seconds" ? 0 : "" }
      expect(verdictAndReasons(yaml, intentOf({ context }))).toEqual({
        verdict: "block",
        reasons: [`fail_closed_missing_${field}`],
        violations: [`missing_${field}`]
      })
    })

    it("agent_identity means the object, approval_ref the reference", () => {
      const y = "default_verdict: allow\nfail_closed:\n  enabled: true\n  risk_classes: [high]\n  required_high_risk_fields: [agent_id, agent_identity, approval_ref]\n"
      expect(verdictAndReasons(y, intentOf({ context: { risk_class: "high" } }))).toEqual({
        verdict: "block",
        reasons: ["fail_closed_missing_agent_id", "fail_closed_missing_agent_identity", "fail_closed_missing_approval_ref"],
        violations: ["missing_agent_id", "missing_agent_identity", "missing_approval_ref"]
      })
      const ok = intentOf({ context: { risk_class: "high", agent_id: "a", agent_identity: { owner: "platform" }, approval_ref: "approval-1" } })
      expect(evaluate(y, ok).verdict).toBe("allow")
    })
  })

  it("an unknown endpoint class always blocks when fail-closed applies (item 33)", () => {
    const yaml = "default_verdict: allow\nfail_closed:\n  enabled: true\n  risk_classes: [high]\n"
    const request = intentOf({ tool_name: "tool.unknown", targets: [{ kind: "path", value: "/tmp/out.txt" }], context: { risk_class: "high" } })
    expect(verdictAndReasons(yaml, request)).toEqual({
      verdict: "block",
      reasons: ["fail_closed_endpoint_class_unknown"],
      violations: ["endpoint_class_unknown"]
    })
  })

  it("required endpoint_class adds fail_closed_missing_endpoint_class for `other` classes", () => {
    const yaml = "default_verdict: allow\nfail_closed:\n  enabled: true\n  risk_classes: [high]\n  required_fields: [endpoint_class]\n"
    expect(verdictAndReasons(yaml, intentOf({ targets: [{ kind: "repo", value: "r" }], context: { risk_class: "high" } }))).toEqual({
      verdict: "block",
      reasons: ["fail_closed_endpoint_class_unknown", "fail_closed_missing_endpoint_class"],
      violations: ["endpoint_class_unknown", "missing_endpoint_class"]
    })
  })

  it("required delegation and context evidence (a raw digest claim is stripped, §2.7)", () => {
    const yaml = "default_verdict: allow\nfail_closed:\n  enabled: true\n  risk_classes: [high]\n  required_fields: [delegation, context_evidence]\n"
    const request = intentOf({ context: { risk_class: "high", context_set_digest: "a".repeat(64) } })
    expect(verdictAndReasons(yaml, request)).toEqual({
      verdict: "block",
      reasons: ["context_evidence_missing", "fail_closed_missing_delegation"],
      violations: ["missing_context_evidence", "missing_delegation"]
    })
  })

  it("rules are not evaluated when fail-closed blocks", () => {
    const yaml =
      "default_verdict: allow\nfail_closed:\n  enabled: true\n  risk_classes: [high]\n  required_fields: [arg_provenance]\nrules:\n  - name: allow-all\n    effect: allow\n"
    const o = evaluate(yaml, intentOf({ context: { risk_class: "high" } }))
    expect(o.verdict).toBe("block")
    expect(o.matchedRule).toBe("")
  })

  it("does not apply to other risk classes, nor when disabled", () => {
    const yaml = "default_verdict: allow\nfail_closed:\n  enabled: true\n  risk_classes: [high]\n  required_fields: [targets]\n"
    expect(evaluate(yaml, intentOf({ targets: [], context: { risk_class: "low" } })).verdict).toBe("allow")
    const disabled = "default_verdict: allow\nfail_closed:\n  enabled: false\n  risk_classes: [high]\n  required_fields: [targets]\n"
    expect(evaluate(disabled, intentOf({ targets: [], context: { risk_class: "high" } })).verdict).toBe("allow")
  })

  it("defaults to critical and high when enabled without risk classes", () => {
    const yaml = "default_verdict: allow\nfail_closed:\n  enabled: true\n  required_fields: [targets]\n"
    expect(evaluate(yaml, intentOf({ targets: [], context: { risk_class: " Critical " } })).verdict).toBe("block")
    expect(evaluate(yaml, intentOf({ targets: [], context: { risk_class: "medium" } })).verdict).toBe("allow")
  })

  it("an invalid intent is always an IntentInvalid error, never a fail-closed block (item 34, deliberate divergence)", () => {
    const error = unwrapLeft(prepareIntent(intentOf({ context: { workspace: "", risk_class: "high" } })))
    expect(error._tag).toBe("IntentInvalid")
    expect(error.message).toBe("normalize intent: context.workspace is required")
  })
})

describe("default verdict (§4.4; §11 item 35)", () => {
  it.each(["allow", "block", "dry_run", "require_approval"] as const)("default %s → reasons [default_%s]", (verdict) => {
    const o = evaluate(`default_verdict: ${verdict}\n`, intentOf({}))
    expect(o.verdict).toBe(verdict)
    expect(o.reasonCodes).toEqual([`default_${verdict}`])
    expect(o.violations).toEqual([])
    expect(o.matchedRule).toBe("")
    expect(o.minApprovals).toBe(verdict === "require_approval" ? 1 : 0)
  })

  it("the destructive/phase logic does not apply on the default path", () => {
    const destructive = intentOf({ tool_name: "tool.delete", targets: [{ kind: "path", value: "/x", operation: "delete" }] })
    expect(verdictAndReasons("default_verdict: allow\n", destructive)).toEqual({ verdict: "allow", reasons: ["default_allow"], violations: [] })
    const plan = intentOf({ ...destructive, context: { phase: "plan" } })
    expect(verdictAndReasons("default_verdict: allow\n", plan).reasons).toEqual(["default_allow"])
  })

  it("a non-matching rule leaves the default", () => {
    const o = evaluate("default_verdict: block\nrules:\n  - name: r\n    effect: allow\n    match:\n      tool_names: [tool.other]\n", intentOf({}))
    expect([o.verdict, o.reasonCodes]).toEqual(["block", ["default_block"]])
  })
})

describe("reason fallback uses the sanitized rule name (§4.3; §11 item 36)", () => {
  it("`Block External Host-1` → matched_rule_block_external_host_1", () => {
    const yaml = `
rules:
  - name: "Block External Host-1"
    effect: block
    match:
      tool_names: [tool.write]
      risk_classes: [high]
      target_kinds: [host]
      target_values: [api.external.com]
      provenance_sources: [external]
      identities: [alice]
      workspace_prefixes: [/repo]
`
    const request = intentOf({
      tool_name: "tool.write",
      context: { risk_class: "high" },
      arg_provenance: [{ arg_path: "args.path", source: "external" }],
      skill_provenance: { skill_name: "safe-curl", source: "registry", publisher: "acme", skill_version: "1.2.0" },
      targets: [{ kind: "host", value: "api.external.com", operation: "write", sensitivity: "confidential", endpoint_class: "net.http" }]
    })
    expect(verdictAndReasons(yaml, request)).toEqual({ verdict: "block", reasons: ["matched_rule_block_external_host_1"], violations: [] })
  })

  it("`My-Rule Name` → matched_rule_my_rule_name; explicit reason codes replace the fallback", () => {
    expect(evaluate('rules:\n  - name: "My-Rule Name"\n    effect: allow\n', intentOf({})).reasonCodes).toEqual(["matched_rule_my_rule_name"])
    expect(evaluate("rules:\n  - name: r\n    effect: allow\n    reason_codes: [custom]\n", intentOf({})).reasonCodes).toEqual(["custom"])
  })
})

describe("priority tiers (§4.2, §4.4; §11 item 37)", () => {
  const writeIntent = intentOf({ tool_name: "tool.write" })

  it("equal priority: most restrictive verdict, reasons and violations only from the winning effect, all names in matched_rule", () => {
    const yaml = `
default_verdict: allow
rules:
  - name: allow-write
    priority: 1
    effect: allow
    match:
      tool_names: [tool.write]
    reason_codes: [allow_write]
    violations: [allowed_write]
  - name: block-write
    priority: 1
    effect: block
    match:
      tool_names: [tool.write]
    reason_codes: [block_write]
    violations: [blocked_write]
`
    const o = evaluate(yaml, writeIntent)
    expect(o.verdict).toBe("block")
    expect(o.reasonCodes).toEqual(["block_write"])
    expect(o.violations).toEqual(["blocked_write"])
    expect(o.matchedRule).toBe("allow-write,block-write")
  })

  it("renaming rules inside a tier does not change verdict or reasons", () => {
    const policy = (allowName: string, blockName: string) => `
default_verdict: allow
rules:
  - { name: ${allowName}, priority: 1, effect: allow, match: { tool_names: [tool.write] }, reason_codes: [allow_write] }
  - { name: ${blockName}, priority: 1, effect: block, match: { tool_names: [tool.write] }, reason_codes: [block_write] }
`
    const a = evaluate(policy("alpha-allow", "zeta-block"), writeIntent)
    const b = evaluate(policy("zeta-allow", "alpha-block"), writeIntent)
    expect([a.verdict, a.reasonCodes]).toEqual([b.verdict, b.reasonCodes])
  })

  it("the first matching priority wins even when a later tier is stricter", () => {
    const yaml = `
rules:
  - { name: later-block, priority: 5, effect: block, match: { tool_names: [tool.write] } }
  - { name: first-allow, priority: 1, effect: allow, match: { tool_names: [tool.write] } }
`
    const o = evaluate(yaml, writeIntent)
    expect([o.verdict, o.matchedRule, o.reasonCodes]).toEqual(["allow", "first-allow", ["matched_rule_first_allow"]])
  })

  it("non-matching rules neither join nor end a tier", () => {
    const yaml = `
rules:
  - { name: a-block-other, priority: 1, effect: block, match: { tool_names: [tool.other] } }
  - { name: b-allow, priority: 1, effect: allow, match: { tool_names: [tool.write] } }
  - { name: c-approval, priority: 1, effect: require_approval, match: { tool_names: [tool.write] } }
  - { name: d-block, priority: 2, effect: block, match: { tool_names: [tool.write] } }
`
    const o = evaluate(yaml, writeIntent)
    expect([o.verdict, o.matchedRule, o.reasonCodes]).toEqual(["require_approval", "b-allow,c-approval", ["matched_rule_c_approval"]])
  })

  it("the verdict order is allow < dry_run < require_approval < block", () => {
    const tier = (effects: ReadonlyArray<string>) =>
      `rules:\n${effects.map((e, i) => `  - { name: r${i}, priority: 3, effect: ${e} }\n`).join("")}`
    expect(evaluate(tier(["allow", "dry_run"]), writeIntent).verdict).toBe("dry_run")
    expect(evaluate(tier(["dry_run", "require_approval", "allow"]), writeIntent).verdict).toBe("require_approval")
    expect(evaluate(tier(["require_approval", "block"]), writeIntent).verdict).toBe("block")
  })
})

describe("rule metadata (§4.3 item 9, §4.4; §11 item 38)", () => {
  it("min_approvals 2 implies distinct approvers; broker and rate limit propagate", () => {
    const yaml = `
default_verdict: allow
rules:
  - name: approval-with-controls
    priority: 1
    effect: require_approval
    min_approvals: 2
    require_broker_credential: true
    broker_reference: "egress"
    broker_scopes: [export]
    rate_limit:
      requests: 3
      scope: tool_identity
      window: minute
    match:
      tool_names: [tool.write]
`
    const o = evaluate(yaml, intentOf({ tool_name: "tool.write" }))
    expect(o.verdict).toBe("require_approval")
    expect(o.matchedRule).toBe("approval-with-controls")
    expect(o.minApprovals).toBe(2)
    expect(o.requireDistinctApprovers).toBe(true)
    expect(o.requireBrokerCredential).toBe(true)
    expect(o.rateLimit).toEqual({ requests: 3, window: "minute", scope: "tool_identity" })
  })

  it("a require_approval rule without min_approvals needs 1; min_approvals is dropped for other verdicts", () => {
    expect(evaluate("rules:\n  - { name: r, effect: require_approval }\n", intentOf({})).minApprovals).toBe(1)
    const allow = evaluate("rules:\n  - { name: r, effect: allow, min_approvals: 3 }\n", intentOf({}))
    expect([allow.minApprovals, allow.requireDistinctApprovers]).toEqual([0, false])
  })

  it("min approvals is the maximum over the winning rules only", () => {
    const yaml = `
rules:
  - { name: a, effect: require_approval, min_approvals: 2 }
  - { name: b, effect: require_approval, min_approvals: 3 }
  - { name: c, effect: allow, min_approvals: 5 }
`
    expect(evaluate(yaml, intentOf({})).minApprovals).toBe(3)
  })

  it("rate limits of the winners merge most restrictively (fewer requests, then minute, then smaller scope)", () => {
    const tier = (a: string, b: string) =>
      `rules:\n  - { name: a, effect: allow, rate_limit: { ${a} } }\n  - { name: b, effect: allow, rate_limit: { ${b} } }\n`
    expect(evaluate(tier("requests: 5", "requests: 2, window: hour"), intentOf({})).rateLimit).toEqual({
      requests: 2,
      window: "hour",
      scope: "tool_identity"
    })
    expect(evaluate(tier("requests: 2, window: hour", "requests: 2, window: minute"), intentOf({})).rateLimit?.window).toBe("minute")
    expect(evaluate(tier("requests: 2, scope: tool", "requests: 2, scope: identity"), intentOf({})).rateLimit?.scope).toBe("identity")
  })

  it("controls of a losing rule do not propagate", () => {
    const yaml = `
rules:
  - { name: a, effect: allow, require_broker_credential: true, rate_limit: { requests: 1 } }
  - { name: b, effect: block }
`
    const o = evaluate(yaml, intentOf({}))
    expect([o.verdict, o.requireBrokerCredential, o.rateLimit]).toEqual(["block", false, undefined])
  })
})

describe("plan/apply semantics for destructive targets (§4.3 item 8; §11 item 39)", () => {
  const yaml = "default_verdict: allow\nrules:\n  - name: allow-delete\n    effect: allow\n    match:\n      tool_names: [tool.delete]\n"
  const deleteIntent = (phase: string) =>
    intentOf({ tool_name: "tool.delete", targets: [{ kind: "path", value: "/tmp/demo.txt", operation: "delete" }], context: { phase } })

  it("plan → dry_run with plan_phase_non_destructive", () => {
    expect(verdictAndReasons(yaml, deleteIntent("plan"))).toEqual({
      verdict: "dry_run",
      reasons: ["matched_rule_allow_delete", "plan_phase_non_destructive"],
      violations: []
    })
  })

  it("apply → require_approval with destructive_apply_requires_approval and one approval", () => {
    const o = evaluate(yaml, deleteIntent("apply"))
    expect([o.verdict, o.reasonCodes, o.minApprovals]).toEqual([
      "require_approval",
      ["destructive_apply_requires_approval", "matched_rule_allow_delete"],
      1
    ])
  })

  it("the effect only goes up; the reason is added even when the rule already blocks", () => {
    const block = "rules:\n  - name: block-delete\n    effect: block\n"
    expect(verdictAndReasons(block, deleteIntent("apply"))).toEqual({
      verdict: "block",
      reasons: ["destructive_apply_requires_approval", "matched_rule_block_delete"],
      violations: []
    })
    expect(evaluate("rules:\n  - { name: r, effect: require_approval }\n", deleteIntent("plan")).verdict).toBe("require_approval")
  })

  it("non-destructive targets are untouched", () => {
    const o = evaluate(yaml.replace("tool.delete", "tool.read"), intentOf({ tool_name: "tool.read", targets: [{ kind: "path", value: "/x", operation: "read" }] }))
    expect([o.verdict, o.reasonCodes]).toEqual(["allow", ["matched_rule_allow_delete"]])
  })

  it("conformance §12 #3/#4: block-destructive-tools blocks delete and exec with both reasons", () => {
    const policy = "default_verdict: block\nrules:\n  - name: block-destructive-tools\n    effect: block\n    match:\n      tool_names: [tool.delete, tool.exec]\n"
    for (const target of [
      { kind: "path", value: "/tmp/unsafe.txt", operation: "delete", endpoint_class: "fs.delete" },
      { kind: "other", value: "rm -rf /tmp/unsafe", operation: "exec", endpoint_class: "proc.exec" }
    ]) {
      const toolName = target.kind === "path" ? "tool.delete" : "tool.exec"
      expect(verdictAndReasons(policy, intentOf({ tool_name: toolName, targets: [target], context: { risk_class: "high" } })).reasons).toEqual([
        "destructive_apply_requires_approval",
        "matched_rule_block_destructive_tools"
      ])
    }
  })
})

describe("match constraints (§4.2; TestRuleMatchesCoverage)", () => {
  const request = intentOf({
    tool_name: "tool.write",
    context: { risk_class: "high" },
    arg_provenance: [{ arg_path: "args.path", source: "external" }],
    skill_provenance: { skill_name: "safe-curl", skill_version: "1.2.0", source: "registry", publisher: "acme" },
    targets: [
      {
        kind: "host",
        value: "api.external.com",
        operation: "write",
        sensitivity: "confidential",
        endpoint_class: "net.http",
        discovery_method: "webmcp",
        read_only_hint: true,
        idempotent_hint: true
      }
    ]
  })
  const intent = normalized(request)

  it("a conjunction of every constraint matches", () => {
    const m = matchOf(`      tool_names: [tool.write]
      risk_classes: [high]
      target_kinds: [host]
      target_values: [api.external.com]
      data_classes: [confidential]
      destination_kinds: [host]
      destination_values: [api.external.com]
      destination_operations: [write]
      endpoint_classes: [net.http]
      discovery_method: [webmcp]
      tool_annotations: { readOnlyHint: true, idempotentHint: true }
      skill_publishers: [acme]
      skill_sources: [registry]
      provenance_sources: [external]
      identities: [alice]
      workspace_prefixes: [/repo]
`)
    expect(ruleMatches(m, intent)).toBe(true)
  })

  it.each([
    "tool_names: [tool.other]",
    "risk_classes: [low]",
    "target_kinds: [path]",
    "target_values: [/tmp/out.txt]",
    "data_classes: [public]",
    "destination_kinds: [bucket]",
    "destination_values: [internal.local]",
    "destination_operations: [read]",
    "endpoint_classes: [fs.delete]",
    "discovery_method: [dynamic_mcp]",
    "tool_annotations: { readOnlyHint: false }",
    "skill_publishers: [unknown]",
    "skill_sources: [git]",
    "provenance_sources: [user]",
    "identities: [bob]",
    "identities: [Alice]",
    "workspace_prefixes: [/other]",
    "target_values: [API.EXTERNAL.COM]"
  ])("%s does not match", (constraint) => {
    expect(ruleMatches(matchOf(`      ${constraint}\n`), intent)).toBe(false)
  })

  it("workspace prefixes are plain string prefixes (UPSTREAM QUIRK kept)", () => {
    expect(ruleMatches(matchOf("      workspace_prefixes: [/repo]\n"), normalized(intentOf({ context: { workspace: "/repository" } })))).toBe(true)
  })

  it("with no targets, every per-target constraint and every annotation fails", () => {
    const noTargets = normalized(intentOf({ targets: [] }))
    expect(ruleMatches(matchOf("      target_kinds: [host]\n"), noTargets)).toBe(false)
    expect(ruleMatches(matchOf("      tool_annotations: { destructiveHint: false }\n"), noTargets)).toBe(false)
    expect(ruleMatches(matchOf("      tool_names: [tool.demo]\n"), noTargets)).toBe(true)
  })

  it("destructiveHint: false is satisfied by a target without the hint", () => {
    expect(ruleMatches(matchOf("      tool_annotations: { destructiveHint: false }\n"), intent)).toBe(true)
  })

  it("discovery method `unknown` matches targets without one (TestEvaluatePolicyMatchesUnknownDiscoveryMethod)", () => {
    const yaml = "default_verdict: block\nrules:\n  - name: allow_unknown_discovery\n    effect: allow\n    match:\n      endpoint_class: [fs.read]\n      discovery_method: [unknown]\n"
    const o = evaluate(yaml, intentOf({ tool_name: "tool.read", targets: [{ kind: "path", value: "/tmp/input.txt", operation: "read", endpoint_class: "fs.read" }] }))
    expect([o.verdict, o.matchedRule]).toEqual(["allow", "allow_unknown_discovery"])
  })

  it("skill trust hooks select different tiers (TestEvaluatePolicySkillTrustHooks)", () => {
    const yaml = `
default_verdict: allow
rules:
  - { name: trusted-skill, priority: 1, effect: allow, match: { skill_publishers: [acme], skill_sources: [registry], tool_names: [tool.write] }, reason_codes: [skill_trusted] }
  - { name: untrusted-skill, priority: 5, effect: require_approval, match: { skill_sources: [git], tool_names: [tool.write] }, reason_codes: [skill_untrusted_source] }
`
    const skill = (source: string) => ({ skill_name: "safe-curl", skill_version: "1.0.0", source, publisher: "ACME", digest: "a".repeat(64) })
    expect(evaluate(yaml, intentOf({ tool_name: "tool.write", skill_provenance: skill("registry") })).reasonCodes).toEqual(["skill_trusted"])
    expect(evaluate(yaml, intentOf({ tool_name: "tool.write", skill_provenance: skill("git") })).verdict).toBe("require_approval")
  })

  it("context_* constraints read the wrkr.* auth_context keys (TestRuleMatchesWrkrContextFields)", () => {
    const yaml = "default_verdict: allow\nrules:\n  - name: block-wrkr-data-class\n    effect: block\n    match:\n      tool_names: [tool.read]\n      context_tool_names: [tool.read]\n      context_data_classes: [pii]\n"
    const withContext = intentOf({ tool_name: "tool.read", context: { auth_context: { "wrkr.tool_name": "tool.read", "wrkr.data_class": " PII " } } })
    expect(evaluate(yaml, withContext).verdict).toBe("block")
    expect(evaluate(yaml, intentOf({ tool_name: "tool.read" })).verdict).toBe("allow")
  })

  describe("delegation constraints (TestEvaluatePolicyDelegationConstraints)", () => {
    const yaml = `
default_verdict: block
rules:
  - name: allow-delegated-write
    effect: allow
    match:
      tool_names: [tool.write]
      require_delegation: true
      allowed_delegator_identities: [agent.lead]
      allowed_delegate_identities: [agent.specialist]
      delegation_scopes: [write]
      max_delegation_depth: 2
`
    const delegated = (delegator: string, scope = "write") =>
      intentOf({
        tool_name: "tool.write",
        delegation: {
          requester_identity: "agent.specialist",
          scope_class: scope,
          chain: [{ delegator_identity: delegator, delegate_identity: "agent.specialist", scope_class: scope }]
        }
      })

    it("matches an allowed chain and rejects another delegator", () => {
      expect(evaluate(yaml, delegated("agent.lead")).verdict).toBe("allow")
      expect(evaluate(yaml, delegated("agent.other")).verdict).toBe("block")
    })

    it("requires a delegation, the scope and the depth", () => {
      expect(evaluate(yaml, intentOf({ tool_name: "tool.write" })).verdict).toBe("block")
      expect(evaluate(yaml, delegated("agent.lead", "read")).verdict).toBe("block")
      expect(evaluate(yaml.replace("max_delegation_depth: 2", "max_delegation_depth: 0"), delegated("agent.lead")).verdict).toBe("block")
    })

    it("the winning rule's require_delegation is reported", () => {
      expect(evaluate(yaml, delegated("agent.lead")).requireDelegation).toBe(true)
    })
  })
})

describe("endpoint constraint (§4.6; §11 item 42)", () => {
  it("path denylist and domain allowlist block (TestEvaluatePolicyEndpointConstraintPathAndDomain)", () => {
    const yaml = `
default_verdict: allow
rules:
  - name: endpoint-guard
    effect: allow
    match:
      tool_names: [tool.write]
    endpoint:
      enabled: true
      path_allowlist: [/tmp/safe/**]
      path_denylist: [/tmp/safe/blocked/**]
      domain_allowlist: [api.internal.local]
      egress_classes: [net.http]
      action: block
      reason_code: endpoint_policy_violation
      violation: endpoint_policy_violation
`
    const request = intentOf({
      tool_name: "tool.write",
      targets: [
        { kind: "path", value: "/tmp/safe/blocked/file.txt", operation: "write", endpoint_class: "fs.write" },
        { kind: "url", value: "https://api.external.com/export", operation: "write", endpoint_class: "net.http", endpoint_domain: "api.external.com" }
      ]
    })
    expect(verdictAndReasons(yaml, request)).toEqual({
      verdict: "block",
      reasons: ["endpoint_domain_not_allowlisted", "endpoint_path_denied", "endpoint_policy_violation", "matched_rule_endpoint_guard"],
      violations: ["endpoint_domain_not_allowlisted", "endpoint_path_denied", "endpoint_policy_violation"]
    })
  })

  it("denylist and allowlist are checked independently: a denied, unlisted path reports both", () => {
    const yaml = `
default_verdict: allow
rules:
  - name: guard
    effect: allow
    endpoint:
      path_allowlist: [/tmp/**]
      path_denylist: [/etc/**]
      domain_allowlist: [api.internal.local]
      domain_denylist: ["*.evil.example"]
`
    const request = intentOf({ targets: [{ kind: "path", value: "/etc/passwd", operation: "read" }, { kind: "host", value: "x.evil.example" }] })
    expect(evaluate(yaml, request).reasonCodes).toEqual([
      "endpoint_constraint_violation",
      "endpoint_domain_denied",
      "endpoint_domain_not_allowlisted",
      "endpoint_path_denied",
      "endpoint_path_not_allowlisted",
      "matched_rule_guard"
    ])
  })

  it("destructive_action raises to the most restrictive of action and destructive action", () => {
    const policy = (action: string, destructive: string) => `
default_verdict: allow
rules:
  - name: endpoint-destructive
    effect: allow
    match:
      tool_names: [tool.write]
    endpoint:
      enabled: true
      destructive_action: ${destructive}
      action: ${action}
      reason_code: endpoint_policy_violation
      violation: endpoint_policy_violation
`
    const request = intentOf({ tool_name: "tool.write", targets: [{ kind: "path", value: "/tmp/data.txt", operation: "delete", endpoint_class: "fs.delete", destructive: true }] })
    const o = evaluate(policy("block", "require_approval"), request)
    expect(o.verdict).toBe("block")
    expect(o.reasonCodes).toEqual([
      "destructive_apply_requires_approval",
      "endpoint_destructive_operation",
      "endpoint_policy_violation",
      "matched_rule_endpoint_destructive"
    ])
    expect(o.violations).toEqual(["destructive_operation", "endpoint_policy_violation"])
    expect(evaluate(policy("require_approval", "block"), request).verdict).toBe("block")
    expect(evaluate(policy("require_approval", "require_approval"), request).verdict).toBe("require_approval")
  })

  it("an untriggered endpoint constraint leaves the rule effect alone", () => {
    const yaml = "rules:\n  - name: guard\n    effect: allow\n    endpoint:\n      path_allowlist: [/tmp/safe/**]\n"
    expect(verdictAndReasons(yaml, intentOf({ targets: [{ kind: "path", value: "/tmp/safe/a.txt", operation: "write" }] }))).toEqual({
      verdict: "allow",
      reasons: ["matched_rule_guard"],
      violations: []
    })
  })

  it.each([
    ["/tmp/safe/**", "/tmp/safe", true],
    ["/tmp/safe/**", "/tmp/safe/deep/file.txt", true],
    ["/tmp/safe/**", "/tmp/safer/file.txt", false],
    ["/tmp/safe/*.txt", "/tmp/safe/file.txt", true],
    ["/tmp/safe/*.txt", "/tmp/safe/sub/file.txt", false],
    ["[", "/tmp/safe/file.txt", false],
    ["[", "[", true],
    // UPSTREAM QUIRK kept: `..` is not resolved before matching
    ["/tmp/safe/**", "/tmp/safe/../../etc/passwd", true]
  ])("path allowlist %j vs %j → allowed %s", (pattern, value, allowed) => {
    const yaml = `rules:\n  - name: guard\n    effect: allow\n    endpoint:\n      path_allowlist: ["${pattern}"]\n`
    expect(evaluate(yaml, intentOf({ targets: [{ kind: "path", value, operation: "read" }] })).verdict).toBe(allowed ? "allow" : "block")
  })

  it.each([
    ["*.example.com", "svc.example.com", true],
    ["*.example.com", "example.com", false],
    ["api.*.example.com", "api.dev.example.com", true],
    ["API.Internal.Local", "api.internal.local", true],
    ["[", "svc.example.com", false]
  ])("domain allowlist %j vs %j → allowed %s", (pattern, host, allowed) => {
    const yaml = `rules:\n  - name: guard\n    effect: allow\n    endpoint:\n      domain_allowlist: ["${pattern}"]\n`
    expect(evaluate(yaml, intentOf({ targets: [{ kind: "host", value: host }] })).verdict).toBe(allowed ? "allow" : "block")
  })

  it("egress classes restrict network targets only", () => {
    const yaml = "rules:\n  - name: guard\n    effect: allow\n    endpoint:\n      egress_classes: [net.dns]\n"
    expect(evaluate(yaml, intentOf({ targets: [{ kind: "url", value: "https://x.example/" }] })).reasonCodes).toContain(
      "endpoint_egress_class_not_allowed"
    )
    expect(evaluate(yaml, intentOf({ targets: [{ kind: "path", value: "/x", operation: "read" }] })).verdict).toBe("allow")
  })
})

describe("dataflow (§4.3 item 1; deliberate divergence: most restrictive, not replacement)", () => {
  const tainted = (targets: ReadonlyArray<IntentTarget>, source = "external") =>
    intentOf({ tool_name: "tool.write", targets, arg_provenance: [{ arg_path: "$.path", source }] })

  it("tainted egress requires approval (TestEvaluatePolicyDataflowConstraint)", () => {
    const yaml = `
default_verdict: allow
rules:
  - name: tainted-egress
    effect: allow
    dataflow:
      enabled: true
      tainted_sources: [external, tool_output]
      destination_kinds: [host]
      destination_operations: [write]
      action: require_approval
      reason_code: dataflow_tainted_egress
      violation: tainted_egress
    match:
      tool_names: [tool.write]
`
    expect(verdictAndReasons(yaml, tainted([{ kind: "host", value: "api.external.com", operation: "write" }]))).toEqual({
      verdict: "require_approval",
      reasons: ["dataflow_tainted_egress", "matched_rule_tainted_egress"],
      violations: ["tainted_egress"]
    })
    expect(evaluate(yaml, tainted([{ kind: "host", value: "api.external.com", operation: "read" }])).verdict).toBe("allow")
    expect(evaluate(yaml, tainted([{ kind: "host", value: "api.external.com", operation: "write" }], "user")).verdict).toBe("allow")
  })

  const defaultEgress = `
default_verdict: allow
rules:
  - name: tainted-default-egress
    effect: allow
    dataflow:
      enabled: true
      tainted_sources: [external]
      action: block
      reason_code: tainted_default_egress
      violation: tainted_egress
    match:
      tool_names: [tool.write]
`

  it("without destination lists, url/host/bucket/queue/topic targets are destinations", () => {
    for (const kind of ["url", "host", "bucket", "queue", "topic"]) {
      const value = kind === "url" ? "https://external.invalid" : "dest"
      expect(evaluate(defaultEgress, tainted([{ kind, value, operation: "write" }])).reasonCodes).toContain("tainted_default_egress")
    }
  })

  it("a path is not an egress destination", () => {
    const o = evaluate(defaultEgress, tainted([{ kind: "path", value: "/tmp/out.txt", operation: "write" }]))
    expect([o.verdict, o.reasonCodes]).toEqual(["allow", ["matched_rule_tainted_default_egress"]])
  })

  it("a block rule is not weakened by a require_approval dataflow action", () => {
    const yaml = "rules:\n  - name: block-egress\n    effect: block\n    dataflow:\n      enabled: true\n      action: require_approval\n"
    expect(verdictAndReasons(yaml, tainted([{ kind: "host", value: "h", operation: "write" }]))).toEqual({
      verdict: "block",
      reasons: ["dataflow_tainted_destination", "matched_rule_block_egress"],
      violations: ["tainted_dataflow"]
    })
  })

  it("tainted sources default to external and tool_output", () => {
    const yaml = "rules:\n  - name: r\n    effect: allow\n    dataflow:\n      destination_values: [h]\n"
    expect(evaluate(yaml, tainted([{ kind: "host", value: "h" }], "tool_output")).verdict).toBe("require_approval")
    expect(evaluate(yaml, tainted([{ kind: "host", value: "h" }], "system")).verdict).toBe("allow")
    expect(evaluate(yaml, tainted([{ kind: "host", value: "other" }], "external")).verdict).toBe("allow")
  })
})

describe("sandbox decisions (§4.15; conformance §12 #24)", () => {
  const yaml = `
default_verdict: block
rules:
  - name: allow-sandboxed-exec
    effect: allow
    match:
      tool_names: [tool.exec]
    sandbox:
      allowed_network_modes: [disabled]
      allowed_writable_path_prefixes: [/tmp/work]
      required_read_only_roots: [/repo]
      allowed_env_exposure_modes: [none]
      max_timeout_seconds: 60
      allowed_filesystem_isolations: [container]
      allowed_user_modes: [unprivileged]
`
  const valid = {
    network_mode: "disabled",
    writable_paths: ["/tmp/work/out"],
    read_only_roots: ["/repo"],
    env_exposure_mode: "none",
    timeout_seconds: 30,
    filesystem_isolation: "container",
    user_mode: "unprivileged",
    evidence_ref: "sandbox:receipt:1",
    evidence_digest: "d".repeat(64)
  }
  const exec = (sandbox?: Record<string, unknown>, targets: ReadonlyArray<IntentTarget> = [{ kind: "other", value: "make test", operation: "exec" }]) =>
    intentOf({ tool_name: "tool.exec", targets, context: sandbox === undefined ? {} : { sandbox } })

  it("a valid sandbox allows a proc.exec-only intent without destructive approval", () => {
    const o = evaluate(yaml, exec(valid))
    expect([o.verdict, o.reasonCodes, o.violations]).toEqual(["allow", ["matched_rule_allow_sandboxed_exec"], []])
    expect(o.sandbox).toEqual({
      status: "valid",
      network_mode: "disabled",
      env_exposure_mode: "none",
      filesystem_isolation: "container",
      user_mode: "unprivileged",
      evidence_ref: "sandbox:receipt:1",
      evidence_digest: "d".repeat(64),
      timeout_seconds: 30
    })
  })

  it("a valid sandbox does not waive approval for a non-exec destructive target", () => {
    const o = evaluate(yaml, exec(valid, [{ kind: "other", value: "make", operation: "exec" }, { kind: "path", value: "/tmp/work/x", operation: "delete" }]))
    expect(o.verdict).toBe("require_approval")
    expect(o.reasonCodes).toContain("destructive_apply_requires_approval")
  })

  it("missing metadata blocks with sandbox_metadata_missing", () => {
    const o = evaluate(yaml, exec())
    expect([o.verdict, o.sandbox]).toEqual(["block", { status: "missing", reason_codes: ["sandbox_metadata_missing"] }])
    expect(o.reasonCodes).toContain("sandbox_metadata_missing")
  })

  it.each([
    ["permissive network", { network_mode: "full" }, "sandbox_network_mode_disallowed", "disallowed"],
    ["timeout above the maximum", { timeout_seconds: 120 }, "sandbox_timeout_exceeded", "disallowed"],
    ["writable path outside the prefixes", { writable_paths: ["/etc"] }, "sandbox_writable_path_disallowed", "disallowed"],
    ["root user", { user_mode: "root" }, "sandbox_user_mode_disallowed", "disallowed"],
    ["read-only root absent", { read_only_roots: ["/usr"] }, "sandbox_read_only_root_missing", "missing"],
    ["no evidence", { evidence_ref: "" }, "sandbox_evidence_missing", "missing"],
    ["no timeout", { timeout_seconds: 0 }, "sandbox_timeout_missing", "missing"]
  ])("%s blocks with %s (status %s)", (_what, change, reason, status) => {
    const o = evaluate(yaml, exec({ ...valid, ...change }))
    expect(o.verdict).toBe("block")
    expect(o.reasonCodes).toContain(reason)
    expect(o.violations).toContain(reason)
    expect(o.sandbox?.status).toBe(status)
  })
})

describe("agent identity (§4.13)", () => {
  const rule = (body: string) => `default_verdict: allow\nrules:\n  - name: agents\n    effect: allow\n${body}`
  const agent = (context: Partial<IntentContext>) => intentOf({ context })

  it("require_declared_agent", () => {
    expect(verdictAndReasons(rule("    require_declared_agent: true\n"), agent({}))).toEqual({
      verdict: "block",
      reasons: ["agent_unknown", "matched_rule_agents"],
      violations: ["agent_identity_missing"]
    })
    expect(evaluate(rule("    require_declared_agent: true\n"), agent({ agent_id: "a1", agent_identity: { owner: "o" } })).verdict).toBe("allow")
  })

  it("allowed and denied ids, revocation", () => {
    expect(verdictAndReasons(rule("    allowed_agent_ids: [a1]\n"), agent({ agent_id: "a2" })).violations).toEqual(["agent_not_declared"])
    expect(verdictAndReasons(rule("    denied_agent_ids: [a1]\n"), agent({ agent_id: "a1" })).reasons).toContain("agent_revoked")
    expect(verdictAndReasons(rule("    require_agent_owner: true\n"), agent({ agent_identity: { revoked: true } })).reasons).toEqual([
      "agent_owner_missing",
      "agent_revoked",
      "matched_rule_agents"
    ])
  })

  it("lifecycle states compare case-sensitively against lowered policy values (UPSTREAM QUIRK kept)", () => {
    const y = rule("    required_agent_lifecycle_states: [Active, approved]\n")
    expect(evaluate(y, agent({ agent_identity: { lifecycle_states: ["active", "approved"] } })).verdict).toBe("allow")
    expect(evaluate(y, agent({ agent_identity: { lifecycle_states: ["Active", "approved"] } })).reasonCodes).toContain("agent_lifecycle_state_invalid")
  })

  it("require_unexpired_agent uses the evaluation time", () => {
    const y = rule("    require_unexpired_agent: true\n")
    expect(evaluate(y, agent({ agent_identity: { expires_at: "2020-01-01T00:00:00Z" } })).reasonCodes).toContain("agent_expired")
    expect(evaluate(y, agent({ agent_identity: {} })).reasonCodes).toContain("agent_expired")
    expect(evaluate(y, agent({ agent_identity: { expires_at: "2099-01-01T00:00:00Z" } })).verdict).toBe("allow")
    expect(evaluate(y, agent({ agent_identity: { expires_at: "2099-01-01T00:00:00Z" } }), 4_200_000_000_000_000_000n).verdict).toBe("block")
  })

  it("manifest digest, publisher and source mismatch", () => {
    const y = rule(`    required_agent_manifest_digest: "${"A".repeat(64)}"\n    allowed_agent_manifest_publishers: [Acme]\n`)
    expect(evaluate(y, agent({ agent_identity: { manifest_digest: "a".repeat(64), publisher: " ACME " } })).verdict).toBe("allow")
    expect(evaluate(y, agent({ agent_identity: { manifest_digest: "b".repeat(64), publisher: "acme" } })).reasonCodes).toContain(
      "agent_manifest_mismatch"
    )
  })
})

describe("credential posture (§4.14; conformance §12 #20–21 shape)", () => {
  const yaml = `
default_verdict: block
rules:
  - name: delegated-egress
    effect: allow
    reason_codes: [delegated_egress_write_allowed]
    block_standing_credentials: true
    allowed_credential_sources: [github_oidc, aws_sts]
    allowed_credential_issuers: [token.actions.githubusercontent.com]
    allowed_credential_access_types: [jit]
    require_jit_credential: true
    max_credential_ttl_seconds: 900
`
  const oidc: Partial<IntentContext> = {
    credential_ref: "ref:oidc:1",
    credential_source: "github_oidc",
    credential_access_type: "jit",
    credential_issuer: "token.actions.githubusercontent.com",
    credential_ttl_seconds: 300
  }

  it("a JIT OIDC credential is allowed", () => {
    expect(verdictAndReasons(yaml, intentOf({ context: oidc }))).toEqual({ verdict: "allow", reasons: ["delegated_egress_write_allowed"], violations: [] })
  })

  it("a static PAT collects every posture reason", () => {
    const pat = { ...oidc, credential_source: "github_pat", credential_access_type: "standing", credential_issuer: "github.com", credential_ttl_seconds: 3600 }
    expect(verdictAndReasons(yaml, intentOf({ context: pat }))).toEqual({
      verdict: "block",
      reasons: [
        "credential_access_type_disallowed",
        "credential_issuer_disallowed",
        "credential_not_jit",
        "credential_source_disallowed",
        "credential_ttl_exceeded",
        "delegated_egress_write_allowed",
        "standing_credential_disallowed"
      ],
      violations: [
        "credential_access_type_disallowed",
        "credential_issuer_disallowed",
        "credential_not_jit",
        "credential_source_disallowed",
        "credential_ttl_exceeded",
        "standing_credential_disallowed"
      ]
    })
  })

  it("missing evidence", () => {
    const o = evaluate(yaml, intentOf({}))
    expect(o.verdict).toBe("block")
    for (const reason of ["credential_evidence_missing", "credential_source_unknown", "credential_access_type_unknown", "standing_credential_disallowed"]) {
      expect(o.reasonCodes).toContain(reason)
    }
  })

  it("run and job bindings must match when both sides are set", () => {
    const y = "rules:\n  - name: r\n    effect: allow\n    max_credential_ttl_seconds: 900\n"
    const bound = { ...oidc, run_id: "run-1", credential_run_binding: "run-2", job_id: "job-1", credential_job_binding: "job-1" }
    expect(evaluate(y, intentOf({ context: bound })).reasonCodes).toEqual(["credential_run_binding_mismatch", "matched_rule_r"])
  })
})

describe("context evidence (§4.10): raw claims never satisfy it", () => {
  it("blocks even when the intent claims a digest and mode", () => {
    const yaml = "default_verdict: allow\nrules:\n  - name: ctx\n    effect: allow\n    require_context_evidence: true\n    max_context_age_seconds: 60\n"
    const claims = intentOf({ context: { context_set_digest: "a".repeat(64), context_evidence_mode: "required", auth_context: { context_age_seconds: 5 } } })
    expect(verdictAndReasons(yaml, claims)).toEqual({
      verdict: "block",
      reasons: ["context_evidence_missing", "context_evidence_mode_mismatch", "context_freshness_exceeded", "context_set_digest_missing", "matched_rule_ctx"],
      violations: ["context_evidence_mode_violation", "context_freshness_violation", "missing_context_evidence"]
    })
  })
})

describe("freeze windows (§4.7; §11 item 44)", () => {
  const at = (rfc3339: string): bigint => {
    const parsed = parseRfc3339(rfc3339)
    if (Option.isNone(parsed)) throw new Error(rfc3339)
    return parsed.value
  }
  const policy = (window: string, extra = "") => `
default_verdict: block
rules:
  - name: deploy
    effect: allow
    match:
      tool_names: [tool.deploy]
    freeze_window:
      timezone: America/Toronto
${extra}      windows:
${window}`
  const window = (start: string, end: string, name = "w") => `        - { name: ${name}, start: "${start}", end: "${end}" }\n`
  const deploy = (context: Partial<IntentContext> = {}) =>
    intentOf({ tool_name: "tool.deploy", targets: [{ kind: "host", value: "deploy.internal" }], context: { risk_class: "high", environment: "prod", ...context } })

  it("an active block window blocks with reason and violation freeze_window_active_block", () => {
    const o = evaluate(policy(window("2026-03-10T09:00:00", "2026-03-10T12:00:00")), deploy(), at("2026-03-10T14:30:00Z"))
    expect([o.verdict, o.reasonCodes, o.violations]).toEqual([
      "block",
      ["freeze_window_active_block", "matched_rule_deploy"],
      ["freeze_window_active_block"]
    ])
    expect(o.freezeWindow).toMatchObject({ status: "active", effect: "block", window_name: "w", reason: "w", evaluated_at: "2026-03-10T14:30:00Z" })
  })

  it("a require_approval window requires approval", () => {
    const o = evaluate(policy(window("2026-03-10T09:00:00", "2026-03-10T12:00:00"), "      effect: require_approval\n"), deploy(), at("2026-03-10T13:00:00Z"))
    expect([o.verdict, o.reasonCodes, o.minApprovals]).toEqual(["require_approval", ["freeze_window_active_require_approval", "matched_rule_deploy"], 1])
  })

  it("is inactive before the start and from the end on", () => {
    const y = policy(window("2026-03-10T09:00:00", "2026-03-10T12:00:00"))
    for (const now of ["2026-03-10T12:59:59Z", "2026-03-10T16:00:00Z"]) {
      const o = evaluate(y, deploy(), at(now))
      expect([o.verdict, o.freezeWindow?.status, o.freezeWindow?.window_start]).toEqual(["allow", "inactive", "0001-01-01T00:00:00Z"])
    }
  })

  it("follows the DST change (2026-03-08 01:00 EST → 04:00 EDT is 06:00Z–08:00Z)", () => {
    const y = policy(window("2026-03-08T01:00:00", "2026-03-08T04:00:00"))
    expect(evaluate(y, deploy(), at("2026-03-08T07:30:00Z")).freezeWindow).toMatchObject({
      status: "active",
      window_start: "2026-03-08T06:00:00Z",
      window_end: "2026-03-08T08:00:00Z"
    })
    expect(evaluate(y, deploy(), at("2026-03-08T05:59:59Z")).verdict).toBe("allow")
    expect(evaluate(y, deploy(), at("2026-03-08T08:00:00Z")).verdict).toBe("allow")
  })

  it("environment and risk-class filters keep the window inactive", () => {
    const y = policy(window("2026-03-10T09:00:00", "2026-03-10T12:00:00"), "      environments: [prod]\n      risk_classes: [high]\n")
    const now = at("2026-03-10T14:30:00Z")
    expect(evaluate(y, deploy({ environment: " PROD " }), now).verdict).toBe("block")
    expect(evaluate(y, deploy({ environment: "staging" }), now).verdict).toBe("allow")
    expect(evaluate(y, deploy({ risk_class: "low" }), now).verdict).toBe("allow")
  })

  it("an unknown time zone or an invalid window blocks", () => {
    const zone = policy(window("2026-03-10T09:00:00", "2026-03-10T12:00:00")).replace("America/Toronto", "Mars/Olympus_Mons")
    const o = evaluate(zone, deploy(), at("2026-01-01T00:00:00Z"))
    expect([o.verdict, o.freezeWindow?.status, o.reasonCodes]).toEqual(["block", "invalid", ["freeze_window_invalid_timezone", "matched_rule_deploy"]])
    for (const w of [window("2026-03-10T12:00:00", "2026-03-10T09:00:00"), window("2026-03-10T09:00:00", "2026-03-10T09:00:00"), window("2026-03-10 09:00", "2026-03-10T12:00:00"), window("2026-02-30T09:00:00", "2026-03-10T12:00:00")]) {
      const r = evaluate(policy(w), deploy(), at("2026-01-01T00:00:00Z"))
      expect([r.verdict, r.reasonCodes]).toEqual(["block", ["freeze_window_invalid_window", "matched_rule_deploy"]])
    }
  })

  it("the first active window names the decision; the policy reason wins over the window name", () => {
    const y = policy(window("2026-03-10T09:00:00", "2026-03-10T12:00:00", "first") + window("2026-03-10T08:00:00", "2026-03-10T13:00:00", "second"), "      reason: quarter-end freeze\n")
    expect(evaluate(y, deploy(), at("2026-03-10T14:30:00Z")).freezeWindow).toMatchObject({ window_name: "first", reason: "quarter-end freeze" })
  })
})

describe("scripts (§4.8; §11 item 40; conformance §12 #10–12)", () => {
  const read = { tool_name: "tool.read", args: { path: "/tmp/in.txt" }, targets: [{ kind: "path", value: "/tmp/in.txt", operation: "read" }] }
  const write = { tool_name: "tool.write", args: { path: "/tmp/out.txt" }, targets: [{ kind: "path", value: "/tmp/out.txt", operation: "write" }] }
  const del = { tool_name: "tool.delete", args: {}, targets: [{ kind: "path", value: "/tmp/x", operation: "delete" }] }
  const script = (...steps: ReadonlyArray<NonNullable<NonNullable<IntentRequest["script"]>["steps"]>[number]>) =>
    intentOf({ tool_name: "script", targets: [], script: { steps } })

  it("rolls up steps: max verdict, max approvals, step order (TestEvaluateScriptIntentRollup)", () => {
    const yaml = `
default_verdict: allow
scripts:
  max_steps: 8
  require_approval_above: 1
rules:
  - { name: allow-read, effect: allow, match: { tool_names: [tool.read] } }
  - { name: approval-write, effect: require_approval, min_approvals: 2, match: { tool_names: [tool.write] } }
`
    const o = evaluate(yaml, script(read, write))
    expect(o.verdict).toBe("require_approval")
    expect(o.minApprovals).toBe(2)
    expect(o.requireDistinctApprovers).toBe(true)
    expect(o.reasonCodes).toEqual(["matched_rule_allow_read", "matched_rule_approval_write", "script_step_threshold_approval"])
    expect(o.matchedRule).toBe("allow-read,approval-write")
    expect(o.script).toEqual({
      stepCount: 2,
      compositeRiskClass: "medium",
      stepVerdicts: [
        { index: 0, tool_name: "tool.read", verdict: "allow", reason_codes: ["matched_rule_allow_read"], matched_rule: "allow-read" },
        { index: 1, tool_name: "tool.write", verdict: "require_approval", reason_codes: ["matched_rule_approval_write"], matched_rule: "approval-write" }
      ]
    })
  })

  it("max steps exceeded blocks (#10)", () => {
    const o = evaluate("default_verdict: allow\nscripts:\n  max_steps: 1\n", script(read, write))
    expect([o.verdict, o.reasonCodes, o.violations, o.script?.stepCount, o.script?.compositeRiskClass]).toEqual([
      "block",
      ["default_allow", "script_max_steps_exceeded"],
      ["script_max_steps_exceeded"],
      2,
      "medium"
    ])
  })

  it("mixed risk blocks (#11)", () => {
    const o = evaluate("default_verdict: allow\nscripts:\n  block_mixed_risk: true\n", script(read, write))
    expect([o.verdict, o.reasonCodes, o.violations]).toEqual(["block", ["default_allow", "script_mixed_risk_blocked"], ["script_mixed_risk"]])
    expect(evaluate("default_verdict: allow\nscripts:\n  block_mixed_risk: true\n", script(write, write)).verdict).toBe("allow")
  })

  it("the step threshold requires approval with at least one approval (#12)", () => {
    const o = evaluate("default_verdict: allow\nscripts:\n  require_approval_above: 1\n", script(read, write))
    expect([o.verdict, o.reasonCodes, o.minApprovals]).toEqual(["require_approval", ["default_allow", "script_step_threshold_approval"], 1])
    expect(evaluate("default_verdict: allow\nscripts:\n  require_approval_above: 2\n", script(read, write)).verdict).toBe("allow")
  })

  it("step risk: destructive or delete/exec is high, write/net medium, else low", () => {
    expect(evaluate("default_verdict: allow\n", script(read)).script?.compositeRiskClass).toBe("low")
    expect(evaluate("default_verdict: allow\n", script(read, del)).script?.compositeRiskClass).toBe("high")
  })

  it("steps are evaluated with their own tool name and targets", () => {
    const yaml = "default_verdict: allow\nrules:\n  - { name: block-delete, effect: block, match: { tool_names: [tool.delete] } }\n"
    const o = evaluate(yaml, script(read, del))
    expect(o.verdict).toBe("block")
    expect(o.script?.stepVerdicts.map((s) => s.verdict)).toEqual(["allow", "block"])
    expect(o.reasonCodes).toEqual(["default_allow", "destructive_apply_requires_approval", "matched_rule_block_delete"])
  })

  it("fail-closed runs first on the union of the step targets", () => {
    const yaml = "default_verdict: allow\nfail_closed:\n  enabled: true\n  risk_classes: [high]\n"
    const request = intentOf({
      tool_name: "script",
      targets: [],
      context: { risk_class: "high" },
      script: { steps: [read, { tool_name: "tool.unknown", targets: [{ kind: "path", value: "/x" }] }] }
    })
    const o = evaluate(yaml, request)
    expect([o.verdict, o.reasonCodes, o.script]).toEqual(["block", ["fail_closed_endpoint_class_unknown"], undefined])
  })

  it("the evaluation time and all inputs give identical results", () => {
    const yaml = "default_verdict: allow\nscripts:\n  require_approval_above: 1\n"
    expect(JSON.stringify(evaluate(yaml, script(read, write)))).toBe(JSON.stringify(evaluate(yaml, script(read, write))))
    expect(Either.isRight(prepareIntent(script(read, write)))).toBe(true)
  })
})
