/**
 * The one table from error to exit code, HTTP status and JSON envelope. Every error that can reach
 * an edge (CLI or HTTP) is a member of `GaitError`, and `rules` must have exactly one row per tag:
 * adding an error class without a row fails type-checking.
 */
import type { ConfigInvalid } from "../config/errors.js"
import type { CanonicalJsonError } from "../kernel/canonical-json.js"
import type { ArtifactWriteFailed, InputUnreadable, UsageError } from "../kernel/errors.js"
import type { ErrorCategory } from "../kernel/exit-codes.js"
import type { KeyInvalid, SigningFailed } from "../keys/errors.js"
import type {
  IntentInvalid,
  IntentUnparsable,
  PolicyInvalid,
  PolicyLegacyFields,
  PolicyUnparsable,
  ProfileViolation,
  RawCredentialRejected,
  TracePathInvalid,
  UnsupportedFeature
} from "../gate/errors.js"
import type {
  SessionChainInvalid,
  SessionIdentityMismatch,
  SessionJournalInvalid,
  SessionJournalMissing,
  SessionLockContention,
  SessionLockFailed,
  SessionNoNewEvents,
  SessionPathInvalid
} from "../session/errors.js"
import type { RunpackInvalid } from "../session/errors-runpack.js"
import type { AppendFailed, AppendLockTimeout } from "../kernel/append.js"
import type { TelemetryEventInvalid, TelemetryLogInvalid } from "../telemetry/errors.js"
import type { ToolCallInvalid } from "../mcp/toolcall.js"
import type { RequestRejected, RequestTooLarge, ServeConfigInvalid } from "../serve/errors.js"

export type GaitError =
  | UsageError
  | ConfigInvalid
  | InputUnreadable
  | ArtifactWriteFailed
  | CanonicalJsonError
  | KeyInvalid
  | SigningFailed
  | IntentUnparsable
  | IntentInvalid
  | RawCredentialRejected
  | PolicyUnparsable
  | PolicyLegacyFields
  | PolicyInvalid
  | ProfileViolation
  | UnsupportedFeature
  | TracePathInvalid
  | SessionLockContention
  | SessionLockFailed
  | SessionPathInvalid
  | SessionJournalMissing
  | SessionJournalInvalid
  | SessionIdentityMismatch
  | SessionNoNewEvents
  | SessionChainInvalid
  | RunpackInvalid
  | AppendFailed
  | AppendLockTimeout
  | TelemetryEventInvalid
  | TelemetryLogInvalid
  | ToolCallInvalid
  | RequestRejected
  | RequestTooLarge
  | ServeConfigInvalid

export type { ErrorCategory }

export interface Rule<E> {
  readonly exitCode: number
  /** A fixed status, or one chosen per error (request rejections carry their own). */
  readonly httpStatus: number | ((e: E) => number)
  readonly code: string
  readonly category: ErrorCategory
  readonly retryable: boolean
  readonly hint: (e: E) => string
  /** Extra envelope members beyond the error's own fields (e.g. migration metadata). */
  readonly extra?: (e: E) => Record<string, unknown>
}

const USAGE_HINT = "check command usage and input schema"

const invalidInput = <E>(code: string, hint: (e: E) => string, extra?: (e: E) => Record<string, unknown>): Rule<E> => ({
  exitCode: 6,
  httpStatus: 400,
  code,
  category: "invalid_input",
  retryable: false,
  hint,
  ...(extra === undefined ? {} : { extra })
})

const LEGACY_POLICY_HINT =
  "use the repo-root `.gait.yaml` contract: `schema_id`, `schema_version`, `default_verdict`, optional `fail_closed`, optional `mcp_trust`, and `rules`"

export const rules: { readonly [K in GaitError["_tag"]]: Rule<Extract<GaitError, { readonly _tag: K }>> } = {
  UsageError: invalidInput("invalid_input", () => USAGE_HINT),
  ConfigInvalid: invalidInput("config_invalid", (e) =>
    e.line === undefined ? `fix ${e.path} or pass --no-config` : `fix ${e.path} at line ${e.line} or pass --no-config`
  ),
  InputUnreadable: invalidInput("input_unreadable", (e) =>
    e.reason === "too_large"
      ? `the ${e.kind} file exceeds ${e.limit_bytes ?? "the"} bytes; pass a smaller file`
      : `check that the ${e.kind} path exists, is a regular file and is readable`
  ),
  ArtifactWriteFailed: {
    exitCode: 1,
    httpStatus: 500,
    code: "artifact_write_failed",
    category: "io_failure",
    retryable: false,
    hint: (e) => `check that the directory of ${e.path} exists, is writable and has free space`
  },
  CanonicalJsonError: invalidInput("canonical_json_invalid", () => "remove lone surrogates and non-finite numbers from the input"),
  KeyInvalid: invalidInput("key_invalid", (e) =>
    e.reason === "unsupported_mode"
      ? "use --key-mode dev or --key-mode prod"
      : e.reason === "dev_mode_explicit_source" || e.reason === "missing_source" || e.reason === "ambiguous_source"
        ? "use --key-mode prod with exactly one of --private-key <file> or --private-key-env <VAR>"
        : "provide the standard base64 of a 64-byte Ed25519 private key (gait keys init writes one)"
  ),
  SigningFailed: {
    exitCode: 1,
    httpStatus: 500,
    code: "signing_failed",
    category: "internal_failure",
    retryable: false,
    hint: () => "retry after checking the signing key provider"
  },
  IntentUnparsable: invalidInput("intent_unparsable", () => "the intent must be one JSON object (gait.gate.intent_request 1.0.0)"),
  IntentInvalid: invalidInput("intent_invalid", () => USAGE_HINT),
  RawCredentialRejected: invalidInput(
    "raw_credential_rejected",
    (e) => `replace the secret at ${e.at} with a reference (env:, ref:, sha256:) or drop it`
  ),
  PolicyUnparsable: invalidInput("policy_unparsable", (e) =>
    e.line === undefined ? `fix the YAML in ${e.path}` : `fix ${e.path} at line ${e.line}, column ${e.column ?? 1}`
  ),
  PolicyLegacyFields: invalidInput("policy_legacy_fields", () => LEGACY_POLICY_HINT, (e) => ({
    migration: { kind: "policy_fields", deprecated_fields: e.deprecated_fields, field_replacements: e.field_replacements }
  })),
  PolicyInvalid: invalidInput("policy_invalid", (e) => `fix ${e.path}: ${e.detail}`),
  ProfileViolation: invalidInput("profile_violation", () => "meet the profile requirement or use --profile standard"),
  UnsupportedFeature: invalidInput(
    "unsupported_feature",
    (e) => `this build does not enforce ${e.feature}; remove it from the policy or the command line`
  ),
  TracePathInvalid: invalidInput("trace_path_invalid", () => "pass a file path that stays inside the working tree, or an absolute path"),
  SessionLockContention: {
    exitCode: 1,
    httpStatus: 503,
    code: "session_lock_contention",
    category: "state_contention",
    retryable: true,
    hint: (e) =>
      e.lock.holder_readable
        ? `another process holds ${e.lock.path}; retry, or raise GAIT_SESSION_LOCK_TIMEOUT (now ${e.lock.timeout_ms}ms)${e.lock.profile === "swarm" ? "" : " or use GAIT_SESSION_LOCK_PROFILE=swarm for many concurrent writers"}`
        : `${e.lock.path} has no readable holder metadata, so it is never treated as stale; if no gait process is running on this journal, remove it`
  },
  SessionLockFailed: {
    exitCode: 1,
    httpStatus: 500,
    code: "session_lock_failed",
    category: "io_failure",
    retryable: false,
    hint: (e) => `check that the directory of ${e.path} exists and is writable`
  },
  SessionPathInvalid: invalidInput("session_path_invalid", () => "pass a path inside the working tree, or an absolute path"),
  SessionJournalMissing: invalidInput("session_journal_missing", () => "create the journal first: gait run session start --journal <path> --session-id <id> --run-id <id>"),
  SessionJournalInvalid: invalidInput("session_journal_invalid", (e) =>
    e.line === undefined ? `inspect ${e.path}` : `inspect ${e.path} at line ${e.line}; only a torn final record is repaired automatically`
  ),
  SessionIdentityMismatch: invalidInput("session_identity_mismatch", (e) => `${e.path} belongs to session ${e.existing_session_id} run ${e.existing_run_id}; use another journal`),
  SessionNoNewEvents: invalidInput("session_no_new_events", () => "append events before the next checkpoint"),
  SessionChainInvalid: invalidInput("session_chain_invalid", (e) => `check that ${e.path} is a session chain written by gait run session checkpoint`),
  AppendFailed: {
    exitCode: 1,
    httpStatus: 500,
    code: "append_failed",
    category: "io_failure",
    retryable: false,
    hint: (e) => `check that the directory of ${e.path} exists and is writable`
  },
  AppendLockTimeout: {
    exitCode: 1,
    httpStatus: 503,
    code: "append_lock_timeout",
    category: "state_contention",
    retryable: true,
    hint: (e) => `another writer held ${e.lock_path}; retry, or remove it if no gait process is running`
  },
  TelemetryEventInvalid: invalidInput("telemetry_event_invalid", () => "report this: gait built an event its own log rejects"),
  TelemetryLogInvalid: invalidInput("telemetry_log_invalid", (e) =>
    e.line === undefined ? `check that ${e.path} exists and is a gait ${e.log} log` : `inspect ${e.path} at line ${e.line}`
  ),
  ToolCallInvalid: invalidInput("tool_call_invalid", (e) =>
    e.detail.startsWith("unsupported adapter")
      ? "use --adapter mcp, openai, anthropic, langchain or claude_code"
      : e.adapter === ""
        ? "check the tool call's name, context and targets"
        : `check that the payload is a ${e.adapter} tool call`
  ),
  RequestRejected: {
    exitCode: 6,
    httpStatus: (e) => e.status,
    code: "request_rejected",
    category: "invalid_input",
    retryable: false,
    hint: (e) =>
      e.status === 401
        ? "send Authorization: Bearer <token>"
        : e.status === 405
          ? "use the method the route expects"
          : e.status === 415
            ? "send content-type: application/json"
            : e.status === 408
              ? "send the whole request promptly (headers within 5 s, the request within 30 s)"
              : e.status === 431
                ? "send smaller request headers"
                : "send one JSON object: {\"call\": {...}} in the adapter's shape"
  },
  RequestTooLarge: {
    exitCode: 6,
    httpStatus: 413,
    code: "request_too_large",
    category: "invalid_input",
    retryable: false,
    hint: (e) => `send at most ${e.limit_bytes} bytes or raise max_request_bytes`
  },
  ServeConfigInvalid: invalidInput("serve_config_invalid", () => "fix the mcp serve flags or mcp_serve.* in .gait/config.yaml"),
  RunpackInvalid: invalidInput("runpack_invalid", (e) =>
    e.reason === "duplicate_entries" ? "rebuild the artifact so each zip path is unique" : "check that the file is a runpack written by gait"
  )
}

export const ruleOf = <E extends GaitError>(e: E): Rule<E> => rules[e._tag as E["_tag"]] as unknown as Rule<E>

export interface Diagnostic {
  readonly exitCode: number
  readonly httpStatus: number
  /** The JSON envelope: the error's own fields plus `ok`, `error` and the classification. */
  readonly body: Record<string, unknown>
}

/** Renders an error through its row. */
export const diagnose = (e: GaitError, correlationId: string | undefined): Diagnostic => {
  const rule = ruleOf(e)
  // `detail` is already part of `error` (the message); every other typed field is kept.
  const { _tag: _, detail: _detail, ...fields } = e as unknown as Record<string, unknown>
  return {
    exitCode: rule.exitCode,
    httpStatus: typeof rule.httpStatus === "number" ? rule.httpStatus : rule.httpStatus(e),
    body: {
      ...fields,
      ...(rule.extra?.(e) ?? {}),
      ok: false,
      error: e.message,
      error_code: rule.code,
      error_category: rule.category,
      retryable: rule.retryable,
      hint: rule.hint(e),
      ...(correlationId === undefined ? {} : { correlation_id: correlationId })
    }
  }
}

/** Envelope for a failure that is a defect (a bug), never a typed error: exit 1, no internals leaked. */
export const diagnoseDefect = (correlationId: string | undefined): Diagnostic => ({
  exitCode: 1,
  httpStatus: 500,
  body: {
    ok: false,
    error: "unexpected failure",
    error_code: "internal_failure",
    error_category: "internal_failure",
    retryable: false,
    hint: "retry after checking local environment and logs",
    ...(correlationId === undefined ? {} : { correlation_id: correlationId })
  }
})

const isGaitErrorTag = (tag: unknown): tag is GaitError["_tag"] => typeof tag === "string" && Object.hasOwn(rules, tag)

export const isGaitError = (u: unknown): u is GaitError =>
  u !== null && typeof u === "object" && isGaitErrorTag((u as { readonly _tag?: unknown })._tag)
