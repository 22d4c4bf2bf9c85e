// Policy parsing, normalization and digest (spec gate.md §3; §11 items 26–29, 41).
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { digestJson } from "../../src/kernel/digest.js"
import { loadPolicyText, policyDigestPayload } from "../../src/gate/policy.js"
import { policyOf, unwrapLeft } from "./fixtures/builders.js"

const load = (yaml: string) => loadPolicyText(yaml, "policy.yaml")
const failure = (yaml: string) => unwrapLeft(load(yaml))
const digest = (yaml: string) => policyOf(yaml).digest

const rule = (body: string, name = "r") => `rules:\n  - name: ${name}\n    effect: allow\n${body}`

describe("defaults and sorting (§11 item 26)", () => {
  const yaml = `
rules:
  - name: allow-read
    priority: 20
    effect: allow
    match:
      tool_names: ["Tool.Read"]
      workspace_prefixes: [" /repo "]
    reason_codes: ["matched_allow"]
  - name: block-external
    priority: 10
    effect: block
    match:
      target_kinds: ["HOST"]
      target_values: ["api.external.com"]
    reason_codes: ["blocked_target"]
fail_closed:
  enabled: true
`

  it("fills schema id/version and default verdict require_approval; fail-closed defaults to [critical, high]", () => {
    const { policy } = policyOf(yaml)
    expect(policy.schemaId).toBe("gait.gate.policy")
    expect(policy.schemaVersion).toBe("1.0.0")
    expect(policy.defaultVerdict).toBe("require_approval")
    expect(policy.failClosed).toEqual({ enabled: true, riskClasses: ["critical", "high"], requiredFields: [], requiredHighRiskFields: [] })
  })

  it("sorts rules by priority then name, lowers tool names and trims workspace prefixes", () => {
    const { policy } = policyOf(yaml)
    expect(policy.rules.map((r) => r.name)).toEqual(["block-external", "allow-read"])
    expect(policy.rules[1]?.match.toolNames).toEqual(["tool.read"])
    expect(policy.rules[1]?.match.workspacePrefixes).toEqual(["/repo"])
    expect(policy.rules[0]?.match.targetKinds).toEqual(["host"])
  })

  it("sorts equal priorities by name in byte order, and negative priorities first", () => {
    const { policy } = policyOf(`
rules:
  - { name: b, effect: allow }
  - { name: a, effect: allow }
  - { name: Z, effect: allow }
  - { name: last, effect: allow, priority: 5 }
  - { name: first, effect: allow, priority: -1 }
`)
    expect(policy.rules.map((r) => [r.name, r.priority])).toEqual([
      ["first", -1],
      ["Z", 0],
      ["a", 0],
      ["b", 0],
      ["last", 5]
    ])
  })

  it("fail-closed risk classes are lowered, and not defaulted when fail-closed is disabled", () => {
    expect(policyOf("fail_closed:\n  enabled: true\n  risk_classes: [HIGH, ' medium ', high]\n").policy.failClosed.riskClasses).toEqual([
      "high",
      "medium"
    ])
    expect(policyOf("fail_closed:\n  enabled: false\n").policy.failClosed.riskClasses).toEqual([])
  })
})

describe("aliases (§11 item 27)", () => {
  it("accepts default_action, action, tool_name, endpoint_class and discovery_method lists", () => {
    const { policy } = policyOf(`
default_action: block
rules:
  - name: block-dynamic-destructive
    action: block
    match:
      tool_name: "Postgres_Query"
      endpoint_class: [proc.exec, fs.delete]
      discovery_method: [webmcp, dynamic_mcp]
      tool_annotations:
        destructiveHint: true
`)
    expect(policy.defaultVerdict).toBe("block")
    const r = policy.rules[0]
    expect(r?.effect).toBe("block")
    expect(r?.match.toolNames).toEqual(["postgres_query"])
    expect(r?.match.endpointClasses).toEqual(["fs.delete", "proc.exec"])
    expect(r?.match.discoveryMethods).toEqual(["dynamic_mcp", "webmcp"])
    expect(r?.match.toolAnnotations).toEqual({ destructiveHint: true })
  })

  it("merges tool_name into tool_names and endpoint_class into endpoint_classes", () => {
    const r = policyOf(
      rule("    match:\n      tool_name: C\n      tool_names: [b, a, C]\n      endpoint_class: [net.http]\n      endpoint_classes: [fs.read]\n")
    ).policy.rules[0]
    expect(r?.match.toolNames).toEqual(["a", "b", "c"])
    expect(r?.match.endpointClasses).toEqual(["fs.read", "net.http"])
  })

  it("default_action equal to default_verdict is accepted", () => {
    expect(policyOf("default_verdict: Allow\ndefault_action: ' allow '\n").policy.defaultVerdict).toBe("allow")
  })
})

describe("validation errors (§3.3, §11 item 28)", () => {
  // The reference's 16 TestParsePolicyValidationErrors cases plus the remaining messages of §3.3.
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ["invalid_mcp_trust_min_score", "mcp_trust:\n  snapshot: ./trust_snapshot.json\n  min_score: 1.2\n", "mcp_trust.min_score must be between 0 and 1"],
    ["missing_mcp_trust_snapshot", "mcp_trust:\n  enabled: true\n", "mcp_trust.snapshot is required when mcp_trust is configured"],
    ["invalid_default_verdict", "default_verdict: nope", "invalid default_verdict: nope"],
    [
      "default_action_conflicts_default_verdict",
      "default_verdict: allow\ndefault_action: block\n",
      "default_action must match default_verdict when both are set"
    ],
    ["invalid_rule_effect", "rules:\n  - name: bad-rule\n    effect: nope\n", 'invalid rule effect "nope" for bad-rule'],
    ["rule_action_conflicts_effect", "rules:\n  - name: bad-rule\n    effect: allow\n    action: block\n", "rule action must match effect for bad-rule"],
    ["empty_rule_name", 'rules:\n  - name: ""\n    effect: allow\n', "rule name is required"],
    ["missing_rule_name", "rules:\n  - effect: allow\n", "rule name is required"],
    ["missing_rule_effect", "rules:\n  - name: r\n", "rule effect is required for r"],
    [
      "invalid_required_field",
      "fail_closed:\n  enabled: true\n  required_fields: [targets, unknown]\n",
      "unsupported fail_closed required_field: unknown"
    ],
    [
      "invalid_required_high_risk_field",
      "fail_closed:\n  enabled: true\n  required_high_risk_fields: [agent_id, unknown]\n",
      "unsupported fail_closed required_high_risk_field: unknown"
    ],
    [
      "invalid_rate_limit_scope",
      "rules:\n  - name: bad-rate-limit\n    effect: allow\n    rate_limit:\n      requests: 1\n      scope: unknown\n",
      'unsupported rate_limit.scope "unknown" for bad-rate-limit'
    ],
    [
      "invalid_rate_limit_window",
      "rules:\n  - name: bad-rate-limit-window\n    effect: allow\n    rate_limit:\n      requests: 1\n      window: day\n",
      'unsupported rate_limit.window "day" for bad-rate-limit-window'
    ],
    ["negative_rate_limit", rule("    rate_limit:\n      requests: -1\n"), "rate_limit.requests must be >= 0 for r"],
    [
      "invalid_dataflow_action",
      "rules:\n  - name: bad-dataflow\n    effect: allow\n    dataflow:\n      enabled: true\n      action: allow\n",
      'unsupported dataflow.action "allow" for bad-dataflow'
    ],
    [
      "invalid_endpoint_action",
      "rules:\n  - name: bad-endpoint-action\n    effect: allow\n    endpoint:\n      enabled: true\n      action: dry_run\n",
      'unsupported endpoint.action "dry_run" for bad-endpoint-action'
    ],
    [
      "invalid_endpoint_class_match",
      "rules:\n  - name: bad-endpoint-class\n    effect: allow\n    match:\n      endpoint_classes: [net.invalid]\n",
      'unsupported match endpoint_class "net.invalid" for bad-endpoint-class'
    ],
    [
      "invalid_endpoint_class_alias",
      rule("    match:\n      endpoint_class: [Disk.Write]\n"),
      'unsupported match endpoint_class "disk.write" for r'
    ],
    [
      "invalid_discovery_method_match",
      "rules:\n  - name: bad-discovery-method\n    effect: allow\n    match:\n      discovery_method: [unsupported]\n",
      'unsupported match discovery_method "unsupported" for bad-discovery-method'
    ],
    ["unsupported_schema_id", "schema_id: other.policy\n", "unsupported policy schema_id: other.policy"],
    ["unsupported_schema_version", "schema_version: 2.0.0\n", "unsupported policy schema_version: 2.0.0"],
    ["negative_max_steps", "scripts:\n  max_steps: -1\n", "scripts.max_steps must be >= 0"],
    ["negative_require_approval_above", "scripts:\n  require_approval_above: -1\n", "scripts.require_approval_above must be >= 0"],
    ["invalid_mcp_trust_action", "mcp_trust:\n  snapshot: s.json\n  action: allow\n", 'unsupported mcp_trust.action "allow"'],
    ["non_positive_mcp_trust_max_age", "mcp_trust:\n  snapshot: s.json\n  max_age: -1h\n", "mcp_trust.max_age must be > 0"],
    ["negative_max_delegation_depth", rule("    match:\n      max_delegation_depth: -1\n"), "max_delegation_depth must be >= 0 for r"],
    ["negative_min_approvals", rule("    min_approvals: -1\n"), "min_approvals must be >= 0 for r"],
    ["negative_max_credential_ttl", rule("    max_credential_ttl_seconds: -1\n"), "max_credential_ttl_seconds must be >= 0 for r"],
    [
      "invalid_allowed_credential_source",
      rule("    allowed_credential_sources: [Bogus]\n"),
      'unsupported allowed_credential_source "bogus" for r'
    ],
    [
      "destructive_budget_without_requests",
      rule("    destructive_budget:\n      window: hour\n"),
      "destructive_budget.requests must be >= 1 for r"
    ],
    [
      "endpoint_egress_class_not_network",
      rule("    endpoint:\n      egress_classes: [fs.read]\n"),
      "endpoint.egress_class must be network class for r"
    ]
  ]

  it.each(cases)("%s", (_name, yaml, message) => {
    const error = failure(yaml)
    expect(error._tag).toBe("PolicyInvalid")
    expect(error.message).toBe(message)
  })

  it("max_context_age_seconds must be >= 0", () => {
    const error = failure(rule("    max_context_age_seconds: -1\n"))
    expect(error._tag).toBe("PolicyInvalid")
    expect(error.message).toContain("max_context_age_seconds must be >= 0")
  })

  it("an unparsable mcp_trust.max_age is reported with the parse prefix", () => {
    const error = failure("mcp_trust:\n  snapshot: s.json\n  max_age: soon\n")
    expect(error._tag).toBe("PolicyInvalid")
    expect(error.message.startsWith("parse mcp_trust.max_age: ")).toBe(true)
  })

  it("the first invalid rule in file order is reported", () => {
    expect(failure("rules:\n  - name: z\n    effect: nope\n  - name: a\n    effect: nope\n").message).toBe('invalid rule effect "nope" for z')
  })
})

describe("strict YAML decoding (§3.1)", () => {
  const unknownFields: ReadonlyArray<readonly [string, string, number, number]> = [
    ["top level", "default_verdit: allow\n", 1, 1],
    ["rule", "rules:\n  - name: r\n    effect: allow\n    priorty: 1\n", 4, 5],
    ["match", "rules:\n  - name: r\n    effect: allow\n    match:\n      tool_namez: [x]\n", 5, 7],
    ["tool_annotations", "rules:\n  - name: r\n    effect: allow\n    match:\n      tool_annotations:\n        read_only_hint: true\n", 6, 9],
    ["fail_closed", "fail_closed:\n  enabled: true\n  risk_class: [high]\n", 3, 3],
    ["scripts", "scripts:\n  max_step: 3\n", 2, 3],
    ["mcp_trust", "mcp_trust:\n  snapshot: x\n  min_scor: 1\n", 3, 3],
    ["endpoint", "rules:\n  - name: r\n    effect: allow\n    endpoint:\n      path_allow: [/tmp]\n", 5, 7],
    ["rate_limit", "rules:\n  - name: r\n    effect: allow\n    rate_limit:\n      request: 1\n", 5, 7],
    ["dataflow", "rules:\n  - name: r\n    effect: allow\n    dataflow:\n      tainted: [external]\n", 5, 7],
    ["sandbox", "rules:\n  - name: r\n    effect: allow\n    sandbox:\n      network_modes: [full]\n", 5, 7],
    [
      "freeze window entry",
      "rules:\n  - name: r\n    effect: allow\n    freeze_window:\n      timezone: UTC\n      windows:\n        - name: w\n          begin: x\n",
      8,
      11
    ]
  ]

  it.each(unknownFields)("an unknown field in %s is PolicyUnparsable with `unknown field` and line:column", (_where, yaml, line, column) => {
    const error = failure(yaml)
    expect(error._tag).toBe("PolicyUnparsable")
    expect(error.message.toLowerCase()).toContain("unknown field")
    expect(error.message.startsWith(`parse policy yaml: policy.yaml:${line}:${column}: `)).toBe(true)
  })

  it("a type mismatch is PolicyUnparsable with line:column", () => {
    const error = failure("rules:\n  - name: r\n    priority: high\n")
    expect(error._tag).toBe("PolicyUnparsable")
    expect(error.message.startsWith("parse policy yaml: policy.yaml:3:5: ")).toBe(true)
  })

  it.each([
    ["a duplicate top-level key", "default_verdict: allow\ndefault_verdict: block\n", 2, 1],
    ["a duplicate nested key", "rules:\n  - name: a\n    name: b\n", 3, 5],
    ["tab indentation", "rules:\n\t- name: a\n", 2, 1],
    ["a tab inside a mapping", "fail_closed:\n  enabled: true\n\trisk_classes: [high]\n", 3, 1]
  ])("%s is PolicyUnparsable with line:column", (_what, yaml, line, column) => {
    const error = failure(yaml)
    expect(error._tag).toBe("PolicyUnparsable")
    expect(error.message.startsWith(`parse policy yaml: policy.yaml:${line}:${column}: `)).toBe(true)
  })

  it("invalid YAML and a non-mapping root are PolicyUnparsable", () => {
    for (const yaml of ["default_verdict: [", "[]\n", "just text\n", "rules: 3\n"]) {
      const error = failure(yaml)
      expect(error._tag).toBe("PolicyUnparsable")
      expect(error.message.startsWith("parse policy yaml: ")).toBe(true)
    }
  })

  it("an empty file, a bare document marker, a comment or null is the all-defaults policy", () => {
    for (const yaml of ["", "\n", "---\n", "# nothing\n", "~\n"]) {
      const { policy, digest: d } = policyOf(yaml)
      expect(policy.defaultVerdict).toBe("require_approval")
      expect(policy.rules).toEqual([])
      expect(d).toBe("07a528a879e4f0e0cd5a0e2ca801924746b47dac624862207ef21d4ec266f8f9")
    }
  })
})

describe("legacy proposal fields (§3.1 item 1, §11 item 29)", () => {
  it("reports the fields and the replacement snippets of the reference", () => {
    const error = failure("version: 1\ndefaults:\n  action: block\ntrust_sources:\n  - snyk\n")
    expect(error._tag).toBe("PolicyLegacyFields")
    for (const snippet of [
      "legacy policy proposal fields are not supported [version, defaults, trust_sources]",
      "version->schema_id|schema_version",
      "defaults->default_verdict|fail_closed",
      "trust_sources->mcp_trust.snapshot"
    ]) {
      expect(error.message).toContain(snippet)
    }
  })

  it("lists all six fields in the fixed order, whatever the YAML order, with the exact details", () => {
    const error = failure("unknown_server: allow\ntrust_sources: [x]\ndefaults: {}\nboundaries: []\nname: legacy\nversion: 2\n")
    expect(error.message).toBe(
      "parse policy yaml: legacy policy proposal fields are not supported [version, name, boundaries, defaults, trust_sources, unknown_server]: " +
        "version->schema_id|schema_version (set schema_id=gait.gate.policy and schema_version=1.0.0); " +
        "name->remove the top-level policy name; rule names remain under rules[].name when needed; " +
        "boundaries->rules|mcp_trust; " +
        "defaults->default_verdict|fail_closed; " +
        "trust_sources->mcp_trust.snapshot (render external trust data to a local snapshot before evaluation); " +
        "unknown_server->mcp_trust.action (enforce unknown servers through local snapshot coverage and a fail-closed action)"
    )
    if (error._tag === "PolicyLegacyFields") {
      expect(error.deprecated_fields).toEqual(["version", "name", "boundaries", "defaults", "trust_sources", "unknown_server"])
      expect(error.field_replacements).toHaveLength(6)
    }
  })

  it("legacy detection runs before strict decoding", () => {
    expect(failure("name: p\nbogus: 1\n")._tag).toBe("PolicyLegacyFields")
  })

  it("a rule's name is not a legacy field", () => {
    expect(Either.isRight(load("rules:\n  - name: r\n    effect: allow\n"))).toBe(true)
  })
})

describe("rule normalization (§3.3)", () => {
  it("lowers the lowered lists and keeps the case of values, identities and prefixes", () => {
    const m = policyOf(`
rules:
  - name: r
    effect: ALLOW
    match:
      risk_classes: [HIGH]
      target_kinds: [Host]
      target_values: [" API.External.com "]
      identities: [Alice]
      workspace_prefixes: [/Repo]
      provenance_sources: [External]
      data_classes: [PII]
      destination_kinds: [URL]
      destination_values: [Api.X]
      destination_operations: [WRITE]
      skill_publishers: [Acme]
      skill_sources: [Registry]
      context_tool_names: [Tool.X]
      allowed_delegator_identities: [Agent.Lead]
      delegation_scopes: [WRITE]
`).policy.rules[0]
    expect(m?.effect).toBe("allow")
    expect(m?.match).toMatchObject({
      riskClasses: ["high"],
      targetKinds: ["host"],
      targetValues: ["API.External.com"],
      identities: ["Alice"],
      workspacePrefixes: ["/Repo"],
      provenanceSources: ["external"],
      dataClasses: ["pii"],
      destinationKinds: ["url"],
      destinationValues: ["Api.X"],
      destinationOps: ["write"],
      skillPublishers: ["acme"],
      skillSources: ["registry"],
      contextToolNames: ["tool.x"],
      allowedDelegatorIdentities: ["Agent.Lead"],
      delegationScopes: ["write"]
    })
  })

  it("reason codes and violations are uniqueSorted; min_approvals > 1 implies distinct approvers", () => {
    const r = policyOf(rule("    reason_codes: [b, a, b, ' ']\n    violations: [y, x]\n    min_approvals: 2\n")).policy.rules[0]
    expect(r?.reasonCodes).toEqual(["a", "b"])
    expect(r?.violations).toEqual(["x", "y"])
    expect(r?.requireDistinctApprovers).toBe(true)
    expect(policyOf(rule("    min_approvals: 1\n")).policy.rules[0]?.requireDistinctApprovers).toBe(false)
  })

  it("require_context_evidence implies mode required", () => {
    expect(policyOf(rule("    require_context_evidence: true\n")).policy.rules[0]?.contextEvidence).toEqual({
      require: true,
      requiredMode: "required",
      maxAgeSeconds: 0
    })
  })

  it("max_delegation_depth keeps its presence, including 0", () => {
    expect(policyOf(rule("    match:\n      max_delegation_depth: 0\n")).policy.rules[0]?.match.maxDelegationDepth).toBe(0)
    expect(policyOf(rule("")).policy.rules[0]?.match.maxDelegationDepth).toBeUndefined()
  })

  it("rate limit and destructive budget defaults", () => {
    const r = policyOf(rule("    rate_limit:\n      requests: 3\n    destructive_budget:\n      requests: 1\n      window: HOUR\n")).policy
      .rules[0]
    expect(r?.rateLimit).toEqual({ requests: 3, window: "minute", scope: "tool_identity" })
    expect(r?.destructiveBudget).toEqual({ requests: 1, window: "hour", scope: "tool_identity" })
    expect(policyOf(rule("    rate_limit:\n      requests: 0\n      window: day\n")).policy.rules[0]?.rateLimit).toBeUndefined()
  })

  it("dataflow defaults", () => {
    expect(policyOf(rule("    dataflow:\n      enabled: true\n")).policy.rules[0]?.dataflow).toEqual({
      taintedSources: ["external", "tool_output"],
      destinationKinds: [],
      destinationValues: [],
      destinationOperations: [],
      action: "require_approval",
      reasonCode: "dataflow_tainted_destination",
      violation: "tainted_dataflow"
    })
    expect(policyOf(rule("    dataflow:\n      destination_kinds: [HOST]\n")).policy.rules[0]?.dataflow?.destinationKinds).toEqual(["host"])
    expect(policyOf(rule("    dataflow: {}\n")).policy.rules[0]?.dataflow).toBeUndefined()
  })

  it("endpoint defaults", () => {
    expect(policyOf(rule("    endpoint:\n      path_denylist: [' /etc/** ', /etc/**]\n      domain_allowlist: [API.X]\n")).policy.rules[0]?.endpoint).toEqual({
      pathAllowlist: [],
      pathDenylist: ["/etc/**"],
      domainAllowlist: ["api.x"],
      domainDenylist: [],
      egressClasses: [],
      action: "block",
      destructiveAction: "",
      reasonCode: "endpoint_constraint_violation",
      violation: "endpoint_constraint_violation"
    })
    expect(policyOf(rule("    endpoint:\n      destructive_action: require_approval\n")).policy.rules[0]?.endpoint?.destructiveAction).toBe(
      "require_approval"
    )
    expect(policyOf(rule("    endpoint: {}\n")).policy.rules[0]?.endpoint).toBeUndefined()
  })

  it("freeze window defaults name empty windows window-<n>", () => {
    const f = policyOf(
      rule(
        "    freeze_window:\n      timezone: America/Toronto\n      windows:\n        - start: '2026-03-10T09:00:00'\n          end: '2026-03-10T12:00:00'\n"
      )
    ).policy.rules[0]?.freezeWindow
    expect(f).toMatchObject({ timezone: "America/Toronto", effect: "block", windows: [{ name: "window-1", start: "2026-03-10T09:00:00", end: "2026-03-10T12:00:00" }] })
  })

  it("mcp_trust defaults and canonical max_age", () => {
    const t = policyOf(
      "default_verdict: allow\nmcp_trust:\n  snapshot: ./trust_snapshot.json\n  min_score: 0.8\n  max_age: 24h\n  publisher_allowlist: [Acme]\n  require_registry: true\n"
    ).policy.mcpTrust
    expect(t).toEqual({
      snapshot: "./trust_snapshot.json",
      action: "block",
      requiredRiskClasses: ["critical", "high"],
      minScore: 0.8,
      maxAge: "24h0m0s",
      publisherAllowlist: ["acme"],
      requireRegistry: true
    })
  })
})

describe("policy digest (§3.4, §11 item 41)", () => {
  const twoRules = (first: string, second: string) => `default_verdict: block\nrules:\n${first}${second}`
  const ruleA = "  - name: allow-read\n    priority: 2\n    effect: allow\n    match:\n      tool_names: [tool.read, tool.list]\n      risk_classes: [low, medium]\n"
  const ruleB = "  - name: block-delete\n    priority: 1\n    effect: block\n    match:\n      tool_names: [tool.delete]\n"

  it("does not depend on rule order", () => {
    expect(digest(twoRules(ruleA, ruleB))).toBe(digest(twoRules(ruleB, ruleA)))
  })

  it("does not depend on rule order when two rules share priority and name", () => {
    const allow = "  - { name: dup, effect: allow, match: { tool_names: [tool.read] } }\n"
    const block = "  - { name: dup, effect: block, match: { tool_names: [tool.write] } }\n"
    expect(digest(twoRules(allow, block))).toBe(digest(twoRules(block, allow)))
  })

  it("does not depend on list order, duplicates or case in lowered fields", () => {
    const reordered =
      "  - name: allow-read\n    priority: 2\n    effect: ALLOW\n    match:\n      tool_names: [Tool.List, TOOL.READ, tool.read]\n      risk_classes: [Medium, ' low ']\n"
    expect(digest(twoRules(reordered, ruleB))).toBe(digest(twoRules(ruleA, ruleB)))
  })

  it("tool_name equals tool_names, action equals effect, default_action equals default_verdict", () => {
    expect(digest("rules:\n  - name: r\n    action: allow\n    match:\n      tool_name: Tool.X\n")).toBe(
      digest("rules:\n  - name: r\n    effect: allow\n    match:\n      tool_names: [tool.x]\n")
    )
    expect(digest("default_action: allow\n")).toBe(digest("default_verdict: allow\n"))
  })

  it("changes with case in case-kept fields, names and priorities", () => {
    const base = digest(rule("    match:\n      target_values: [api.x]\n"))
    expect(digest(rule("    match:\n      target_values: [API.X]\n"))).not.toBe(base)
    expect(digest(rule("    match:\n      target_values: [api.x]\n", "r2"))).not.toBe(base)
    expect(digest(rule("    priority: 1\n    match:\n      target_values: [api.x]\n"))).not.toBe(base)
  })

  it("equals the digest of the legacy 7-key match payload for a legacy-only rule (TestPolicyDigestLegacyCompatibility)", () => {
    const loaded = policyOf(`
default_verdict: block
fail_closed:
  enabled: true
  risk_classes: [high]
  required_fields: [targets]
rules:
  - name: allow-tool
    priority: 1
    effect: allow
    match:
      tool_names: [tool.write]
      risk_classes: [high]
      target_kinds: [host]
      target_values: [api.external.com]
      provenance_sources: [external]
      identities: [alice]
      workspace_prefixes: [/repo]
    reason_codes: [allow_tool]
    violations: [none]
`)
    const legacy = {
      SchemaID: "gait.gate.policy",
      SchemaVersion: "1.0.0",
      DefaultVerdict: "block",
      FailClosed: { Enabled: true, RiskClasses: ["high"], RequiredFields: ["targets"] },
      Rules: [
        {
          Name: "allow-tool",
          Priority: 1,
          Effect: "allow",
          Match: {
            ToolNames: ["tool.write"],
            RiskClasses: ["high"],
            TargetKinds: ["host"],
            TargetValues: ["api.external.com"],
            ProvenanceSources: ["external"],
            Identities: ["alice"],
            WorkspacePrefixes: ["/repo"]
          },
          ReasonCodes: ["allow_tool"],
          Violations: ["none"]
        }
      ]
    }
    expect(policyDigestPayload(loaded.policy)).toEqual(legacy)
    expect(loaded.digest).toBe(Either.getOrThrow(digestJson(legacy)))
  })

  it("includes the extended fields (TestPolicyDigestPayloadIncludesExtendedFields)", () => {
    const loaded = policyOf(`
default_verdict: allow
rules:
  - name: rich-rule
    effect: require_approval
    min_approvals: 2
    require_distinct_approvers: true
    require_broker_credential: true
    broker_reference: egress
    broker_scopes: [export]
    freeze_window:
      timezone: America/Toronto
      effect: block
      windows:
        - name: quarter-end
          start: "2026-03-10T09:00:00"
          end: "2026-03-10T12:00:00"
    sandbox:
      allowed_network_modes: [disabled]
      allowed_writable_path_prefixes: [/tmp/safe]
      required_read_only_roots: [/repo]
      allowed_env_exposure_modes: [none]
      max_timeout_seconds: 30
      allowed_filesystem_isolations: [container]
      allowed_user_modes: [unprivileged]
    rate_limit:
      requests: 2
      window: hour
      scope: tool_identity
    dataflow:
      enabled: true
      tainted_sources: [external, tool_output]
      destination_kinds: [host]
      destination_values: [api.external.com]
      destination_operations: [write]
      action: require_approval
      reason_code: tainted_route
      violation: tainted_route
    match:
      tool_names: [tool.write]
      endpoint_classes: [net.http]
      discovery_method: [webmcp]
      tool_annotations:
        readOnlyHint: true
        idempotentHint: true
      data_classes: [confidential]
      destination_kinds: [host]
      destination_values: [api.external.com]
      destination_operations: [write]
    endpoint:
      enabled: true
      path_allowlist: [/tmp/safe/**]
      domain_allowlist: [api.internal.local]
      egress_classes: [net.http]
      action: block
      reason_code: endpoint_policy_violation
      violation: endpoint_policy_violation
`)
    const payload = policyDigestPayload(loaded.policy)
    const rules = payload.Rules as ReadonlyArray<Record<string, unknown>>
    const r = rules[0] ?? {}
    for (const key of ["RateLimit", "Dataflow", "Endpoint", "BrokerScopes", "FreezeWindow", "Sandbox", "MinApprovals", "RequireDistinctApprovers", "RequireBrokerCredential", "BrokerReference"]) {
      expect(r).toHaveProperty(key)
    }
    const match = r.Match as Record<string, unknown>
    expect(match.DiscoveryMethods).toEqual(["webmcp"])
    expect(match.ToolAnnotations).toEqual({ ReadOnlyHint: true, IdempotentHint: true })
    expect(match.DestinationOps).toEqual(["write"])
    expect(r.Dataflow).toEqual({
      Enabled: true,
      TaintedSources: ["external", "tool_output"],
      Action: "require_approval",
      ReasonCode: "tainted_route",
      Violation: "tainted_route",
      DestinationKinds: ["host"],
      DestinationValues: ["api.external.com"],
      DestinationOperations: ["write"]
    })
  })

  it("sandbox path lists are null when empty; other sandbox lists are []", () => {
    const payload = policyDigestPayload(policyOf(rule("    sandbox:\n      enabled: true\n")).policy)
    const r = (payload.Rules as ReadonlyArray<Record<string, unknown>>)[0]
    expect(r?.Sandbox).toEqual({
      Enabled: true,
      AllowedNetworkModes: [],
      AllowedWritablePathPrefixes: null,
      RequiredReadOnlyRoots: null,
      AllowedEnvExposureModes: [],
      MaxTimeoutSeconds: 0,
      AllowedFilesystemIsolations: [],
      AllowedUserModes: []
    })
  })

  it("MaxDelegationDepth 0 is included; RequiredHighRiskFields and Scripts only when set", () => {
    const p = policyDigestPayload(policyOf(rule("    match:\n      max_delegation_depth: 0\n")).policy)
    const first = (p.Rules as ReadonlyArray<Record<string, unknown>>)[0] ?? {}
    expect((first.Match as Record<string, unknown>).MaxDelegationDepth).toBe(0)
    expect(p).not.toHaveProperty("Scripts")
    expect(p.FailClosed).not.toHaveProperty("RequiredHighRiskFields")
    const q = policyDigestPayload(policyOf("scripts:\n  block_mixed_risk: true\nfail_closed:\n  required_high_risk_fields: [run_id]\n").policy)
    expect(q.Scripts).toEqual({ MaxSteps: 0, RequireApprovalAbove: 0, BlockMixedRisk: true })
    expect(q.FailClosed).toEqual({ Enabled: false, RiskClasses: [], RequiredFields: [], RequiredHighRiskFields: ["run_id"] })
  })
})
