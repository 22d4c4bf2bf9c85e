/**
 * Policy loading (spec gate.md §3): YAML with positions → legacy-format check → strict schema decode
 * → normalization with the reference's exact messages → digest over the CamelCase payload of §3.4.
 */
import { Either, Option, Schema } from "effect"
import { canonicalize, type Json } from "../kernel/canonical-json.js"
import { digestJson, isSha256Hex } from "../kernel/digest.js"
import { formatGoDuration, parseGoDuration } from "../kernel/duration.js"
import { firstProblem, formatPath } from "../kernel/schema-errors.js"
import { parseYaml } from "../kernel/yaml.js"
import { cleanPath, compareBytes, lowerTrim, trim, uniqueSorted, uniqueSortedLower } from "../kernel/text.js"
import { PolicyInvalid, PolicyLegacyFields, PolicyUnparsable } from "./errors.js"
import { PolicyInput, type PolicyMatchInput, type PolicyRuleInput } from "./policy-schema.js"
import {
  CREDENTIAL_ACCESS_TYPES,
  CREDENTIAL_SOURCES,
  DISCOVERY_METHODS,
  ENDPOINT_CLASSES,
  isVerdict,
  SANDBOX_ENV_EXPOSURE_MODES,
  SANDBOX_FILESYSTEM_ISOLATIONS,
  SANDBOX_NETWORK_MODES,
  SANDBOX_USER_MODES,
  type Verdict
} from "./vocabulary.js"

export interface ToolAnnotations {
  readonly readOnlyHint?: boolean
  readonly destructiveHint?: boolean
  readonly idempotentHint?: boolean
  readonly openWorldHint?: boolean
}

export interface RuleMatch {
  readonly toolNames: ReadonlyArray<string>
  readonly riskClasses: ReadonlyArray<string>
  readonly targetKinds: ReadonlyArray<string>
  readonly targetValues: ReadonlyArray<string>
  readonly endpointClasses: ReadonlyArray<string>
  readonly discoveryMethods: ReadonlyArray<string>
  readonly identities: ReadonlyArray<string>
  readonly workspacePrefixes: ReadonlyArray<string>
  readonly provenanceSources: ReadonlyArray<string>
  readonly dataClasses: ReadonlyArray<string>
  readonly destinationKinds: ReadonlyArray<string>
  readonly destinationValues: ReadonlyArray<string>
  readonly destinationOps: ReadonlyArray<string>
  readonly toolAnnotations: ToolAnnotations
  readonly skillPublishers: ReadonlyArray<string>
  readonly skillSources: ReadonlyArray<string>
  readonly contextToolNames: ReadonlyArray<string>
  readonly contextDataClasses: ReadonlyArray<string>
  readonly contextEndpointClasses: ReadonlyArray<string>
  readonly contextAutonomyLevels: ReadonlyArray<string>
  readonly requireDelegation: boolean
  readonly allowedDelegatorIdentities: ReadonlyArray<string>
  readonly allowedDelegateIdentities: ReadonlyArray<string>
  readonly delegationScopes: ReadonlyArray<string>
  readonly maxDelegationDepth: number | undefined
}

export interface LimitPolicy {
  readonly requests: number
  readonly window: string
  readonly scope: string
}

export interface DataflowPolicy {
  readonly taintedSources: ReadonlyArray<string>
  readonly destinationKinds: ReadonlyArray<string>
  readonly destinationValues: ReadonlyArray<string>
  readonly destinationOperations: ReadonlyArray<string>
  readonly action: Verdict
  readonly reasonCode: string
  readonly violation: string
}

export interface EndpointPolicy {
  readonly pathAllowlist: ReadonlyArray<string>
  readonly pathDenylist: ReadonlyArray<string>
  readonly domainAllowlist: ReadonlyArray<string>
  readonly domainDenylist: ReadonlyArray<string>
  readonly egressClasses: ReadonlyArray<string>
  readonly action: Verdict
  readonly destructiveAction: Verdict | ""
  readonly reasonCode: string
  readonly violation: string
}

export interface FreezeWindowPolicy {
  readonly timezone: string
  readonly effect: Verdict
  readonly reason: string
  readonly environments: ReadonlyArray<string>
  readonly riskClasses: ReadonlyArray<string>
  readonly windows: ReadonlyArray<{ readonly name: string; readonly start: string; readonly end: string }>
}

export interface SandboxPolicy {
  readonly allowedNetworkModes: ReadonlyArray<string>
  readonly allowedWritablePathPrefixes: ReadonlyArray<string>
  readonly requiredReadOnlyRoots: ReadonlyArray<string>
  readonly allowedEnvExposureModes: ReadonlyArray<string>
  readonly maxTimeoutSeconds: number
  readonly allowedFilesystemIsolations: ReadonlyArray<string>
  readonly allowedUserModes: ReadonlyArray<string>
}

export interface PolicyRule {
  readonly name: string
  readonly priority: number
  readonly effect: Verdict
  readonly match: RuleMatch
  readonly reasonCodes: ReadonlyArray<string>
  readonly violations: ReadonlyArray<string>
  readonly minApprovals: number
  readonly requireDistinctApprovers: boolean
  readonly requireBrokerCredential: boolean
  readonly brokerReference: string
  readonly brokerScopes: ReadonlyArray<string>
  readonly agent: {
    readonly requireDeclared: boolean
    readonly allowedIds: ReadonlyArray<string>
    readonly deniedIds: ReadonlyArray<string>
    readonly requiredManifestDigest: string
    readonly allowedManifestPublishers: ReadonlyArray<string>
    readonly allowedManifestSources: ReadonlyArray<string>
    readonly requiredLifecycleStates: ReadonlyArray<string>
    readonly requireOwner: boolean
    readonly requireUnexpired: boolean
  }
  readonly credential: {
    readonly blockStanding: boolean
    readonly allowedSources: ReadonlyArray<string>
    readonly allowedIssuers: ReadonlyArray<string>
    readonly allowedAccessTypes: ReadonlyArray<string>
    readonly maxTtlSeconds: number
    readonly requireJit: boolean
  }
  readonly contextEvidence: {
    readonly require: boolean
    readonly requiredMode: "" | "required"
    readonly maxAgeSeconds: number
  }
  readonly freezeWindow: FreezeWindowPolicy | undefined
  readonly sandbox: SandboxPolicy | undefined
  readonly rateLimit: LimitPolicy | undefined
  readonly destructiveBudget: LimitPolicy | undefined
  readonly dataflow: DataflowPolicy | undefined
  readonly endpoint: EndpointPolicy | undefined
}

export interface McpTrustPolicy {
  readonly snapshot: string
  readonly action: string
  readonly requiredRiskClasses: ReadonlyArray<string>
  readonly minScore: number
  readonly maxAge: string
  readonly publisherAllowlist: ReadonlyArray<string>
  readonly requireRegistry: boolean
}

export interface Policy {
  readonly schemaId: string
  readonly schemaVersion: string
  readonly defaultVerdict: Verdict
  readonly failClosed: {
    readonly enabled: boolean
    readonly riskClasses: ReadonlyArray<string>
    readonly requiredFields: ReadonlyArray<string>
    readonly requiredHighRiskFields: ReadonlyArray<string>
  }
  readonly scripts: { readonly maxSteps: number; readonly requireApprovalAbove: number; readonly blockMixedRisk: boolean }
  readonly mcpTrust: McpTrustPolicy | undefined
  /** Sorted by (priority, name): evaluation order and digest order. */
  readonly rules: ReadonlyArray<PolicyRule>
}

export interface LoadedPolicy {
  readonly policy: Policy
  readonly digest: string
}

export const POLICY_SCHEMA_ID = "gait.gate.policy"
export const POLICY_SCHEMA_VERSION = "1.0.0"

const REQUIRED_FIELDS = new Set(["targets", "arg_provenance", "endpoint_class", "delegation", "context_evidence"])
export const HIGH_RISK_FIELDS = new Set([
  "agent_id",
  "agent_identity",
  "run_id",
  "workflow_id",
  "repo",
  "environment",
  "credential_ref",
  "credential_source",
  "credential_access_type",
  "credential_issuer",
  "credential_ttl_seconds",
  "approval_ref",
  "wrkr_inventory_ref",
  "agent_action_bom_ref"
])

// ---------------------------------------------------------------------------------------------
// YAML → JS with positions

const LEGACY_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ["version", "version->schema_id|schema_version (set schema_id=gait.gate.policy and schema_version=1.0.0)"],
  ["name", "name->remove the top-level policy name; rule names remain under rules[].name when needed"],
  ["boundaries", "boundaries->rules|mcp_trust"],
  ["defaults", "defaults->default_verdict|fail_closed"],
  [
    "trust_sources",
    "trust_sources->mcp_trust.snapshot (render external trust data to a local snapshot before evaluation)"
  ],
  [
    "unknown_server",
    "unknown_server->mcp_trust.action (enforce unknown servers through local snapshot coverage and a fail-closed action)"
  ]
]

const decodePolicyInput = Schema.decodeUnknownEither(PolicyInput, { errors: "first", onExcessProperty: "error" })

/** Parses policy YAML text into the typed input form (no normalization yet). */
export const parsePolicyYaml = (
  text: string,
  path: string
): Either.Either<PolicyInput, PolicyUnparsable | PolicyLegacyFields> => {
  const parsed = parseYaml(text, { strict: true })
  if (Either.isLeft(parsed)) return Either.left(new PolicyUnparsable({ path, ...parsed.left }))
  const { value, locate } = parsed.right
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const present = LEGACY_FIELDS.filter(([field]) => field in (value as Record<string, unknown>))
    if (present.length > 0) {
      return Either.left(
        new PolicyLegacyFields({
          path,
          deprecated_fields: present.map(([field]) => field),
          field_replacements: present.map(([, hint]) => hint)
        })
      )
    }
  }
  return Either.mapLeft(decodePolicyInput(value), (error) => {
    const problem = firstProblem(error)
    const where = locate(problem.path)
    const field = formatPath(problem.path)
    const parent = formatPath(problem.path.slice(0, -1))
    const detail = problem.unexpected
      ? `unknown field "${String(problem.path[problem.path.length - 1])}"${parent === "" ? "" : ` in ${parent}`}`
      : `${field === "" ? "policy" : field}: ${problem.message}`
    return new PolicyUnparsable({ path, detail, ...where })
  })
}

// ---------------------------------------------------------------------------------------------
// normalization (§3.3)

type Check<A> = Either.Either<A, string>
const bad = (detail: string): Either.Either<never, string> => Either.left(detail)

const list = (items: ReadonlyArray<string> | null | undefined) => uniqueSorted(items)
const lowerList = (items: ReadonlyArray<string> | null | undefined) => uniqueSortedLower(items)

const validated = (
  items: ReadonlyArray<string>,
  allowed: ReadonlySet<string>,
  message: (v: string) => string
): Check<ReadonlyArray<string>> => {
  const wrong = items.find((v) => !allowed.has(v))
  return wrong === undefined ? Either.right(items) : bad(message(wrong))
}

const verdictOrDefault = (
  raw: string | null | undefined,
  fallback: Verdict,
  allowed: ReadonlyArray<Verdict>,
  message: (v: string) => string
): Check<Verdict> => {
  const v = lowerTrim(raw ?? "") || fallback
  return isVerdict(v) && allowed.includes(v) ? Either.right(v) : bad(message(v))
}

const ACTIONS: ReadonlyArray<Verdict> = ["block", "require_approval"]

const normalizeMatch = (m: PolicyMatchInput | null | undefined, name: string): Check<RuleMatch> =>
  Either.gen(function* () {
    const match = m ?? {}
    const toolNames = lowerList([...(match.tool_names ?? []), ...(match.tool_name ? [match.tool_name] : [])])
    const endpointClasses = yield* validated(
      lowerList([...(match.endpoint_classes ?? []), ...(match.endpoint_class ?? [])]),
      ENDPOINT_CLASSES,
      (c) => `unsupported match endpoint_class "${c}" for ${name}`
    )
    const discoveryMethods = yield* validated(
      lowerList(match.discovery_method),
      DISCOVERY_METHODS,
      (d) => `unsupported match discovery_method "${d}" for ${name}`
    )
    const depth = match.max_delegation_depth ?? undefined
    if (depth !== undefined && depth < 0) return yield* bad(`max_delegation_depth must be >= 0 for ${name}`)
    const annotations: Record<string, boolean> = {}
    for (const key of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
      const v = match.tool_annotations?.[key]
      if (typeof v === "boolean") annotations[key] = v
    }
    return {
      toolNames,
      riskClasses: lowerList(match.risk_classes),
      targetKinds: lowerList(match.target_kinds),
      targetValues: list(match.target_values),
      endpointClasses,
      discoveryMethods,
      identities: list(match.identities),
      workspacePrefixes: list(match.workspace_prefixes),
      provenanceSources: lowerList(match.provenance_sources),
      dataClasses: lowerList(match.data_classes),
      destinationKinds: lowerList(match.destination_kinds),
      destinationValues: list(match.destination_values),
      destinationOps: lowerList(match.destination_operations),
      toolAnnotations: annotations,
      skillPublishers: lowerList(match.skill_publishers),
      skillSources: lowerList(match.skill_sources),
      contextToolNames: lowerList(match.context_tool_names),
      contextDataClasses: lowerList(match.context_data_classes),
      contextEndpointClasses: lowerList(match.context_endpoint_classes),
      contextAutonomyLevels: lowerList(match.context_autonomy_levels),
      requireDelegation: match.require_delegation === true,
      allowedDelegatorIdentities: list(match.allowed_delegator_identities),
      allowedDelegateIdentities: list(match.allowed_delegate_identities),
      delegationScopes: lowerList(match.delegation_scopes),
      maxDelegationDepth: depth
    }
  })

const normalizeLimit = (
  limit: PolicyRuleInput["rate_limit"],
  label: "rate_limit" | "destructive_budget",
  name: string
): Check<LimitPolicy | undefined> => {
  if (limit === null || limit === undefined) return Either.right(undefined)
  const requests = limit.requests ?? 0
  const configured = requests !== 0 || trim(limit.window ?? "") !== "" || trim(limit.scope ?? "") !== ""
  if (label === "destructive_budget" && configured && requests < 1) {
    return bad(`destructive_budget.requests must be >= 1 for ${name}`)
  }
  if (requests < 0) return bad(`${label}.requests must be >= 0 for ${name}`)
  if (requests === 0) return Either.right(undefined)
  const window = lowerTrim(limit.window ?? "") || "minute"
  if (window !== "minute" && window !== "hour") return bad(`unsupported ${label}.window "${window}" for ${name}`)
  const scope = lowerTrim(limit.scope ?? "") || "tool_identity"
  if (!["tool", "identity", "tool_identity"].includes(scope)) return bad(`unsupported ${label}.scope "${scope}" for ${name}`)
  return Either.right({ requests, window, scope })
}

const normalizeDataflow = (d: PolicyRuleInput["dataflow"], name: string): Check<DataflowPolicy | undefined> => {
  if (d === null || d === undefined) return Either.right(undefined)
  const destinationKinds = lowerList(d.destination_kinds)
  const destinationValues = list(d.destination_values)
  const destinationOperations = lowerList(d.destination_operations)
  const tainted = lowerList(d.tainted_sources)
  const configured =
    d.enabled === true ||
    tainted.length > 0 ||
    destinationKinds.length > 0 ||
    destinationValues.length > 0 ||
    destinationOperations.length > 0
  if (!configured) return Either.right(undefined)
  return Either.map(
    verdictOrDefault(d.action, "require_approval", ACTIONS, (a) => `unsupported dataflow.action "${a}" for ${name}`),
    (action) => ({
      taintedSources: tainted.length > 0 ? tainted : ["external", "tool_output"],
      destinationKinds,
      destinationValues,
      destinationOperations,
      action,
      reasonCode: trim(d.reason_code ?? "") || "dataflow_tainted_destination",
      violation: trim(d.violation ?? "") || "tainted_dataflow"
    })
  )
}

const normalizeEndpoint = (e: PolicyRuleInput["endpoint"], name: string): Check<EndpointPolicy | undefined> =>
  Either.gen(function* () {
    if (e === null || e === undefined) return undefined
    const paths = (items: ReadonlyArray<string> | null | undefined) => uniqueSorted(items, (p) => trim(p))
    const egress = lowerList(e.egress_classes)
    for (const c of egress) {
      if (!ENDPOINT_CLASSES.has(c) || !c.startsWith("net.")) {
        return yield* bad(`endpoint.egress_class must be network class for ${name}`)
      }
    }
    const out = {
      pathAllowlist: paths(e.path_allowlist),
      pathDenylist: paths(e.path_denylist),
      domainAllowlist: lowerList(e.domain_allowlist),
      domainDenylist: lowerList(e.domain_denylist),
      egressClasses: egress
    }
    const rawDestructive = lowerTrim(e.destructive_action ?? "")
    const configured =
      e.enabled === true || Object.values(out).some((l) => l.length > 0) || rawDestructive !== ""
    if (!configured) return undefined
    const action = yield* verdictOrDefault(e.action, "block", ACTIONS, (a) => `unsupported endpoint.action "${a}" for ${name}`)
    if (rawDestructive !== "" && !(ACTIONS as ReadonlyArray<string>).includes(rawDestructive)) {
      return yield* bad(`unsupported endpoint.destructive_action "${rawDestructive}" for ${name}`)
    }
    return {
      ...out,
      action,
      destructiveAction: rawDestructive as Verdict | "",
      reasonCode: trim(e.reason_code ?? "") || "endpoint_constraint_violation",
      violation: trim(e.violation ?? "") || "endpoint_constraint_violation"
    }
  })

const normalizeFreezeWindow = (f: PolicyRuleInput["freeze_window"], name: string): Check<FreezeWindowPolicy | undefined> =>
  Either.gen(function* () {
    if (f === null || f === undefined) return undefined
    const configured =
      f.enabled === true ||
      trim(f.timezone ?? "") !== "" ||
      trim(f.effect ?? "") !== "" ||
      trim(f.reason ?? "") !== "" ||
      (f.environments ?? []).length > 0 ||
      (f.risk_classes ?? []).length > 0 ||
      (f.windows ?? []).length > 0
    if (!configured) return undefined
    const timezone = trim(f.timezone ?? "")
    if (timezone === "") return yield* bad(`freeze_window.timezone is required for ${name}`)
    const effect = yield* verdictOrDefault(f.effect, "block", ACTIONS, (v) => `unsupported freeze_window.effect "${v}" for ${name}`)
    const windows = f.windows ?? []
    if (windows.length === 0) return yield* bad(`freeze_window.windows is required for ${name}`)
    const normalizedWindows = []
    for (const [i, w] of windows.entries()) {
      const start = trim(w.start ?? "")
      const end = trim(w.end ?? "")
      if (start === "" || end === "") return yield* bad(`freeze_window.windows[${i}] requires start and end for ${name}`)
      normalizedWindows.push({ name: trim(w.name ?? "") || `window-${i + 1}`, start, end })
    }
    return {
      timezone,
      effect,
      reason: trim(f.reason ?? ""),
      environments: lowerList(f.environments),
      riskClasses: lowerList(f.risk_classes),
      windows: normalizedWindows
    }
  })

const normalizeSandboxPolicy = (s: PolicyRuleInput["sandbox"], name: string): Check<SandboxPolicy | undefined> =>
  Either.gen(function* () {
    if (s === null || s === undefined) return undefined
    const enumList = (items: ReadonlyArray<string> | null | undefined, allowed: ReadonlySet<string>, field: string) =>
      validated(lowerList(items), allowed, (v) => `unsupported sandbox.${field} "${v}" for ${name}`)
    const pathList = (items: ReadonlyArray<string> | null | undefined) =>
      uniqueSorted(items, (p) => {
        const c = cleanPath(trim(p))
        return c === "." ? "" : c
      })
    const maxTimeout = s.max_timeout_seconds ?? 0
    if (maxTimeout < 0) return yield* bad(`sandbox.max_timeout_seconds must be >= 0 for ${name}`)
    const out: SandboxPolicy = {
      allowedNetworkModes: yield* enumList(s.allowed_network_modes, SANDBOX_NETWORK_MODES, "allowed_network_modes"),
      allowedWritablePathPrefixes: pathList(s.allowed_writable_path_prefixes),
      requiredReadOnlyRoots: pathList(s.required_read_only_roots),
      allowedEnvExposureModes: yield* enumList(
        s.allowed_env_exposure_modes,
        SANDBOX_ENV_EXPOSURE_MODES,
        "allowed_env_exposure_modes"
      ),
      maxTimeoutSeconds: maxTimeout,
      allowedFilesystemIsolations: yield* enumList(
        s.allowed_filesystem_isolations,
        SANDBOX_FILESYSTEM_ISOLATIONS,
        "allowed_filesystem_isolations"
      ),
      allowedUserModes: yield* enumList(s.allowed_user_modes, SANDBOX_USER_MODES, "allowed_user_modes")
    }
    const configured =
      s.enabled === true ||
      maxTimeout > 0 ||
      Object.values(out).some((v) => Array.isArray(v) && v.length > 0)
    return configured ? out : undefined
  })

const normalizeRule = (r: PolicyRuleInput): Check<PolicyRule> =>
  Either.gen(function* () {
    const name = trim(r.name ?? "")
    if (name === "") return yield* bad("rule name is required")
    const effectRaw = lowerTrim(r.effect ?? "")
    const actionRaw = lowerTrim(r.action ?? "")
    if (effectRaw !== "" && actionRaw !== "" && effectRaw !== actionRaw) {
      return yield* bad(`rule action must match effect for ${name}`)
    }
    const effect = effectRaw || actionRaw
    if (effect === "") return yield* bad(`rule effect is required for ${name}`)
    if (!isVerdict(effect)) return yield* bad(`invalid rule effect "${effect}" for ${name}`)
    const match = yield* normalizeMatch(r.match, name)

    const manifestDigest = lowerTrim(r.required_agent_manifest_digest ?? "")
    if (manifestDigest !== "" && !isSha256Hex(manifestDigest)) {
      return yield* bad(`required_agent_manifest_digest must be sha256 hex for ${name}`)
    }
    const allowedSources = yield* validated(
      lowerList(r.allowed_credential_sources),
      CREDENTIAL_SOURCES,
      (s) => `unsupported allowed_credential_source "${s}" for ${name}`
    )
    const allowedAccessTypes = yield* validated(
      lowerList(r.allowed_credential_access_types),
      CREDENTIAL_ACCESS_TYPES,
      (s) => `unsupported allowed_credential_access_type "${s}" for ${name}`
    )
    const maxTtl = r.max_credential_ttl_seconds ?? 0
    if (maxTtl < 0) return yield* bad(`max_credential_ttl_seconds must be >= 0 for ${name}`)
    const minApprovals = r.min_approvals ?? 0
    if (minApprovals < 0) return yield* bad(`min_approvals must be >= 0 for ${name}`)
    const mode = lowerTrim(r.required_context_evidence_mode ?? "")
    if (mode !== "" && mode !== "required") {
      return yield* bad(`unsupported required_context_evidence_mode "${mode}" for ${name}`)
    }
    const maxContextAge = r.max_context_age_seconds ?? 0
    if (maxContextAge < 0) return yield* bad(`max_context_age_seconds must be >= 0 for ${name}`)

    return {
      name,
      priority: r.priority ?? 0,
      effect,
      match,
      reasonCodes: list(r.reason_codes),
      violations: list(r.violations),
      minApprovals,
      requireDistinctApprovers: r.require_distinct_approvers === true || minApprovals > 1,
      requireBrokerCredential: r.require_broker_credential === true,
      brokerReference: trim(r.broker_reference ?? ""),
      brokerScopes: lowerList(r.broker_scopes),
      agent: {
        requireDeclared: r.require_declared_agent === true,
        allowedIds: list(r.allowed_agent_ids),
        deniedIds: list(r.denied_agent_ids),
        requiredManifestDigest: manifestDigest,
        allowedManifestPublishers: lowerList(r.allowed_agent_manifest_publishers),
        allowedManifestSources: lowerList(r.allowed_agent_manifest_sources),
        requiredLifecycleStates: lowerList(r.required_agent_lifecycle_states),
        requireOwner: r.require_agent_owner === true,
        requireUnexpired: r.require_unexpired_agent === true
      },
      credential: {
        blockStanding: r.block_standing_credentials === true,
        allowedSources,
        allowedIssuers: list(r.allowed_credential_issuers),
        allowedAccessTypes,
        maxTtlSeconds: maxTtl,
        requireJit: r.require_jit_credential === true
      },
      contextEvidence: {
        require: r.require_context_evidence === true,
        requiredMode: r.require_context_evidence === true ? "required" : (mode as "" | "required"),
        maxAgeSeconds: maxContextAge
      },
      freezeWindow: yield* normalizeFreezeWindow(r.freeze_window, name),
      sandbox: yield* normalizeSandboxPolicy(r.sandbox, name),
      rateLimit: yield* normalizeLimit(r.rate_limit, "rate_limit", name),
      destructiveBudget: yield* normalizeLimit(r.destructive_budget, "destructive_budget", name),
      dataflow: yield* normalizeDataflow(r.dataflow, name),
      endpoint: yield* normalizeEndpoint(r.endpoint, name)
    }
  })

const normalizeMcpTrust = (t: PolicyInput["mcp_trust"]): Check<McpTrustPolicy | undefined> =>
  Either.gen(function* () {
    if (t === null || t === undefined) return undefined
    const configured = Object.values(t).some(
      (v) => v !== null && v !== undefined && v !== false && v !== "" && v !== 0 && !(Array.isArray(v) && v.length === 0)
    )
    if (!configured) return undefined
    const snapshot = trim(t.snapshot ?? "")
    if (snapshot === "") return yield* bad("mcp_trust.snapshot is required when mcp_trust is configured")
    const action = lowerTrim(t.action ?? "") || "block"
    if (action !== "block" && action !== "require_approval") return yield* bad(`unsupported mcp_trust.action "${action}"`)
    const minScore = t.min_score ?? 0
    if (minScore < 0 || minScore > 1) return yield* bad("mcp_trust.min_score must be between 0 and 1")
    let maxAge = ""
    const rawAge = trim(t.max_age ?? "")
    if (rawAge !== "") {
      const parsed = parseGoDuration(rawAge)
      if (Option.isNone(parsed)) return yield* bad(`parse mcp_trust.max_age: time: invalid duration "${rawAge}"`)
      if (parsed.value <= 0n) return yield* bad("mcp_trust.max_age must be > 0")
      maxAge = formatGoDuration(parsed.value)
    }
    const required = lowerList(t.required_risk_classes)
    return {
      snapshot,
      action,
      requiredRiskClasses: required.length > 0 ? required : ["critical", "high"],
      minScore,
      maxAge,
      publisherAllowlist: lowerList(t.publisher_allowlist),
      requireRegistry: t.require_registry === true
    }
  })

/** Normalizes a decoded policy; the error is the reference's message text. */
export const normalizePolicy = (input: PolicyInput): Check<Policy> =>
  Either.gen(function* () {
    const schemaId = trim(input.schema_id ?? "") || POLICY_SCHEMA_ID
    if (schemaId !== POLICY_SCHEMA_ID) return yield* bad(`unsupported policy schema_id: ${schemaId}`)
    const schemaVersion = trim(input.schema_version ?? "") || POLICY_SCHEMA_VERSION
    if (schemaVersion !== POLICY_SCHEMA_VERSION) return yield* bad(`unsupported policy schema_version: ${schemaVersion}`)
    const verdictRaw = lowerTrim(input.default_verdict ?? "")
    const actionRaw = lowerTrim(input.default_action ?? "")
    if (verdictRaw !== "" && actionRaw !== "" && verdictRaw !== actionRaw) {
      return yield* bad("default_action must match default_verdict when both are set")
    }
    const defaultVerdict = verdictRaw || actionRaw || "require_approval"
    if (!isVerdict(defaultVerdict)) return yield* bad(`invalid default_verdict: ${defaultVerdict}`)

    const fc = input.fail_closed ?? {}
    const enabled = fc.enabled === true
    const riskClasses = lowerList(fc.risk_classes)
    const requiredFields = lowerList(fc.required_fields)
    for (const f of requiredFields) {
      if (!REQUIRED_FIELDS.has(f)) return yield* bad(`unsupported fail_closed required_field: ${f}`)
    }
    const requiredHighRiskFields = lowerList(fc.required_high_risk_fields)
    for (const f of requiredHighRiskFields) {
      if (!HIGH_RISK_FIELDS.has(f)) return yield* bad(`unsupported fail_closed required_high_risk_field: ${f}`)
    }
    const scripts = input.scripts ?? {}
    const maxSteps = scripts.max_steps ?? 0
    if (maxSteps < 0) return yield* bad("scripts.max_steps must be >= 0")
    const requireApprovalAbove = scripts.require_approval_above ?? 0
    if (requireApprovalAbove < 0) return yield* bad("scripts.require_approval_above must be >= 0")
    const mcpTrust = yield* normalizeMcpTrust(input.mcp_trust)

    const rules: Array<PolicyRule> = []
    for (const r of input.rules ?? []) rules.push(yield* normalizeRule(r))
    // Ties (same priority and name) are broken by content, so file order never changes the digest.
    const tieKey = (r: PolicyRule) => Either.getOrElse(canonicalize(rulePayload(r)), () => "")
    rules.sort((a, b) => a.priority - b.priority || compareBytes(a.name, b.name) || compareBytes(tieKey(a), tieKey(b)))

    return {
      schemaId,
      schemaVersion,
      defaultVerdict,
      failClosed: {
        enabled,
        riskClasses: enabled && riskClasses.length === 0 ? ["critical", "high"] : riskClasses,
        requiredFields,
        requiredHighRiskFields
      },
      scripts: { maxSteps, requireApprovalAbove, blockMixedRisk: scripts.block_mixed_risk === true },
      mcpTrust,
      rules
    }
  })

// ---------------------------------------------------------------------------------------------
// digest payload (§3.4)

type Payload = Record<string, Json>
const setIf = (out: Payload, key: string, value: Json, when: boolean): void => {
  if (when) out[key] = value
}
const strings = (l: ReadonlyArray<string>): Json => [...l]

const matchPayload = (m: RuleMatch): Payload => {
  const out: Payload = {
    ToolNames: strings(m.toolNames),
    RiskClasses: strings(m.riskClasses),
    TargetKinds: strings(m.targetKinds),
    TargetValues: strings(m.targetValues),
    ProvenanceSources: strings(m.provenanceSources),
    Identities: strings(m.identities),
    WorkspacePrefixes: strings(m.workspacePrefixes)
  }
  const optional: ReadonlyArray<[string, ReadonlyArray<string>]> = [
    ["EndpointClasses", m.endpointClasses],
    ["DiscoveryMethods", m.discoveryMethods],
    ["SkillPublishers", m.skillPublishers],
    ["SkillSources", m.skillSources],
    ["DataClasses", m.dataClasses],
    ["DestinationKinds", m.destinationKinds],
    ["DestinationValues", m.destinationValues],
    ["DestinationOps", m.destinationOps],
    ["ContextToolNames", m.contextToolNames],
    ["ContextDataClasses", m.contextDataClasses],
    ["ContextEndpointClasses", m.contextEndpointClasses],
    ["ContextAutonomyLevels", m.contextAutonomyLevels],
    ["AllowedDelegatorIdentities", m.allowedDelegatorIdentities],
    ["AllowedDelegateIdentities", m.allowedDelegateIdentities],
    ["DelegationScopes", m.delegationScopes]
  ]
  for (const [key, values] of optional) setIf(out, key, strings(values), values.length > 0)
  const annotations: Payload = {}
  const hints: ReadonlyArray<[string, boolean | undefined]> = [
    ["ReadOnlyHint", m.toolAnnotations.readOnlyHint],
    ["DestructiveHint", m.toolAnnotations.destructiveHint],
    ["IdempotentHint", m.toolAnnotations.idempotentHint],
    ["OpenWorldHint", m.toolAnnotations.openWorldHint]
  ]
  for (const [key, v] of hints) if (v !== undefined) annotations[key] = v
  setIf(out, "ToolAnnotations", annotations, Object.keys(annotations).length > 0)
  setIf(out, "RequireDelegation", true, m.requireDelegation)
  if (m.maxDelegationDepth !== undefined) out.MaxDelegationDepth = m.maxDelegationDepth
  return out
}

const limitPayload = (l: LimitPolicy): Payload => ({ Requests: l.requests, Window: l.window, Scope: l.scope })

const rulePayload = (r: PolicyRule): Payload => {
  const out: Payload = {
    Name: r.name,
    Priority: r.priority,
    Effect: r.effect,
    Match: matchPayload(r.match),
    ReasonCodes: strings(r.reasonCodes),
    Violations: strings(r.violations)
  }
  const scalars: ReadonlyArray<[string, Json, boolean]> = [
    ["MinApprovals", r.minApprovals, r.minApprovals !== 0],
    ["RequireDeclaredAgent", true, r.agent.requireDeclared],
    ["AllowedAgentIDs", strings(r.agent.allowedIds), r.agent.allowedIds.length > 0],
    ["DeniedAgentIDs", strings(r.agent.deniedIds), r.agent.deniedIds.length > 0],
    ["RequiredAgentManifestDigest", r.agent.requiredManifestDigest, r.agent.requiredManifestDigest !== ""],
    ["AllowedAgentManifestPublishers", strings(r.agent.allowedManifestPublishers), r.agent.allowedManifestPublishers.length > 0],
    ["AllowedAgentManifestSources", strings(r.agent.allowedManifestSources), r.agent.allowedManifestSources.length > 0],
    ["RequiredAgentLifecycleStates", strings(r.agent.requiredLifecycleStates), r.agent.requiredLifecycleStates.length > 0],
    ["RequireAgentOwner", true, r.agent.requireOwner],
    ["RequireUnexpiredAgent", true, r.agent.requireUnexpired],
    ["BlockStandingCredentials", true, r.credential.blockStanding],
    ["AllowedCredentialSources", strings(r.credential.allowedSources), r.credential.allowedSources.length > 0],
    ["AllowedCredentialIssuers", strings(r.credential.allowedIssuers), r.credential.allowedIssuers.length > 0],
    ["AllowedCredentialAccessTypes", strings(r.credential.allowedAccessTypes), r.credential.allowedAccessTypes.length > 0],
    ["MaxCredentialTTLSeconds", r.credential.maxTtlSeconds, r.credential.maxTtlSeconds !== 0],
    ["RequireJITCredential", true, r.credential.requireJit],
    ["RequireDistinctApprovers", true, r.requireDistinctApprovers],
    ["RequireContextEvidence", true, r.contextEvidence.require],
    ["RequiredContextEvidenceMode", r.contextEvidence.requiredMode, r.contextEvidence.requiredMode !== ""],
    ["MaxContextAgeSeconds", r.contextEvidence.maxAgeSeconds, r.contextEvidence.maxAgeSeconds !== 0],
    ["RequireBrokerCredential", true, r.requireBrokerCredential],
    ["BrokerReference", r.brokerReference, r.brokerReference !== ""],
    ["BrokerScopes", strings(r.brokerScopes), r.brokerScopes.length > 0]
  ]
  for (const [key, value, when] of scalars) setIf(out, key, value, when)
  if (r.freezeWindow !== undefined) {
    const f = r.freezeWindow
    out.FreezeWindow = {
      Enabled: true,
      Timezone: f.timezone,
      Effect: f.effect,
      Reason: f.reason,
      Environments: strings(f.environments),
      RiskClasses: strings(f.riskClasses),
      Windows: f.windows.map((w) => ({ Name: w.name, Start: w.start, End: w.end }))
    }
  }
  if (r.sandbox !== undefined) {
    const s = r.sandbox
    const orNull = (l: ReadonlyArray<string>): Json => (l.length === 0 ? null : strings(l))
    out.Sandbox = {
      Enabled: true,
      AllowedNetworkModes: strings(s.allowedNetworkModes),
      AllowedWritablePathPrefixes: orNull(s.allowedWritablePathPrefixes),
      RequiredReadOnlyRoots: orNull(s.requiredReadOnlyRoots),
      AllowedEnvExposureModes: strings(s.allowedEnvExposureModes),
      MaxTimeoutSeconds: s.maxTimeoutSeconds,
      AllowedFilesystemIsolations: strings(s.allowedFilesystemIsolations),
      AllowedUserModes: strings(s.allowedUserModes)
    }
  }
  if (r.rateLimit !== undefined) out.RateLimit = limitPayload(r.rateLimit)
  if (r.destructiveBudget !== undefined) out.DestructiveBudget = limitPayload(r.destructiveBudget)
  if (r.dataflow !== undefined) {
    const d = r.dataflow
    const payload: Payload = {
      Enabled: true,
      TaintedSources: strings(d.taintedSources),
      Action: d.action,
      ReasonCode: d.reasonCode,
      Violation: d.violation
    }
    setIf(payload, "DestinationKinds", strings(d.destinationKinds), d.destinationKinds.length > 0)
    setIf(payload, "DestinationValues", strings(d.destinationValues), d.destinationValues.length > 0)
    setIf(payload, "DestinationOperations", strings(d.destinationOperations), d.destinationOperations.length > 0)
    out.Dataflow = payload
  }
  if (r.endpoint !== undefined) {
    const e = r.endpoint
    out.Endpoint = {
      Enabled: true,
      PathAllowlist: strings(e.pathAllowlist),
      PathDenylist: strings(e.pathDenylist),
      DomainAllowlist: strings(e.domainAllowlist),
      DomainDenylist: strings(e.domainDenylist),
      EgressClasses: strings(e.egressClasses),
      Action: e.action,
      DestructiveAction: e.destructiveAction,
      ReasonCode: e.reasonCode,
      Violation: e.violation
    }
  }
  return out
}

/** The map whose canonical JSON is the policy digest (Go CamelCase keys, omitempty per field). */
export const policyDigestPayload = (p: Policy): Payload => {
  const failClosed: Payload = {
    Enabled: p.failClosed.enabled,
    RiskClasses: strings(p.failClosed.riskClasses),
    RequiredFields: strings(p.failClosed.requiredFields)
  }
  setIf(failClosed, "RequiredHighRiskFields", strings(p.failClosed.requiredHighRiskFields), p.failClosed.requiredHighRiskFields.length > 0)
  const out: Payload = {
    SchemaID: p.schemaId,
    SchemaVersion: p.schemaVersion,
    DefaultVerdict: p.defaultVerdict,
    FailClosed: failClosed,
    Rules: p.rules.map(rulePayload)
  }
  const s = p.scripts
  if (s.maxSteps !== 0 || s.requireApprovalAbove !== 0 || s.blockMixedRisk) {
    out.Scripts = { MaxSteps: s.maxSteps, RequireApprovalAbove: s.requireApprovalAbove, BlockMixedRisk: s.blockMixedRisk }
  }
  if (p.mcpTrust !== undefined) {
    const t = p.mcpTrust
    out.MCPTrust = {
      Enabled: true,
      SnapshotPath: t.snapshot,
      Action: t.action,
      RequiredRiskClasses: strings(t.requiredRiskClasses),
      MinScore: t.minScore,
      MaxAge: t.maxAge,
      PublisherAllowlist: strings(t.publisherAllowlist),
      RequireRegistry: t.requireRegistry
    }
  }
  return out
}

/** YAML text → normalized policy with its digest. */
export const loadPolicyText = (
  text: string,
  path: string
): Either.Either<LoadedPolicy, PolicyUnparsable | PolicyLegacyFields | PolicyInvalid> =>
  Either.gen(function* () {
    const input = yield* parsePolicyYaml(text, path)
    const policy = yield* Either.mapLeft(normalizePolicy(input), (detail) => new PolicyInvalid({ path, detail }))
    const digest = yield* Either.mapLeft(
      digestJson(policyDigestPayload(policy)),
      (e) => new PolicyInvalid({ path, detail: e.message })
    )
    return { policy, digest }
  })
