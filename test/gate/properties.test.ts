// Properties of the gate (spec gate.md §3.4, §4.5): order independence of policies and idempotent
// normalization, checked with fast-check over generated policies and intents.
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { canonicalize } from "../../src/kernel/canonical-json.js"
import { parseIntentText } from "../../src/gate/gate.js"
import { normalizeIntent } from "../../src/gate/intent.js"
import type { IntentRequest } from "../../src/gate/intent-schema.js"
import { evaluate, policyOf, prepared, unwrap } from "./fixtures/builders.js"

const TOOLS = ["tool.read", "tool.write", "tool.delete", "tool.exec"] as const
const VERDICTS = ["allow", "dry_run", "require_approval", "block"] as const

// ---------------------------------------------------------------------------------------------
// policies as YAML: one JSON flow mapping per rule (JSON is valid YAML)

interface RuleSpec {
  readonly name: string
  readonly priority: number
  readonly effect: string
  readonly match: Record<string, ReadonlyArray<string>>
  readonly reason_codes?: ReadonlyArray<string>
  readonly violations?: ReadonlyArray<string>
  readonly min_approvals?: number
}

const subset = <A>(values: ReadonlyArray<A>) => fc.subarray([...values])

const matchArb = fc
  .record(
    {
      tool_names: subset(TOOLS),
      risk_classes: subset(["low", "high"]),
      target_kinds: subset(["path", "host", "other"]),
      endpoint_classes: subset(["fs.read", "fs.delete", "net.http", "proc.exec"]),
      provenance_sources: subset(["user", "external"])
    },
    { requiredKeys: [] }
  )
  .map((m) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined && v.length > 0)) as Record<string, ReadonlyArray<string>>)

const ruleArb = (name: fc.Arbitrary<string>): fc.Arbitrary<RuleSpec> =>
  fc.record(
    {
      name,
      priority: fc.integer({ min: 0, max: 3 }),
      effect: fc.constantFrom(...VERDICTS),
      match: matchArb,
      reason_codes: subset(["r_one", "r_two"]),
      violations: subset(["v_one", "v_two"]),
      min_approvals: fc.integer({ min: 0, max: 3 })
    },
    { requiredKeys: ["name", "priority", "effect", "match"] }
  )

const NAMES = ["alpha", "beta", "gamma", "delta", "Epsilon", "zeta-1", "eta two"] as const

/** Rules with distinct names (rule identity is (priority, name)). */
const uniqueRulesArb = fc.uniqueArray(ruleArb(fc.constantFrom(...NAMES)), { maxLength: 6, selector: (r) => r.name })
/** Rules whose names may repeat. */
const anyRulesArb = fc.array(ruleArb(fc.constantFrom(...NAMES)), { maxLength: 6 })

const withPermutation = <A>(items: fc.Arbitrary<ReadonlyArray<A>>) =>
  items.chain((xs) => fc.tuple(fc.constant(xs), fc.shuffledSubarray([...xs], { minLength: xs.length, maxLength: xs.length })))

const renderPolicy = (defaultVerdict: string, rules: ReadonlyArray<RuleSpec>): string =>
  `default_verdict: ${defaultVerdict}\nrules:\n${rules.map((r) => `  - ${JSON.stringify(r)}\n`).join("")}`

/** The same rule with every list shuffled and lowered fields re-cased: a different text for the same policy. */
const scrambleRule = (r: RuleSpec, flip: boolean): RuleSpec => {
  const re = (l: ReadonlyArray<string>) => [...l].reverse().map((s) => (flip ? ` ${s.toUpperCase()} ` : s))
  return {
    ...r,
    effect: flip ? r.effect.toUpperCase() : r.effect,
    match: Object.fromEntries(Object.entries(r.match).map(([k, v]) => [k, re(v)])),
    ...(r.reason_codes === undefined ? {} : { reason_codes: [...r.reason_codes].reverse() })
  }
}

// ---------------------------------------------------------------------------------------------
// intents

const targetArb = fc.constantFrom(
  { kind: "path", value: "/tmp/in.txt", operation: "read" },
  { kind: "path", value: "/tmp/out.txt", operation: "delete" },
  { kind: "host", value: "api.example.com" },
  { kind: "other", value: "make", operation: "exec" }
)

const evalIntentArb: fc.Arbitrary<IntentRequest> = fc
  .record({
    tool: fc.constantFrom(...TOOLS),
    risk: fc.constantFrom("low", "high"),
    phase: fc.constantFrom("plan", "apply"),
    targets: fc.uniqueArray(targetArb, { maxLength: 3 }),
    source: fc.option(fc.constantFrom("user", "external"), { nil: undefined })
  })
  .map(({ tool, risk, phase, targets, source }) => ({
    tool_name: tool,
    args: { x: 1 },
    targets,
    ...(source === undefined ? {} : { arg_provenance: [{ arg_path: "$.x", source }] }),
    context: { identity: "alice", workspace: "/repo", risk_class: risk, phase }
  }))

const pad = (s: string, left: number, right: number) => `${" ".repeat(left)}${s}${"\t".repeat(right)}`
const padArb = (values: ReadonlyArray<string>) =>
  fc.tuple(fc.constantFrom(...values), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.boolean()).map(
    ([s, l, r, upper]) => pad(upper ? s.toUpperCase() : s, l, r)
  )

const KEYS = ["alpha", "beta", "gamma", "path", "mode", "x"] as const

const jsonArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("a", " spaced ", "MiXeD", "", "ünï"),
    fc.integer({ min: -1000, max: 1000 }),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie("value"), { maxKeys: 3 })
  )
})).value

const argsArb = fc.dictionary(fc.constantFrom(...KEYS), jsonArb, { maxKeys: 4 })

const messyTargetArb = fc.record({
  kind: padArb(["path", "host", "url", "repo", "other"]),
  value: padArb(["/tmp/a", "api.example.com", "https://api.example.com:8443/x", "Repo-1"]),
  operation: padArb(["read", "write", "delete", "exec", "deploy", ""]),
  discovery_method: padArb(["", "webmcp", "dynamic-mcp", "static mcp"]),
  read_only_hint: fc.boolean()
})

const messyIntentArb: fc.Arbitrary<IntentRequest> = fc
  .record({
    tool: padArb(["tool.read", "tool.write", "tool.format", "bash.exec"]),
    args: argsArb,
    targets: fc.array(messyTargetArb, { maxLength: 4 }),
    provenance: fc.array(
      fc.record({ arg_path: padArb(["$.a", "$.b"]), source: padArb(["user", "external", "tool_output"]) }),
      { maxLength: 3 }
    ),
    phase: padArb(["", "plan", "apply"]),
    workspace: fc.constantFrom("C:\\repo\\gait", " /repo/gait ", "/repo/../x"),
    scopes: fc.array(padArb(["read", "write", "Admin"]), { maxLength: 3 }),
    agent: fc.boolean(),
    delegation: fc.boolean(),
    script: fc.option(fc.array(fc.record({ tool_name: padArb(["tool.read", "tool.write"]), args: argsArb, targets: fc.array(messyTargetArb, { maxLength: 2 }) }), { minLength: 1, maxLength: 3 }), { nil: undefined })
  })
  .map(({ tool, args, targets, provenance, phase, workspace, scopes, agent, delegation, script }) => ({
    tool_name: tool,
    args,
    targets,
    arg_provenance: provenance,
    ...(script === undefined ? {} : { script: { steps: script } }),
    ...(delegation
      ? {
          delegation: {
            requester_identity: " agent.worker ",
            scope_class: " WRITE ",
            chain: [{ delegator_identity: "agent.lead", delegate_identity: "agent.worker", issued_at: "2026-02-05T01:00:00+01:00" }]
          }
        }
      : {}),
    context: {
      identity: " alice ",
      workspace,
      risk_class: " High ",
      phase,
      credential_scopes: scopes,
      session_id: " s1 ",
      ...(agent ? { agent_identity: { lifecycle_states: [" Active "], source: " Registry ", expires_at: "2026-12-31T23:59:59.5Z" } } : {})
    }
  }))

// ---------------------------------------------------------------------------------------------

const outcomeJson = (yaml: string, request: IntentRequest) => JSON.stringify(evaluate(yaml, request))

describe("policy order independence", () => {
  it("the evaluation outcome does not depend on the order of rules in the YAML file", () => {
    fc.assert(
      fc.property(fc.constantFrom(...VERDICTS), withPermutation(anyRulesArb), evalIntentArb, (defaultVerdict, [rules, shuffled], request) => {
        expect(outcomeJson(renderPolicy(defaultVerdict, shuffled), request)).toBe(outcomeJson(renderPolicy(defaultVerdict, rules), request))
      }),
      { numRuns: 300 }
    )
  })

  it("the policy digest does not depend on rule order, list order or case in lowered fields", () => {
    fc.assert(
      fc.property(fc.constantFrom(...VERDICTS), withPermutation(uniqueRulesArb), fc.boolean(), (defaultVerdict, [rules, shuffled], flip) => {
        const scrambled = shuffled.map((r) => scrambleRule(r, flip))
        expect(policyOf(renderPolicy(defaultVerdict, scrambled)).digest).toBe(policyOf(renderPolicy(defaultVerdict, rules)).digest)
      }),
      { numRuns: 300 }
    )
  })

  it("the evaluation outcome does not depend on list order or case in lowered fields either", () => {
    fc.assert(
      fc.property(fc.constantFrom(...VERDICTS), uniqueRulesArb, evalIntentArb, (defaultVerdict, rules, request) => {
        const scrambled = rules.map((r) => scrambleRule(r, true))
        expect(outcomeJson(renderPolicy(defaultVerdict, scrambled), request)).toBe(outcomeJson(renderPolicy(defaultVerdict, rules), request))
      }),
      { numRuns: 200 }
    )
  })
})

describe("normalization", () => {
  const reparse = (value: unknown): IntentRequest => unwrap(parseIntentText(JSON.stringify(value), "n.json"))

  it("is idempotent: normalizing an already-normalized intent gives the same bytes and digest", () => {
    fc.assert(
      fc.property(messyIntentArb, (request) => {
        const first = normalizeIntent(request)
        // Generated intents are valid by construction, except for kinds/operations combinations the
        // normalizer rightly rejects; those carry no idempotence claim.
        if (first._tag === "Left") return
        const again = unwrap(normalizeIntent(reparse(first.right)))
        expect(unwrap(canonicalize(again))).toBe(unwrap(canonicalize(first.right)))
        expect(prepared(reparse(first.right)).intentDigest).toBe(prepared(request).intentDigest)
      }),
      { numRuns: 300 }
    )
  })

  it("generated intents are overwhelmingly valid (the idempotence property is not vacuous)", () => {
    const samples = fc.sample(messyIntentArb, { numRuns: 200, seed: 42 })
    const valid = samples.filter((r) => normalizeIntent(r)._tag === "Right").length
    expect(valid).toBeGreaterThan(150)
  })

  it("the args digest does not depend on key order or surrounding whitespace", () => {
    const shuffleAndPad = (value: unknown, flip: boolean): unknown => {
      if (typeof value === "string") return flip ? ` ${value}\t` : value
      if (Array.isArray(value)) return value.map((v) => shuffleAndPad(v, flip))
      if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>)
        const ordered = flip ? entries.reverse() : entries
        return Object.fromEntries(ordered.map(([k, v]) => [flip ? `  ${k} ` : k, shuffleAndPad(v, flip)]))
      }
      return value
    }
    fc.assert(
      fc.property(argsArb, (args) => {
        const base: IntentRequest = { tool_name: "t", args, context: { identity: "a", workspace: "/w", risk_class: "low" } }
        const variant: IntentRequest = { ...base, args: shuffleAndPad(args, true) as Record<string, unknown> }
        expect(prepared(variant).argsDigest).toBe(prepared(base).argsDigest)
        expect(prepared(variant).intentDigest).toBe(prepared(base).intentDigest)
      }),
      { numRuns: 300 }
    )
  })
})
