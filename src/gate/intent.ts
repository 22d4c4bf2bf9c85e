/**
 * Intent normalization (spec gate.md §2): the deterministic form `N` that is digested, signed and
 * evaluated. Checks run in the reference's order, so the first error reported is the same. Keys are
 * present or absent exactly as Go's `omitempty` would emit them, which the digests depend on.
 */
import { Either, Option } from "effect"
import type { Json } from "../kernel/canonical-json.js"
import { digestJson, isSha256Hex } from "../kernel/digest.js"
import { cleanPath, compareBytes, lowerTrim, trim, uniqueSorted } from "../kernel/text.js"
import { DEFAULT_CREATED_AT, formatRfc3339Nano, GO_ZERO_TIME, parseRfc3339 } from "../kernel/time.js"
import { IntentInvalid, RawCredentialRejected } from "./errors.js"
import type { IntentArgProvenance, IntentContext, IntentRequest, IntentTarget } from "./intent-schema.js"
import {
  CREDENTIAL_ACCESS_TYPES,
  CREDENTIAL_SOURCES,
  DISCOVERY_METHODS,
  ENDPOINT_CLASSES,
  PROVENANCE_SOURCES,
  SANDBOX_ENV_EXPOSURE_MODES,
  SANDBOX_FILESYSTEM_ISOLATIONS,
  SANDBOX_NETWORK_MODES,
  SANDBOX_USER_MODES,
  TARGET_KINDS
} from "./vocabulary.js"

export type JsonObject = { readonly [key: string]: Json }

export interface NormalizedTarget {
  readonly kind: string
  readonly value: string
  readonly operation?: string
  readonly sensitivity?: string
  readonly endpoint_class?: string
  readonly endpoint_domain?: string
  readonly destructive?: true
  readonly discovery_method: string
  readonly read_only_hint?: true
  readonly destructive_hint?: true
  readonly idempotent_hint?: true
  readonly open_world_hint?: true
}

export interface NormalizedProvenance {
  readonly arg_path: string
  readonly source: string
  readonly source_ref?: string
  readonly integrity_digest?: string
}

export interface NormalizedSandbox {
  readonly network_mode?: string
  readonly writable_paths?: ReadonlyArray<string>
  readonly read_only_roots?: ReadonlyArray<string>
  readonly env_exposure_mode?: string
  readonly timeout_seconds?: number
  readonly filesystem_isolation?: string
  readonly user_mode?: string
  readonly evidence_ref?: string
  readonly evidence_digest?: string
}

/** Context fields, all strings except the ones typed below; absent means empty. */
export interface NormalizedContext {
  readonly identity: string
  readonly workspace: string
  readonly risk_class: string
  readonly phase: "plan" | "apply"
  readonly [field: string]: Json | undefined
}

export interface NormalizedScriptStep {
  readonly tool_name: string
  readonly args: JsonObject
  readonly targets?: ReadonlyArray<NormalizedTarget>
  readonly arg_provenance?: ReadonlyArray<NormalizedProvenance>
}

/** `N` of spec §2.5: exactly the object whose canonical form is the intent digest. */
export interface NormalizedIntent {
  readonly tool_name: string
  readonly args: JsonObject
  readonly script_hash?: string
  readonly script?: { readonly steps: ReadonlyArray<NormalizedScriptStep> }
  readonly targets: ReadonlyArray<NormalizedTarget>
  readonly arg_provenance?: ReadonlyArray<NormalizedProvenance>
  readonly skill_provenance?: { readonly [field: string]: string }
  readonly delegation?: JsonObject
  readonly context: NormalizedContext
}

/** The intent as the gate evaluates it, with its digests and the fields that are not digested. */
export interface PreparedIntent {
  readonly body: NormalizedIntent
  readonly intentDigest: string
  readonly argsDigest: string
  /** RFC3339Nano UTC of the request's `created_at`, or the reference's 1980 fallback. */
  readonly createdAt: string
}

type Result<A> = Either.Either<A, IntentInvalid | RawCredentialRejected>

const invalid = (detail: string): Either.Either<never, IntentInvalid> => Either.left(new IntentInvalid({ detail }))

/** Adds `key: value` unless the value is one that Go's `omitempty` drops. */
const put = (out: Record<string, Json>, key: string, value: Json | undefined): void => {
  if (value === undefined || value === "" || value === 0 || value === false) return
  if (Array.isArray(value) && value.length === 0) return
  out[key] = value
}

// ---------------------------------------------------------------------------------------------
// args and the raw-credential check (§2.4)

const normalizeJson = (value: unknown): Either.Either<Json, string> => {
  if (value === null || typeof value === "boolean" || typeof value === "number") return Either.right(value)
  if (typeof value === "string") {
    return value.isWellFormed() ? Either.right(trim(value)) : Either.left("contains a string that is not valid Unicode")
  }
  if (Array.isArray(value)) {
    const out: Array<Json> = []
    for (const item of value) {
      const n = normalizeJson(item)
      if (Either.isLeft(n)) return n
      out.push(n.right)
    }
    return Either.right(out)
  }
  if (typeof value === "object") {
    const out: Record<string, Json> = {}
    for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
      const k = trim(key)
      if (k === "") return Either.left("contains empty key")
      if (!k.isWellFormed()) return Either.left("contains a key that is not valid Unicode")
      const n = normalizeJson(member)
      if (Either.isLeft(n)) return n
      out[k] = n.right
    }
    return Either.right(out)
  }
  return Either.left("contains a value that is not JSON")
}

const CREDENTIAL_KEY = /(token|secret|api[_-]?key|access[_-]?key|password|credential)/
const CREDENTIAL_KEY_EXEMPT_SUFFIXES = [
  "_ref",
  "_refs",
  "_digest",
  "_digests",
  "_hash",
  "_issuer",
  "_source",
  "_type",
  "_ttl",
  "_ttl_seconds",
  "_id",
  "_ids",
  "_name",
  "_names",
  "_scope",
  "_scopes"
]
const REFERENCE_PREFIXES = ["env:", "stub:", "cmd:", "ref:", "sha256:"]
const SECRET_PREFIXES = ["ghp_", "gho_", "github_pat_", "sk-", "AKIA", "ASIA"]
const HEX64 = /^[0-9a-fA-F]{64}$/

export const keySuggestsCredential = (key: string): boolean => {
  const k = lowerTrim(key)
  return CREDENTIAL_KEY.test(k) && !CREDENTIAL_KEY_EXEMPT_SUFFIXES.some((suffix) => k.endsWith(suffix))
}

export const looksLikeCredential = (raw: string): boolean => {
  const v = trim(raw)
  if (v === "") return false
  const lower = v.toLowerCase()
  if (REFERENCE_PREFIXES.some((p) => lower.startsWith(p))) return false
  if (HEX64.test(v)) return false
  if (SECRET_PREFIXES.some((p) => v.startsWith(p))) return true
  // Length in UTF-8 bytes and whitespace as the reference counts them.
  return Buffer.byteLength(v, "utf8") >= 16 && !/[ \t\r\n]/.test(v) && /[A-Za-z]/.test(v) && /[0-9]/.test(v)
}

/** First location (sorted-key walk) where a credential-suggesting key holds credential-like text. */
const findRawCredential = (value: Json, path: string): string | undefined => {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findRawCredential(value[i] as Json, `${path}[${i}]`)
      if (hit !== undefined) return hit
    }
    return undefined
  }
  if (value !== null && typeof value === "object") {
    const record = value as JsonObject
    for (const key of Object.keys(record).sort(compareBytes)) {
      const member = record[key] as Json
      const at = `${path}.${key}`
      if (typeof member === "string" && keySuggestsCredential(key) && looksLikeCredential(member)) return at
      const nested = findRawCredential(member, at)
      if (nested !== undefined) return nested
    }
  }
  return undefined
}

const normalizeArgs = (args: unknown, label: string, credentialPath: string): Result<JsonObject> => {
  const normalized = normalizeJson(args ?? {})
  if (Either.isLeft(normalized)) return invalid(`normalize ${label}: args ${normalized.left}`)
  const hit = findRawCredential(normalized.right, credentialPath)
  if (hit !== undefined) return Either.left(new RawCredentialRejected({ at: hit }))
  return Either.right(normalized.right as JsonObject)
}

// ---------------------------------------------------------------------------------------------
// targets (§2.2 step 4) and endpoint-class inference (§2.2.1)

const PATH_READ_OPS = new Set(["read", "get", "list", "open", "cat", "head", "download", "stat"])
const PATH_WRITE_OPS = new Set(["write", "append", "put", "create", "update", "save", "copy", "move", "rename"])
const PATH_DELETE_OPS = new Set(["delete", "remove", "rm", "unlink", "rmdir", "drop", "truncate"])
const DNS_OPS = new Set(["dns", "resolve", "lookup"])
const EXEC_OPS = new Set(["exec", "spawn", "run", "shell", "command"])
const DESTRUCTIVE_OPS = new Set(["delete", "remove", "rm", "unlink", "rmdir", "drop", "truncate", "exec", "spawn"])

const toolHint = (toolName: string, needles: ReadonlyArray<string>): boolean => {
  const lowered = lowerTrim(toolName)
  const base = lowered.slice(lowered.lastIndexOf("/") + 1)
  return needles.some((n) => base.includes(n))
}

export const inferEndpointClass = (kind: string, operation: string, toolName: string): string => {
  switch (kind) {
    case "path":
      if (PATH_READ_OPS.has(operation)) return "fs.read"
      if (PATH_WRITE_OPS.has(operation)) return "fs.write"
      if (PATH_DELETE_OPS.has(operation)) return "fs.delete"
      if (toolHint(toolName, ["read", "list", "fetch", "search"])) return "fs.read"
      if (toolHint(toolName, ["write", "update", "save", "create"])) return "fs.write"
      if (toolHint(toolName, ["delete", "remove", "rm", "drop"])) return "fs.delete"
      return "other"
    case "host":
    case "url":
      return DNS_OPS.has(operation) ? "net.dns" : "net.http"
    case "other":
      return EXEC_OPS.has(operation) || toolHint(toolName, ["exec", "shell", "command", "spawn", "run"])
        ? "proc.exec"
        : "other"
    default:
      return "other"
  }
}

const inferDomain = (kind: string, value: string): string => {
  if (kind === "host") {
    // The reference strips only the lowercase prefixes (Go's strings.TrimPrefix is case-sensitive).
    let v = trim(value)
    if (v.startsWith("http://")) v = v.slice(7)
    else if (v.startsWith("https://")) v = v.slice(8)
    v = v.split("/")[0] ?? ""
    v = v.split(":")[0] ?? ""
    return lowerTrim(v)
  }
  if (kind === "url") return lowerTrim(goUrlHostname(trim(value)))
  return ""
}

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/
const INVALID_HOST_CHAR = /[\x00-\x20\x7f"<>\\^`{|}]/

/**
 * `url.Parse(v).Hostname()` as Go computes it: the authority after `scheme://`, without userinfo and
 * port, IPv6 brackets removed. Unlike WHATWG URL parsing there is no IDNA or IPv4 rewriting, which
 * would change the normalized intent and so its digest. "" when there is no authority or it is invalid.
 */
const goUrlHostname = (raw: string): string => {
  const scheme = URL_SCHEME.exec(raw)
  if (scheme === null) return ""
  const rest = raw.slice(scheme[0].length)
  if (!rest.startsWith("//")) return ""
  const authorityEnd = rest.slice(2).search(/[/?#]/)
  const authority = authorityEnd < 0 ? rest.slice(2) : rest.slice(2, 2 + authorityEnd)
  const host = authority.slice(authority.lastIndexOf("@") + 1)
  if (INVALID_HOST_CHAR.test(host)) return ""
  const validPort = (p: string) => p === "" || /^:\d*$/.test(p)
  if (host.startsWith("[")) {
    const close = host.indexOf("]")
    return close < 0 || !validPort(host.slice(close + 1)) ? "" : host.slice(1, close)
  }
  const colon = host.lastIndexOf(":")
  if (colon < 0) return host
  return validPort(host.slice(colon)) ? host.slice(0, colon) : ""
}

const targetKey = (t: NormalizedTarget): ReadonlyArray<string | boolean> => [
  t.kind,
  t.value,
  t.operation ?? "",
  t.sensitivity ?? "",
  t.endpoint_class ?? "",
  t.endpoint_domain ?? "",
  t.destructive === true,
  t.discovery_method,
  t.read_only_hint === true,
  t.destructive_hint === true,
  t.idempotent_hint === true,
  t.open_world_hint === true
]

const compareKeys = (a: ReadonlyArray<string | boolean>, b: ReadonlyArray<string | boolean>): number => {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    const y = b[i]
    if (x === y) continue
    if (typeof x === "boolean") return x ? 1 : -1
    return compareBytes(x as string, y as string)
  }
  return 0
}

const sortUnique = <A>(items: ReadonlyArray<A>, key: (a: A) => ReadonlyArray<string | boolean>): Array<A> => {
  const seen = new Map<string, A>()
  for (const item of items) seen.set(JSON.stringify(key(item)), item)
  return [...seen.values()].sort((a, b) => compareKeys(key(a), key(b)))
}

const normalizeTarget = (t: IntentTarget, toolName: string): Either.Either<NormalizedTarget, IntentInvalid> => {
  const kind = lowerTrim(t.kind ?? "")
  const value = trim(t.value ?? "")
  const operation = lowerTrim(t.operation ?? "")
  const discovery = lowerTrim(t.discovery_method ?? "").replace(/[- ]/g, "_") || "unknown"
  if (kind === "" || value === "") return invalid("targets require kind and value")
  if (!TARGET_KINDS.has(kind)) return invalid(`unsupported target kind: ${kind}`)
  const endpointClass = lowerTrim(t.endpoint_class ?? "") || inferEndpointClass(kind, operation, toolName)
  if (!ENDPOINT_CLASSES.has(endpointClass)) return invalid(`unsupported endpoint class: ${endpointClass}`)
  const domain = lowerTrim(t.endpoint_domain ?? "") || inferDomain(kind, value)
  if (!DISCOVERY_METHODS.has(discovery)) return invalid(`unsupported discovery method: ${discovery}`)
  const destructive =
    t.destructive === true ||
    t.destructive_hint === true ||
    endpointClass === "fs.delete" ||
    endpointClass === "proc.exec" ||
    DESTRUCTIVE_OPS.has(operation)
  const out: Record<string, Json> = { kind, value }
  put(out, "operation", operation)
  put(out, "sensitivity", lowerTrim(t.sensitivity ?? ""))
  put(out, "endpoint_class", endpointClass)
  put(out, "endpoint_domain", domain)
  put(out, "destructive", destructive)
  out.discovery_method = discovery
  put(out, "read_only_hint", t.read_only_hint === true)
  put(out, "destructive_hint", t.destructive_hint === true)
  put(out, "idempotent_hint", t.idempotent_hint === true)
  put(out, "open_world_hint", t.open_world_hint === true)
  return Either.right(out as unknown as NormalizedTarget)
}

const normalizeTargets = (
  targets: ReadonlyArray<IntentTarget>,
  toolName: string,
  prefix: string
): Either.Either<Array<NormalizedTarget>, IntentInvalid> => {
  const out: Array<NormalizedTarget> = []
  for (const t of targets) {
    const n = normalizeTarget(t, toolName)
    if (Either.isLeft(n)) return invalid(`${prefix}${n.left.detail}`)
    out.push(n.right)
  }
  return Either.right(sortUnique(out, targetKey))
}

// ---------------------------------------------------------------------------------------------
// provenance (§2.2 step 5)

const provenanceKey = (p: NormalizedProvenance): ReadonlyArray<string> => [
  p.arg_path,
  p.source,
  p.source_ref ?? "",
  p.integrity_digest ?? ""
]

const normalizeProvenance = (
  items: ReadonlyArray<IntentArgProvenance>,
  prefix: string
): Either.Either<Array<NormalizedProvenance>, IntentInvalid> => {
  const out: Array<NormalizedProvenance> = []
  const fail = (detail: string) => invalid(`${prefix}${detail}`)
  for (const p of items) {
    const argPath = trim(p.arg_path ?? "")
    const source = lowerTrim(p.source ?? "")
    const digest = lowerTrim(p.integrity_digest ?? "")
    if (argPath === "" || source === "") return fail("arg provenance requires arg_path and source")
    if (!PROVENANCE_SOURCES.has(source)) return fail(`unsupported provenance source: ${source}`)
    if (digest !== "" && !isSha256Hex(digest)) return fail(`invalid provenance integrity_digest: ${digest}`)
    const entry: Record<string, Json> = { arg_path: argPath, source }
    put(entry, "source_ref", trim(p.source_ref ?? ""))
    put(entry, "integrity_digest", digest)
    out.push(entry as unknown as NormalizedProvenance)
  }
  return Either.right(sortUnique(out, provenanceKey))
}

// ---------------------------------------------------------------------------------------------
// times (delegation and agent identity are converted to UTC; zero times are still emitted)

const normalizeTime = (raw: string | null | undefined, field: string): Either.Either<string, IntentInvalid> => {
  const text = trim(raw ?? "")
  if (text === "") return Either.right(GO_ZERO_TIME)
  const parsed = parseRfc3339(text)
  return Option.isNone(parsed)
    ? invalid(`${field} must be an RFC3339 timestamp`)
    : Either.right(formatRfc3339Nano(parsed.value))
}

const timeNanos = (formatted: string): bigint => Option.getOrElse(parseRfc3339(formatted), () => 0n)
const isZero = (formatted: string): boolean => formatted === GO_ZERO_TIME

// ---------------------------------------------------------------------------------------------
// context (§2.2 step 7) with sandbox (§2.3) and agent identity

const ENV_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/
const EVIDENCE_REF_PREFIXES = ["ref:", "receipt:", "proof:", "sandbox:", "sha256:"]

const normalizeSandbox = (
  sandbox: NonNullable<IntentContext["sandbox"]>
): Either.Either<NormalizedSandbox | undefined, IntentInvalid> => {
  const out: Record<string, Json> = {}
  const enums: ReadonlyArray<[keyof typeof sandbox & string, ReadonlySet<string>]> = [
    ["network_mode", SANDBOX_NETWORK_MODES],
    ["env_exposure_mode", SANDBOX_ENV_EXPOSURE_MODES],
    ["filesystem_isolation", SANDBOX_FILESYSTEM_ISOLATIONS],
    ["user_mode", SANDBOX_USER_MODES]
  ]
  for (const [field, allowed] of enums) {
    const v = lowerTrim((sandbox[field] as string | null | undefined) ?? "")
    if (v !== "" && !allowed.has(v)) return invalid(`context.sandbox.${field} is unsupported: ${v}`)
    put(out, field, v)
  }
  for (const field of ["writable_paths", "read_only_roots"] as const) {
    const items = sandbox[field] ?? []
    for (const item of items) {
      if (ENV_ASSIGNMENT.test(trim(item))) {
        return invalid(`context.sandbox.${field} must not contain raw environment variable assignments`)
      }
    }
    put(
      out,
      field,
      uniqueSorted(items, (p) => {
        const c = cleanPath(trim(p))
        return c === "." ? "" : c
      })
    )
  }
  const timeout = sandbox.timeout_seconds ?? 0
  if (timeout < 0) return invalid("context.sandbox.timeout_seconds must be >= 0")
  put(out, "timeout_seconds", timeout)
  const evidenceRef = trim(sandbox.evidence_ref ?? "")
  if (ENV_ASSIGNMENT.test(evidenceRef)) {
    return invalid("context.sandbox.evidence_ref must not contain raw environment variable assignments")
  }
  const lowerRef = evidenceRef.toLowerCase()
  if (!EVIDENCE_REF_PREFIXES.some((p) => lowerRef.startsWith(p)) && looksLikeCredential(evidenceRef)) {
    return invalid(
      "context.sandbox.evidence_ref must not contain raw credential material; use credential references or digests instead"
    )
  }
  put(out, "evidence_ref", evidenceRef)
  const evidenceDigest = lowerTrim(sandbox.evidence_digest ?? "")
  if (evidenceDigest !== "" && !isSha256Hex(evidenceDigest)) {
    return invalid(`context.sandbox.evidence_digest must be sha256 hex`)
  }
  put(out, "evidence_digest", evidenceDigest)
  return Either.right(Object.keys(out).length === 0 ? undefined : (out as NormalizedSandbox))
}

const normalizeAgentIdentity = (
  identity: NonNullable<IntentContext["agent_identity"]>
): Either.Either<JsonObject, IntentInvalid> =>
  Either.gen(function* () {
    const digest = lowerTrim(identity.manifest_digest ?? "")
    if (digest !== "" && !isSha256Hex(digest)) return yield* invalid("context.agent_identity.manifest_digest must be sha256 hex")
    const issuedAt = yield* normalizeTime(identity.issued_at, "context.agent_identity.issued_at")
    const approvedAt = yield* normalizeTime(identity.approved_at, "context.agent_identity.approved_at")
    const expiresAt = yield* normalizeTime(identity.expires_at, "context.agent_identity.expires_at")
    if (!isZero(issuedAt) && !isZero(approvedAt) && timeNanos(approvedAt) < timeNanos(issuedAt)) {
      return yield* invalid("context.agent_identity.approved_at must not be before issued_at")
    }
    if (!isZero(expiresAt)) {
      if (!isZero(issuedAt) && timeNanos(expiresAt) <= timeNanos(issuedAt)) {
        return yield* invalid("context.agent_identity.expires_at must be after issued_at")
      }
      if (!isZero(approvedAt) && timeNanos(expiresAt) <= timeNanos(approvedAt)) {
        return yield* invalid("context.agent_identity.expires_at must be after approved_at")
      }
    }
    const out: Record<string, Json> = {}
    put(out, "lifecycle_states", uniqueSorted(identity.lifecycle_states))
    put(out, "owner", trim(identity.owner ?? ""))
    put(out, "manifest_digest", digest)
    put(out, "publisher", trim(identity.publisher ?? ""))
    put(out, "source", lowerTrim(identity.source ?? ""))
    out.issued_at = issuedAt
    out.approved_at = approvedAt
    out.expires_at = expiresAt
    put(out, "revoked", identity.revoked === true)
    return out
  })

/** Context string fields that are trimmed and keep their case, in reference struct order. */
const CONTEXT_TRIMMED_FIELDS = [
  "agent_id",
  "run_id",
  "workflow_id",
  "repo",
  "environment",
  "job_id",
  "session_id",
  "request_id",
  "credential_ref",
  "credential_issuer",
  "credential_subject",
  "credential_owner",
  "credential_target_binding",
  "credential_run_binding",
  "credential_job_binding",
  "approval_ref",
  "wrkr_inventory_ref",
  "agent_action_bom_ref",
  "environment_fingerprint"
] as const

const normalizeContext = (context: IntentContext | null | undefined): Result<NormalizedContext> =>
  Either.gen(function* () {
    const c = context ?? {}
    const identity = trim(c.identity ?? "")
    const workspace = trim(c.workspace ?? "").replaceAll("\\", "/")
    const riskClass = lowerTrim(c.risk_class ?? "")
    if (identity === "") return yield* invalid("context.identity is required")
    if (workspace === "") return yield* invalid("context.workspace is required")
    if (riskClass === "") return yield* invalid("context.risk_class is required")
    const out: Record<string, Json> = { identity, workspace, risk_class: riskClass }

    if (c.auth_context !== null && c.auth_context !== undefined) {
      const auth = yield* normalizeArgs(c.auth_context, "context.auth_context", "context.auth_context")
      if (Object.keys(auth).length > 0) out.auth_context = auth
    }
    if (c.sandbox !== null && c.sandbox !== undefined) {
      const sandbox = yield* normalizeSandbox(c.sandbox)
      if (sandbox !== undefined) out.sandbox = sandbox as JsonObject
    }
    if (c.agent_identity !== null && c.agent_identity !== undefined) {
      out.agent_identity = yield* normalizeAgentIdentity(c.agent_identity)
    }
    put(out, "credential_scopes", uniqueSorted(c.credential_scopes))
    put(out, "context_refs", uniqueSorted(c.context_refs))

    const setDigest = lowerTrim(c.context_set_digest ?? "")
    if (setDigest !== "" && !isSha256Hex(setDigest)) return yield* invalid("context.context_set_digest must be sha256 hex")
    put(out, "context_set_digest", setDigest)
    const ttl = c.credential_ttl_seconds ?? 0
    if (ttl < 0) return yield* invalid("context.credential_ttl_seconds must be >= 0")
    put(out, "credential_ttl_seconds", ttl)
    const source = lowerTrim(c.credential_source ?? "")
    if (source !== "" && !CREDENTIAL_SOURCES.has(source)) {
      return yield* invalid(`context.credential_source is unsupported: ${source}`)
    }
    put(out, "credential_source", source)
    const accessType = lowerTrim(c.credential_access_type ?? "")
    if (accessType !== "" && !CREDENTIAL_ACCESS_TYPES.has(accessType)) {
      return yield* invalid(`context.credential_access_type is unsupported: ${accessType}`)
    }
    put(out, "credential_access_type", accessType)
    const mode = lowerTrim(c.context_evidence_mode ?? "")
    if (mode !== "" && mode !== "best_effort" && mode !== "required") {
      return yield* invalid("context.context_evidence_mode must be best_effort or required")
    }
    put(out, "context_evidence_mode", mode)
    const phase = lowerTrim(c.phase ?? "") || "apply"
    if (phase !== "plan" && phase !== "apply") return yield* invalid("context.phase must be plan or apply")
    out.phase = phase
    for (const field of CONTEXT_TRIMMED_FIELDS) put(out, field, trim(c[field] ?? ""))
    return out as unknown as NormalizedContext
  })

// ---------------------------------------------------------------------------------------------
// skill provenance, delegation, script

const normalizeSkill = (skill: NonNullable<IntentRequest["skill_provenance"]>) => {
  const name = trim(skill.skill_name ?? "")
  const source = lowerTrim(skill.source ?? "")
  const publisher = trim(skill.publisher ?? "")
  const digest = lowerTrim(skill.digest ?? "")
  if (name === "" || source === "" || publisher === "") {
    return invalid("skill provenance requires skill_name, source, and publisher")
  }
  if (digest !== "" && !isSha256Hex(digest)) return invalid(`invalid skill provenance digest: ${digest}`)
  const out: Record<string, Json> = { skill_name: name, source, publisher }
  put(out, "skill_version", trim(skill.skill_version ?? ""))
  put(out, "digest", digest)
  put(out, "signature_key_id", trim(skill.signature_key_id ?? ""))
  return Either.right(out as { readonly [field: string]: string })
}

const normalizeDelegation = (d: NonNullable<IntentRequest["delegation"]>): Either.Either<JsonObject, IntentInvalid> =>
  Either.gen(function* () {
    const requester = trim(d.requester_identity ?? "")
    if (requester === "") return yield* invalid("delegation.requester_identity is required")
    const chain: Array<JsonObject> = []
    let previousDelegate = ""
    for (const [i, link] of (d.chain ?? []).entries()) {
      const delegator = trim(link.delegator_identity ?? "")
      const delegate = trim(link.delegate_identity ?? "")
      if (delegator === "" || delegate === "") {
        return yield* invalid(`delegation.chain[${i}] requires delegator_identity and delegate_identity`)
      }
      if (i > 0 && delegator !== previousDelegate) {
        return yield* invalid(`delegation.chain[${i}].delegator_identity must match previous delegate_identity`)
      }
      const issuedAt = yield* normalizeTime(link.issued_at, `delegation.chain[${i}].issued_at`)
      const expiresAt = yield* normalizeTime(link.expires_at, `delegation.chain[${i}].expires_at`)
      if (!isZero(expiresAt) && !isZero(issuedAt) && timeNanos(expiresAt) <= timeNanos(issuedAt)) {
        return yield* invalid(`delegation.chain[${i}].expires_at must be after issued_at`)
      }
      const out: Record<string, Json> = { delegator_identity: delegator, delegate_identity: delegate }
      put(out, "scope_class", lowerTrim(link.scope_class ?? ""))
      put(out, "token_ref", trim(link.token_ref ?? ""))
      out.issued_at = issuedAt
      out.expires_at = expiresAt
      chain.push(out)
      previousDelegate = delegate
    }
    if (chain.length > 0 && previousDelegate !== requester) {
      return yield* invalid("delegation.chain last delegate_identity must match delegation.requester_identity")
    }
    const issuedAt = yield* normalizeTime(d.issued_at, "delegation.issued_at")
    const expiresAt = yield* normalizeTime(d.expires_at, "delegation.expires_at")
    if (!isZero(expiresAt) && !isZero(issuedAt) && timeNanos(expiresAt) <= timeNanos(issuedAt)) {
      return yield* invalid("delegation.expires_at must be after issued_at")
    }
    const out: Record<string, Json> = { requester_identity: requester }
    put(out, "scope_class", lowerTrim(d.scope_class ?? ""))
    put(out, "token_refs", uniqueSorted(d.token_refs))
    put(out, "chain", chain)
    out.issued_at = issuedAt
    out.expires_at = expiresAt
    return out
  })

export const MAX_SCRIPT_STEPS = 64

const normalizeScript = (
  steps: ReadonlyArray<NonNullable<NonNullable<IntentRequest["script"]>["steps"]>[number]>
): Result<Array<NormalizedScriptStep>> =>
  Either.gen(function* () {
    if (steps.length === 0) return yield* invalid("script.steps must not be empty")
    if (steps.length > MAX_SCRIPT_STEPS) {
      return yield* invalid(`script.steps exceeds max supported steps (${MAX_SCRIPT_STEPS})`)
    }
    const out: Array<NormalizedScriptStep> = []
    for (const [i, step] of steps.entries()) {
      const toolName = lowerTrim(step.tool_name ?? "")
      if (toolName === "") return yield* invalid(`script.steps[${i}].tool_name is required`)
      const label = `script.steps[${i}].args`
      const args = yield* normalizeArgs(step.args, label, label)
      const targets = yield* normalizeTargets(step.targets ?? [], toolName, `normalize ${`script.steps[${i}]`}.targets: `)
      const provenance = yield* normalizeProvenance(step.arg_provenance ?? [], `normalize script.steps[${i}].arg_provenance: `)
      const entry: Record<string, Json> = { tool_name: toolName, args }
      put(entry, "targets", targets as unknown as Json)
      put(entry, "arg_provenance", provenance as unknown as Json)
      out.push(entry as unknown as NormalizedScriptStep)
    }
    return out
  })

const asDigestInput = (e: { readonly message: string }) => new IntentInvalid({ detail: e.message })

/** Normalizes a decoded intent request into `N` (spec §2.2, errors in the reference's order). */
export const normalizeIntent = (request: IntentRequest): Result<NormalizedIntent> =>
  Either.gen(function* () {
    let steps: Array<NormalizedScriptStep> | undefined
    if (request.script !== null && request.script !== undefined) steps = yield* normalizeScript(request.script.steps ?? [])
    const toolName = steps !== undefined ? "script" : lowerTrim(request.tool_name ?? "")
    if (toolName === "") return yield* invalid("tool_name is required")
    const args = yield* normalizeArgs(request.args, "args", "args")

    const rawTargets = request.targets ?? []
    const targets =
      steps !== undefined && rawTargets.length === 0
        ? sortUnique(
            steps.flatMap((s) => s.targets ?? []),
            targetKey
          )
        : yield* normalizeTargets(rawTargets, toolName, "")
    const rawProvenance = request.arg_provenance ?? []
    const provenance =
      steps !== undefined && rawProvenance.length === 0
        ? sortUnique(
            steps.flatMap((s) => s.arg_provenance ?? []),
            provenanceKey
          )
        : yield* normalizeProvenance(rawProvenance, "")
    const skill =
      request.skill_provenance === null || request.skill_provenance === undefined
        ? undefined
        : yield* normalizeSkill(request.skill_provenance)
    const context = yield* normalizeContext(request.context)
    const delegation =
      request.delegation === null || request.delegation === undefined
        ? undefined
        : yield* normalizeDelegation(request.delegation)

    const out: Record<string, Json> = { tool_name: toolName, args }
    if (steps !== undefined) {
      const script = { steps: steps as unknown as Json }
      out.script_hash = yield* Either.mapLeft(digestJson(script), asDigestInput)
      out.script = script
    }
    out.targets = targets as unknown as Json
    put(out, "arg_provenance", provenance as unknown as Json)
    if (skill !== undefined) out.skill_provenance = skill
    if (delegation !== undefined) out.delegation = delegation
    out.context = context as unknown as Json
    return out as unknown as NormalizedIntent
  })

/**
 * Without a verified context envelope, context-evidence claims in the intent are stripped (§2.7):
 * a raw claim must never satisfy a policy that requires evidence.
 */
export const stripUnverifiedContextClaims = (intent: NormalizedIntent): NormalizedIntent => {
  const {
    context_set_digest: _digest,
    context_evidence_mode: _mode,
    context_refs: _refs,
    auth_context,
    ...context
  } = intent.context
  const out: Record<string, Json | undefined> = { ...context }
  if (auth_context !== undefined && auth_context !== null && typeof auth_context === "object" && !Array.isArray(auth_context)) {
    const { context_age_seconds: _age, ...rest } = auth_context as JsonObject
    if (Object.keys(rest).length > 0) out.auth_context = rest
  }
  return { ...intent, context: out as NormalizedContext }
}

const createdAtOf = (raw: string | null | undefined): Either.Either<string, IntentInvalid> => {
  const text = trim(raw ?? "")
  if (text === "") return Either.right(DEFAULT_CREATED_AT)
  const parsed = parseRfc3339(text)
  if (Option.isNone(parsed)) return invalid("created_at must be an RFC3339 timestamp")
  return Either.right(parsed.value === timeNanos(GO_ZERO_TIME) ? DEFAULT_CREATED_AT : formatRfc3339Nano(parsed.value))
}

/** Normalize, strip unverified claims, digest: the intent the gate evaluates and signs (§2.7). */
export const prepareIntent = (request: IntentRequest): Result<PreparedIntent> =>
  Either.gen(function* () {
    const createdAt = yield* createdAtOf(request.created_at)
    const body = stripUnverifiedContextClaims(yield* normalizeIntent(request))
    const intentDigest = yield* Either.mapLeft(digestJson(body), asDigestInput)
    const argsDigest = yield* Either.mapLeft(digestJson(body.args), asDigestInput)
    return { body, intentDigest, argsDigest, createdAt }
  })

/** Reads a context string field of a normalized intent ("" when absent). */
export const contextString = (intent: NormalizedIntent, field: string): string => {
  const v = intent.context[field]
  return typeof v === "string" ? v : ""
}
