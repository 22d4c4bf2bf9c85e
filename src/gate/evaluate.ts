/**
 * Policy evaluation as a pure function (spec gate.md §4): fail-closed gate, priority tiers, the
 * most restrictive verdict within the winning tier, per-rule constraints, scripts. No I/O, no clock
 * (the caller passes `now`), so the same inputs always give the same outcome.
 */
import { Option } from "effect"
import { parseRfc3339 } from "../kernel/time.js"
import { compareBytes, lowerTrim, trim, uniqueSorted } from "../kernel/text.js"
import { evaluateFreezeWindow, type FreezeWindowDecision, pickFreezeWindow } from "./freeze-window.js"
import { goJsonString } from "../kernel/json-output.js"
import { goPathMatch } from "./glob.js"
import { contextString, type JsonObject, type NormalizedIntent, type NormalizedTarget } from "./intent.js"
import type { LimitPolicy, Policy, PolicyRule, RuleMatch, SandboxPolicy } from "./policy.js"
import { mostRestrictive, type Verdict } from "./vocabulary.js"

export interface SandboxDecision {
  readonly status: "valid" | "missing" | "disallowed" | "invalid"
  readonly network_mode?: string
  readonly env_exposure_mode?: string
  readonly timeout_seconds?: number
  readonly filesystem_isolation?: string
  readonly user_mode?: string
  readonly evidence_ref?: string
  readonly evidence_digest?: string
  readonly reason_codes?: ReadonlyArray<string>
}

export interface StepVerdict {
  readonly index: number
  readonly tool_name: string
  readonly verdict: Verdict
  readonly reason_codes?: ReadonlyArray<string>
  readonly violations?: ReadonlyArray<string>
  readonly matched_rule?: string
}

export interface ScriptSummary {
  readonly stepCount: number
  readonly compositeRiskClass: "low" | "medium" | "high"
  readonly stepVerdicts: ReadonlyArray<StepVerdict>
}

export interface Outcome {
  readonly verdict: Verdict
  readonly reasonCodes: ReadonlyArray<string>
  readonly violations: ReadonlyArray<string>
  /** Comma-joined names of every rule in the winning tier; "" on the default path. */
  readonly matchedRule: string
  readonly minApprovals: number
  readonly requireDistinctApprovers: boolean
  readonly requireBrokerCredential: boolean
  readonly requireDelegation: boolean
  readonly rateLimit: LimitPolicy | undefined
  readonly destructiveBudget: LimitPolicy | undefined
  readonly sandbox: SandboxDecision | undefined
  readonly freezeWindow: FreezeWindowDecision | undefined
  readonly script: ScriptSummary | undefined
}

export interface EvaluateOptions {
  /** "Now" for agent-expiry checks, epoch nanoseconds. */
  readonly now: bigint
}

const merge = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): Array<string> => uniqueSorted([...a, ...b])

// ---------------------------------------------------------------------------------------------
// matching (§4.2)

const anyTarget = (targets: ReadonlyArray<NormalizedTarget>, allowed: ReadonlyArray<string>, pick: (t: NormalizedTarget) => string) =>
  allowed.length === 0 || targets.some((t) => allowed.includes(pick(t)))

const HINT_FIELDS = {
  readOnlyHint: "read_only_hint",
  destructiveHint: "destructive_hint",
  idempotentHint: "idempotent_hint",
  openWorldHint: "open_world_hint"
} as const

const delegationOf = (intent: NormalizedIntent) => intent.delegation as
  | {
      readonly requester_identity: string
      readonly scope_class?: string
      readonly chain?: ReadonlyArray<{
        readonly delegator_identity: string
        readonly delegate_identity: string
        readonly scope_class?: string
      }>
    }
  | undefined

const authContextString = (intent: NormalizedIntent, key: string): string => {
  const auth = intent.context.auth_context as JsonObject | undefined
  const v = auth?.[key]
  return typeof v === "string" ? lowerTrim(v) : ""
}

export const ruleMatches = (m: RuleMatch, intent: NormalizedIntent): boolean => {
  const ctx = intent.context
  const targets = intent.targets
  if (m.toolNames.length > 0 && !m.toolNames.includes(intent.tool_name)) return false
  if (m.riskClasses.length > 0 && !m.riskClasses.includes(ctx.risk_class)) return false
  if (m.identities.length > 0 && !m.identities.includes(ctx.identity)) return false
  if (m.workspacePrefixes.length > 0 && !m.workspacePrefixes.some((p) => ctx.workspace.startsWith(p))) return false
  if (!anyTarget(targets, m.targetKinds, (t) => t.kind)) return false
  if (!anyTarget(targets, m.targetValues, (t) => t.value)) return false
  if (!anyTarget(targets, m.endpointClasses, (t) => t.endpoint_class ?? "")) return false
  if (!anyTarget(targets, m.discoveryMethods, (t) => t.discovery_method)) return false
  if (!anyTarget(targets, m.dataClasses, (t) => t.sensitivity ?? "")) return false
  if (!anyTarget(targets, m.destinationKinds, (t) => t.kind)) return false
  if (!anyTarget(targets, m.destinationValues, (t) => t.value)) return false
  if (!anyTarget(targets, m.destinationOps, (t) => t.operation ?? "")) return false
  for (const [hint, field] of Object.entries(HINT_FIELDS) as ReadonlyArray<[keyof typeof HINT_FIELDS, (typeof HINT_FIELDS)[keyof typeof HINT_FIELDS]]>) {
    const wanted = m.toolAnnotations[hint]
    if (wanted !== undefined && !targets.some((t) => (t[field] === true) === wanted)) return false
  }
  if (m.provenanceSources.length > 0 && !(intent.arg_provenance ?? []).some((p) => m.provenanceSources.includes(p.source))) {
    return false
  }
  const skill = intent.skill_provenance
  if (m.skillPublishers.length > 0 && (skill === undefined || !m.skillPublishers.includes(lowerTrim(skill.publisher ?? "")))) {
    return false
  }
  if (m.skillSources.length > 0 && (skill === undefined || !m.skillSources.includes(lowerTrim(skill.source ?? "")))) return false
  const contextLists: ReadonlyArray<[ReadonlyArray<string>, string]> = [
    [m.contextToolNames, "wrkr.tool_name"],
    [m.contextDataClasses, "wrkr.data_class"],
    [m.contextEndpointClasses, "wrkr.endpoint_class"],
    [m.contextAutonomyLevels, "wrkr.autonomy_level"]
  ]
  for (const [allowed, key] of contextLists) {
    if (allowed.length === 0) continue
    const v = authContextString(intent, key)
    if (v === "" || !allowed.includes(v)) return false
  }
  const needsDelegation =
    m.requireDelegation ||
    m.maxDelegationDepth !== undefined ||
    m.allowedDelegatorIdentities.length > 0 ||
    m.allowedDelegateIdentities.length > 0 ||
    m.delegationScopes.length > 0
  if (needsDelegation) {
    const d = delegationOf(intent)
    if (d === undefined) return false
    const chain = d.chain ?? []
    if (m.maxDelegationDepth !== undefined && chain.length > m.maxDelegationDepth) return false
    if (m.allowedDelegatorIdentities.length > 0 && !chain.some((l) => m.allowedDelegatorIdentities.includes(l.delegator_identity))) {
      return false
    }
    if (
      m.allowedDelegateIdentities.length > 0 &&
      !m.allowedDelegateIdentities.includes(d.requester_identity) &&
      !chain.some((l) => m.allowedDelegateIdentities.includes(l.delegate_identity))
    ) {
      return false
    }
    if (
      m.delegationScopes.length > 0 &&
      !m.delegationScopes.includes(d.scope_class ?? "") &&
      !chain.some((l) => m.delegationScopes.includes(l.scope_class ?? ""))
    ) {
      return false
    }
  }
  return true
}

// ---------------------------------------------------------------------------------------------
// per-rule constraints (§4.3)

interface Findings {
  readonly reasons: Array<string>
  readonly violations: Array<string>
}

const DESTINATION_KINDS = new Set(["host", "url", "bucket", "queue", "topic"])

const dataflowFindings = (rule: PolicyRule, intent: NormalizedIntent): Verdict | undefined => {
  const d = rule.dataflow
  if (d === undefined) return undefined
  if (!(intent.arg_provenance ?? []).some((p) => d.taintedSources.includes(p.source))) return undefined
  const noLists = d.destinationKinds.length === 0 && d.destinationValues.length === 0 && d.destinationOperations.length === 0
  const hit = noLists
    ? intent.targets.some((t) => DESTINATION_KINDS.has(t.kind))
    : intent.targets.some(
        (t) =>
          (d.destinationKinds.length === 0 || d.destinationKinds.includes(t.kind)) &&
          (d.destinationValues.length === 0 || d.destinationValues.includes(t.value)) &&
          (d.destinationOperations.length === 0 || d.destinationOperations.includes(t.operation ?? ""))
      )
  return hit ? d.action : undefined
}

const pathPatternMatches = (pattern: string, value: string): boolean => {
  if (pattern === value) return true
  if (pattern.endsWith("/**")) {
    const prefix = pattern.slice(0, -3)
    return value === prefix || value.startsWith(`${prefix}/`)
  }
  return goPathMatch(pattern, value)
}

const domainPatternMatches = (pattern: string, value: string): boolean => {
  const p = pattern.toLowerCase()
  const v = value.toLowerCase()
  if (p === v) return true
  if (p.startsWith("*.") && v.endsWith(p.slice(1))) return true
  return goPathMatch(p, v)
}

const endpointFindings = (rule: PolicyRule, intent: NormalizedIntent): { effect: Verdict; findings: Findings } | undefined => {
  const e = rule.endpoint
  if (e === undefined) return undefined
  const reasons: Array<string> = []
  for (const t of intent.targets) {
    if (t.kind === "path") {
      const v = trim(t.value)
      if (e.pathDenylist.some((p) => pathPatternMatches(p, v))) reasons.push("endpoint_path_denied")
      if (e.pathAllowlist.length > 0 && !e.pathAllowlist.some((p) => pathPatternMatches(p, v))) {
        reasons.push("endpoint_path_not_allowlisted")
      }
    }
    const domain = t.endpoint_domain ?? ""
    if (domain !== "") {
      if (e.domainDenylist.some((p) => domainPatternMatches(p, domain))) reasons.push("endpoint_domain_denied")
      if (e.domainAllowlist.length > 0 && !e.domainAllowlist.some((p) => domainPatternMatches(p, domain))) {
        reasons.push("endpoint_domain_not_allowlisted")
      }
    }
    const cls = t.endpoint_class ?? ""
    if (cls.startsWith("net.") && e.egressClasses.length > 0 && !e.egressClasses.includes(cls)) {
      reasons.push("endpoint_egress_class_not_allowed")
    }
  }
  const violations = [...reasons]
  let effect: Verdict = e.action
  if (e.destructiveAction !== "" && intent.targets.some((t) => t.destructive === true)) {
    effect = mostRestrictive(e.action, e.destructiveAction)
    reasons.push("endpoint_destructive_operation")
    violations.push("destructive_operation")
  }
  if (reasons.length === 0) return undefined
  reasons.push(e.reasonCode)
  violations.push(e.violation)
  return { effect, findings: { reasons, violations } }
}

const contextEvidenceFindings = (rule: PolicyRule, intent: NormalizedIntent): Findings | undefined => {
  const c = rule.contextEvidence
  if (!c.require && c.requiredMode === "" && c.maxAgeSeconds <= 0) return undefined
  const reasons: Array<string> = []
  const violations: Array<string> = []
  if (contextString(intent, "context_set_digest") === "") {
    reasons.push("context_evidence_missing", "context_set_digest_missing")
    violations.push("missing_context_evidence")
  }
  if (c.requiredMode === "required" && contextString(intent, "context_evidence_mode") !== "required") {
    reasons.push("context_evidence_mode_mismatch")
    violations.push("context_evidence_mode_violation")
  }
  if (c.maxAgeSeconds > 0) {
    const age = contextAgeSeconds(intent)
    if (age === undefined || age > c.maxAgeSeconds) {
      reasons.push("context_freshness_exceeded")
      violations.push("context_freshness_violation")
    }
  }
  return reasons.length === 0 ? undefined : { reasons, violations }
}

/** `auth_context.context_age_seconds`: an int, a truncated float or a numeric string; negative is missing. */
export const contextAgeSeconds = (intent: NormalizedIntent): number | undefined => {
  const raw = (intent.context.auth_context as JsonObject | undefined)?.context_age_seconds
  const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw.trim()) : Number.NaN
  if (!Number.isFinite(n)) return undefined
  const truncated = Math.trunc(n)
  return truncated < 0 ? undefined : truncated
}

const agentFindings = (rule: PolicyRule, intent: NormalizedIntent, now: bigint): Findings | undefined => {
  const a = rule.agent
  const enabled =
    a.requireDeclared ||
    a.allowedIds.length > 0 ||
    a.deniedIds.length > 0 ||
    a.requiredManifestDigest !== "" ||
    a.allowedManifestPublishers.length > 0 ||
    a.allowedManifestSources.length > 0 ||
    a.requiredLifecycleStates.length > 0 ||
    a.requireOwner ||
    a.requireUnexpired
  if (!enabled) return undefined
  const agentId = contextString(intent, "agent_id")
  const identity = intent.context.agent_identity as
    | { lifecycle_states?: ReadonlyArray<string>; owner?: string; manifest_digest?: string; publisher?: string; source?: string; expires_at?: string; revoked?: boolean }
    | undefined
  const reasons: Array<string> = []
  const violations: Array<string> = []
  const add = (reason: string, violation: string = reason) => {
    reasons.push(reason)
    violations.push(violation)
  }
  if (a.requireDeclared && (agentId === "" || identity === undefined)) add("agent_unknown", "agent_identity_missing")
  if ((agentId !== "" && a.deniedIds.includes(agentId)) || identity?.revoked === true) add("agent_revoked")
  if (a.allowedIds.length > 0 && !a.allowedIds.includes(agentId)) add("agent_unknown", "agent_not_declared")
  if (a.requireOwner && (identity?.owner ?? "") === "") add("agent_owner_missing")
  if (a.requiredLifecycleStates.length > 0) {
    const states = identity?.lifecycle_states ?? []
    if (!a.requiredLifecycleStates.every((s) => states.includes(s))) add("agent_lifecycle_state_invalid")
  }
  if (a.requireUnexpired) {
    const expires = Option.getOrUndefined(parseRfc3339(identity?.expires_at ?? ""))
    if (expires === undefined || identity?.expires_at === "0001-01-01T00:00:00Z" || expires <= now) add("agent_expired")
  }
  const mismatch =
    (a.requiredManifestDigest !== "" && (identity?.manifest_digest ?? "") !== a.requiredManifestDigest) ||
    (a.allowedManifestPublishers.length > 0 && !a.allowedManifestPublishers.includes(lowerTrim(identity?.publisher ?? ""))) ||
    (a.allowedManifestSources.length > 0 && !a.allowedManifestSources.includes(identity?.source ?? ""))
  if (mismatch) add("agent_manifest_mismatch")
  return reasons.length === 0 ? undefined : { reasons, violations }
}

const STANDING_ACCESS_TYPES = new Set(["", "cloud_admin", "inherited", "standing", "static", "unknown"])

const credentialFindings = (rule: PolicyRule, intent: NormalizedIntent): Findings | undefined => {
  const c = rule.credential
  const enabled =
    c.blockStanding ||
    c.allowedSources.length > 0 ||
    c.allowedIssuers.length > 0 ||
    c.allowedAccessTypes.length > 0 ||
    c.maxTtlSeconds > 0 ||
    c.requireJit
  if (!enabled) return undefined
  const ref = contextString(intent, "credential_ref")
  const source = contextString(intent, "credential_source")
  const accessType = contextString(intent, "credential_access_type")
  const issuer = contextString(intent, "credential_issuer")
  const ttlRaw = intent.context.credential_ttl_seconds
  const ttl = typeof ttlRaw === "number" ? ttlRaw : 0
  const reasons: Array<string> = []
  if (ref === "") reasons.push("credential_evidence_missing")
  if (source === "") reasons.push("credential_source_unknown")
  if (accessType === "") reasons.push("credential_access_type_unknown")
  if (c.requireJit) reasons.push(accessType === "" ? "credential_evidence_missing" : accessType === "jit" ? "" : "credential_not_jit")
  if (c.blockStanding && STANDING_ACCESS_TYPES.has(accessType)) reasons.push("standing_credential_disallowed")
  if (c.allowedSources.length > 0 && !c.allowedSources.includes(source)) reasons.push("credential_source_disallowed")
  if (c.allowedIssuers.length > 0 && !c.allowedIssuers.includes(issuer)) reasons.push("credential_issuer_disallowed")
  if (c.allowedAccessTypes.length > 0 && !c.allowedAccessTypes.includes(accessType)) reasons.push("credential_access_type_disallowed")
  if (c.maxTtlSeconds > 0) {
    if (ttl <= 0) reasons.push("credential_evidence_missing")
    else if (ttl > c.maxTtlSeconds) reasons.push("credential_ttl_exceeded")
  }
  const runBinding = contextString(intent, "credential_run_binding")
  const runId = contextString(intent, "run_id")
  if (runBinding !== "" && runId !== "" && runBinding !== runId) reasons.push("credential_run_binding_mismatch")
  const jobBinding = contextString(intent, "credential_job_binding")
  const jobId = contextString(intent, "job_id")
  if (jobBinding !== "" && jobId !== "" && jobBinding !== jobId) reasons.push("credential_job_binding_mismatch")
  const found = reasons.filter((r) => r !== "")
  return found.length === 0 ? undefined : { reasons: found, violations: [...found] }
}

const pathWithin = (path: string, prefix: string): boolean =>
  path === prefix || prefix === "/" || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`)

const sandboxDecision = (policy: SandboxPolicy, intent: NormalizedIntent): SandboxDecision => {
  const s = intent.context.sandbox as
    | {
        network_mode?: string
        writable_paths?: ReadonlyArray<string>
        read_only_roots?: ReadonlyArray<string>
        env_exposure_mode?: string
        timeout_seconds?: number
        filesystem_isolation?: string
        user_mode?: string
        evidence_ref?: string
        evidence_digest?: string
      }
    | undefined
  if (s === undefined) return { status: "missing", reason_codes: ["sandbox_metadata_missing"] }
  const reasons: Array<string> = []
  if ((s.evidence_ref ?? "") === "" || (s.evidence_digest ?? "") === "") reasons.push("sandbox_evidence_missing")
  const enums: ReadonlyArray<[string, string | undefined, ReadonlyArray<string>]> = [
    ["network_mode", s.network_mode, policy.allowedNetworkModes],
    ["env_exposure_mode", s.env_exposure_mode, policy.allowedEnvExposureModes],
    ["filesystem_isolation", s.filesystem_isolation, policy.allowedFilesystemIsolations],
    ["user_mode", s.user_mode, policy.allowedUserModes]
  ]
  for (const [field, value, allowed] of enums) {
    if ((value ?? "") === "") reasons.push(`sandbox_${field}_missing`)
    else if (allowed.length > 0 && !allowed.includes(value ?? "")) reasons.push(`sandbox_${field}_disallowed`)
  }
  const timeout = s.timeout_seconds ?? 0
  if (timeout <= 0) reasons.push("sandbox_timeout_missing")
  else if (policy.maxTimeoutSeconds > 0 && timeout > policy.maxTimeoutSeconds) reasons.push("sandbox_timeout_exceeded")
  if (
    policy.allowedWritablePathPrefixes.length > 0 &&
    (s.writable_paths ?? []).some((p) => !policy.allowedWritablePathPrefixes.some((prefix) => pathWithin(p, prefix)))
  ) {
    reasons.push("sandbox_writable_path_disallowed")
  }
  if (policy.requiredReadOnlyRoots.some((root) => !(s.read_only_roots ?? []).includes(root))) {
    reasons.push("sandbox_read_only_root_missing")
  }
  const sorted = uniqueSorted(reasons)
  const status: SandboxDecision["status"] =
    sorted.length === 0
      ? "valid"
      : sorted.some((r) => r.endsWith("_missing"))
        ? "missing"
        : sorted.some((r) => r.endsWith("_disallowed") || r.endsWith("_exceeded"))
          ? "disallowed"
          : "invalid"
  const out: Record<string, unknown> = { status }
  for (const key of ["network_mode", "env_exposure_mode", "filesystem_isolation", "user_mode", "evidence_ref", "evidence_digest"] as const) {
    if ((s[key] ?? "") !== "") out[key] = s[key]
  }
  if (timeout > 0) out.timeout_seconds = timeout
  if (sorted.length > 0) out.reason_codes = sorted
  return out as unknown as SandboxDecision
}

const SANDBOX_STATUS_RANK = { missing: 3, disallowed: 2, invalid: 1, valid: 0 } as const

const pickSandbox = (a: SandboxDecision | undefined, b: SandboxDecision): SandboxDecision => {
  if (a === undefined) return b
  const ra = SANDBOX_STATUS_RANK[a.status]
  const rb = SANDBOX_STATUS_RANK[b.status]
  if (ra !== rb) return rb > ra ? b : a
  return compareBytes(b.evidence_digest ?? "", a.evidence_digest ?? "") < 0 ? b : a
}

interface RuleResult {
  readonly rule: PolicyRule
  readonly effect: Verdict
  readonly reasons: ReadonlyArray<string>
  readonly violations: ReadonlyArray<string>
  readonly minApprovals: number
  readonly sandbox: SandboxDecision | undefined
  readonly freezeWindow: FreezeWindowDecision | undefined
}

/** The reference JSON-encodes the name (Go escaping), strips the quotes, maps spaces and `-` to `_`. */
const sanitizeRuleName = (name: string): string => {
  if (name === "") return "rule"
  return goJsonString(name).slice(1, -1).replace(/[ -]/g, "_").toLowerCase()
}

const evaluateRule = (rule: PolicyRule, intent: NormalizedIntent, now: bigint): RuleResult => {
  let effect = rule.effect
  let reasons: Array<string> = rule.reasonCodes.length > 0 ? [...rule.reasonCodes] : [`matched_rule_${sanitizeRuleName(rule.name)}`]
  let violations: Array<string> = [...rule.violations]
  const add = (f: Findings | undefined, to: Verdict = "block") => {
    if (f === undefined) return
    effect = mostRestrictive(effect, to)
    reasons = merge(reasons, f.reasons)
    violations = merge(violations, f.violations)
  }
  const dataflow = dataflowFindings(rule, intent)
  if (dataflow !== undefined && rule.dataflow !== undefined) {
    // The reference replaces the effect here instead of taking the maximum. A rule that says block
    // must not be weakened by a dataflow action, so gait keeps the more restrictive of the two.
    effect = mostRestrictive(effect, dataflow)
    reasons = merge(reasons, [rule.dataflow.reasonCode])
    violations = merge(violations, [rule.dataflow.violation])
  }
  const endpoint = endpointFindings(rule, intent)
  if (endpoint !== undefined) add(endpoint.findings, endpoint.effect)
  add(contextEvidenceFindings(rule, intent))
  add(agentFindings(rule, intent, now))
  add(credentialFindings(rule, intent))
  let freezeWindow: FreezeWindowDecision | undefined
  if (rule.freezeWindow !== undefined) {
    freezeWindow = evaluateFreezeWindow(
      rule.freezeWindow,
      { environment: contextString(intent, "environment"), riskClass: intent.context.risk_class },
      now
    )
    const code = freezeWindow.reason_code
    if (freezeWindow.status !== "inactive" && code !== undefined) {
      add({ reasons: [code], violations: [code] }, freezeWindow.status === "invalid" ? "block" : freezeWindow.effect)
    }
  }
  let sandbox: SandboxDecision | undefined
  if (rule.sandbox !== undefined) {
    sandbox = sandboxDecision(rule.sandbox, intent)
    if (sandbox.status !== "valid") add({ reasons: [...(sandbox.reason_codes ?? [])], violations: [...(sandbox.reason_codes ?? [])] })
  }
  let destructive = intent.targets.some((t) => t.destructive === true)
  if (sandbox?.status === "valid" && intent.targets.length > 0 && intent.targets.every((t) => t.endpoint_class === "proc.exec")) {
    destructive = false
  }
  if (destructive) {
    if (intent.context.phase === "plan") {
      effect = mostRestrictive(effect, "dry_run")
      reasons = merge(reasons, ["plan_phase_non_destructive"])
    } else {
      effect = mostRestrictive(effect, "require_approval")
      reasons = merge(reasons, ["destructive_apply_requires_approval"])
    }
  }
  const minApprovals = rule.minApprovals === 0 && effect === "require_approval" ? 1 : rule.minApprovals
  return {
    rule,
    effect,
    reasons: uniqueSorted(reasons),
    violations: uniqueSorted(violations),
    minApprovals,
    sandbox,
    freezeWindow
  }
}

const mergeLimit = (a: LimitPolicy | undefined, b: LimitPolicy | undefined): LimitPolicy | undefined => {
  if (a === undefined) return b
  if (b === undefined) return a
  if (a.requests !== b.requests) return a.requests < b.requests ? a : b
  if (a.window !== b.window) return a.window === "minute" ? a : b
  return compareBytes(a.scope, b.scope) <= 0 ? a : b
}

/** An outcome no rule contributed to: the default verdict, or a fail-closed block. */
const unmatched = (verdict: Verdict, reasonCodes: ReadonlyArray<string>, violations: ReadonlyArray<string>): Outcome => ({
  verdict,
  reasonCodes,
  violations,
  matchedRule: "",
  minApprovals: verdict === "require_approval" ? 1 : 0,
  requireDistinctApprovers: false,
  requireBrokerCredential: false,
  requireDelegation: false,
  rateLimit: undefined,
  destructiveBudget: undefined,
  sandbox: undefined,
  freezeWindow: undefined,
  script: undefined
})

/** Rules, tier and default for one (non-script or step) intent (§4.2–4.4). */
const evaluateRules = (policy: Policy, intent: NormalizedIntent, now: bigint): Outcome => {
  const tier: Array<RuleResult> = []
  let tierPriority: number | undefined
  for (const rule of policy.rules) {
    if (!ruleMatches(rule.match, intent)) continue
    if (tierPriority === undefined) tierPriority = rule.priority
    else if (rule.priority !== tierPriority) break
    tier.push(evaluateRule(rule, intent, now))
  }
  if (tier.length === 0) {
    return unmatched(policy.defaultVerdict, [`default_${policy.defaultVerdict}`], [])
  }
  const verdict = tier.reduce<Verdict>((v, r) => mostRestrictive(v, r.effect), "allow")
  const winners = tier.filter((r) => r.effect === verdict)
  let sandbox: SandboxDecision | undefined
  let freezeWindow: FreezeWindowDecision | undefined
  for (const w of winners) {
    if (w.sandbox !== undefined) sandbox = pickSandbox(sandbox, w.sandbox)
    if (w.freezeWindow !== undefined) freezeWindow = pickFreezeWindow(freezeWindow, w.freezeWindow)
  }
  const approval = verdict === "require_approval"
  return {
    verdict,
    reasonCodes: uniqueSorted(winners.flatMap((w) => w.reasons)),
    violations: uniqueSorted(winners.flatMap((w) => w.violations)),
    matchedRule: uniqueSorted(tier.map((r) => r.rule.name)).join(","),
    minApprovals: approval ? Math.max(...winners.map((w) => w.minApprovals)) : 0,
    requireDistinctApprovers: approval && winners.some((w) => w.rule.requireDistinctApprovers),
    requireBrokerCredential: winners.some((w) => w.rule.requireBrokerCredential),
    requireDelegation: winners.some((w) => w.rule.match.requireDelegation),
    rateLimit: winners.reduce<LimitPolicy | undefined>((l, w) => mergeLimit(l, w.rule.rateLimit), undefined),
    destructiveBudget: winners.reduce<LimitPolicy | undefined>((l, w) => mergeLimit(l, w.rule.destructiveBudget), undefined),
    sandbox,
    freezeWindow,
    script: undefined
  }
}

// ---------------------------------------------------------------------------------------------
// fail-closed (§4.1 step 2)

const HIGH_RISK_CHECKS: Record<string, (intent: NormalizedIntent) => boolean> = {
  agent_identity: (i) => i.context.agent_identity === undefined,
  credential_ttl_seconds: (i) => typeof i.context.credential_ttl_seconds !== "number" || i.context.credential_ttl_seconds <= 0
}

export const failClosedApplies = (policy: Policy, riskClass: string): boolean =>
  policy.failClosed.enabled && policy.failClosed.riskClasses.includes(riskClass)

const failClosedFindings = (policy: Policy, intent: NormalizedIntent): Findings => {
  const reasons: Array<string> = []
  const violations: Array<string> = []
  const add = (field: string) => {
    reasons.push(`fail_closed_missing_${field}`)
    violations.push(`missing_${field}`)
  }
  const unknownClass = intent.targets.some((t) => (t.endpoint_class ?? "") === "" || t.endpoint_class === "other")
  for (const field of policy.failClosed.requiredFields) {
    if (field === "targets" && intent.targets.length === 0) add("targets")
    if (field === "arg_provenance" && (intent.arg_provenance ?? []).length === 0) add("arg_provenance")
    if (field === "endpoint_class" && unknownClass) add("endpoint_class")
    if (field === "delegation" && intent.delegation === undefined) add("delegation")
    if (field === "context_evidence" && contextString(intent, "context_set_digest") === "") {
      reasons.push("context_evidence_missing")
      violations.push("missing_context_evidence")
    }
  }
  for (const field of policy.failClosed.requiredHighRiskFields) {
    const missing = HIGH_RISK_CHECKS[field]?.(intent) ?? contextString(intent, field) === ""
    if (missing) add(field)
  }
  if (unknownClass) {
    reasons.push("fail_closed_endpoint_class_unknown")
    violations.push("endpoint_class_unknown")
  }
  return { reasons: uniqueSorted(reasons), violations: uniqueSorted(violations) }
}

// ---------------------------------------------------------------------------------------------
// scripts (§4.8)

const stepRisk = (targets: ReadonlyArray<NormalizedTarget>): "low" | "medium" | "high" => {
  if (targets.some((t) => t.destructive === true || t.endpoint_class === "fs.delete" || t.endpoint_class === "proc.exec")) return "high"
  if (targets.some((t) => ["fs.write", "net.http", "net.dns"].includes(t.endpoint_class ?? ""))) return "medium"
  return "low"
}

const RISK_RANK = { low: 0, medium: 1, high: 2 } as const
const DEFAULT_MAX_SCRIPT_STEPS = 64

const evaluateScript = (policy: Policy, intent: NormalizedIntent, now: bigint): Outcome => {
  const steps = intent.script?.steps ?? []
  const { script: _script, script_hash: _hash, ...base } = intent
  const results = steps.map((step) =>
    evaluateRules(
      policy,
      { ...base, tool_name: step.tool_name, args: step.args, targets: step.targets ?? [], arg_provenance: step.arg_provenance ?? [] },
      now
    )
  )
  const stepVerdicts: Array<StepVerdict> = results.map((r, index) => {
    const v: Record<string, unknown> = { index, tool_name: steps[index]?.tool_name ?? "", verdict: r.verdict }
    if (r.reasonCodes.length > 0) v.reason_codes = r.reasonCodes
    if (r.violations.length > 0) v.violations = r.violations
    if (r.matchedRule !== "") v.matched_rule = r.matchedRule
    return v as unknown as StepVerdict
  })
  const risks = steps.map((s) => stepRisk(s.targets ?? []))
  const composite = risks.reduce<"low" | "medium" | "high">((a, r) => (RISK_RANK[r] > RISK_RANK[a] ? r : a), "low")
  let verdict = results.reduce<Verdict>((v, r) => mostRestrictive(v, r.verdict), "allow")
  let reasons = uniqueSorted(results.flatMap((r) => r.reasonCodes))
  let violations = uniqueSorted(results.flatMap((r) => r.violations))
  let minApprovals = Math.max(0, ...results.map((r) => r.minApprovals))
  const maxSteps = policy.scripts.maxSteps > 0 ? policy.scripts.maxSteps : DEFAULT_MAX_SCRIPT_STEPS
  if (steps.length > maxSteps) {
    verdict = "block"
    reasons = merge(reasons, ["script_max_steps_exceeded"])
    violations = merge(violations, ["script_max_steps_exceeded"])
  }
  if (policy.scripts.requireApprovalAbove > 0 && steps.length > policy.scripts.requireApprovalAbove) {
    verdict = mostRestrictive(verdict, "require_approval")
    reasons = merge(reasons, ["script_step_threshold_approval"])
    minApprovals = Math.max(minApprovals, 1)
  }
  if (policy.scripts.blockMixedRisk && new Set(risks).size > 1) {
    verdict = "block"
    reasons = merge(reasons, ["script_mixed_risk_blocked"])
    violations = merge(violations, ["script_mixed_risk"])
  }
  return {
    verdict,
    reasonCodes: reasons,
    violations,
    matchedRule: uniqueSorted(results.map((r) => r.matchedRule)).join(","),
    minApprovals,
    requireDistinctApprovers: results.some((r) => r.requireDistinctApprovers),
    requireBrokerCredential: results.some((r) => r.requireBrokerCredential),
    requireDelegation: results.some((r) => r.requireDelegation),
    rateLimit: results.reduce<LimitPolicy | undefined>((l, r) => mergeLimit(l, r.rateLimit), undefined),
    destructiveBudget: results.reduce<LimitPolicy | undefined>((l, r) => mergeLimit(l, r.destructiveBudget), undefined),
    sandbox: undefined,
    freezeWindow: undefined,
    script: { stepCount: steps.length, compositeRiskClass: composite, stepVerdicts }
  }
}

/** Evaluates a prepared intent against a normalized policy. */
export const evaluatePolicy = (policy: Policy, intent: NormalizedIntent, options: EvaluateOptions): Outcome => {
  if (failClosedApplies(policy, intent.context.risk_class)) {
    const f = failClosedFindings(policy, intent)
    if (f.reasons.length > 0) {
      return unmatched("block", f.reasons, f.violations)
    }
  }
  return intent.script !== undefined ? evaluateScript(policy, intent, options.now) : evaluateRules(policy, intent, options.now)
}

