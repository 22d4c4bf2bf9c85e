/**
 * gait as a library: schemas, services, layers and error types. The CLI (`src/cli`) is one edge over
 * these; an integrator composes the same layers, or replaces one (a KMS-backed `Keys`, a remote
 * `Gate`) and keeps the rest.
 */

// Shared primitives
export { type Json, CanonicalJsonError, canonicalize } from "./kernel/canonical-json.js"
export { digestJson, isSha256Hex, sha256Hex } from "./kernel/digest.js"
export { formatGoDuration, parseGoDuration } from "./kernel/duration.js"
export { ArtifactWriteFailed, InputUnreadable, UsageError } from "./kernel/errors.js"
export { readBoundedText, writeFileAtomic, type AtomicWriteOptions } from "./kernel/files.js"
export { correlationIdOf, eventIdOf, traceIdOf } from "./kernel/ids.js"
export {
  decodeBase64Strict,
  type Ed25519KeyPair,
  encodeBase64,
  generateKeyPair,
  keyIdOf,
  keyPairFromPrivateKey,
  Signature,
  signableDigest,
  verifySignedDocument,
  type VerifyProblem
} from "./kernel/signing.js"
export { formatRfc3339Nano, parseRfc3339 } from "./kernel/time.js"

// Keys
export { KeyInvalid, SigningFailed } from "./keys/errors.js"
export * as KeysLayers from "./keys/keys.js"
export { DEV_MODE_WARNING, Keys, type KeyMode, type KeysApi } from "./keys/keys.js"

// Project config
export { ConfigInvalid } from "./config/errors.js"
export { DEFAULT_CONFIG_PATH, loadProjectConfig, parseConfigText, type LoadedConfig } from "./config/config.js"
export { ProjectConfig } from "./config/schema.js"

// Gate
export {
  IntentInvalid,
  IntentUnparsable,
  PolicyInvalid,
  PolicyLegacyFields,
  PolicyUnparsable,
  ProfileViolation,
  RawCredentialRejected,
  TracePathInvalid,
  UnsupportedFeature
} from "./gate/errors.js"
export { IntentRequest } from "./gate/intent-schema.js"
export { type NormalizedIntent, type PreparedIntent, normalizeIntent, prepareIntent } from "./gate/intent.js"
export { PolicyInput } from "./gate/policy-schema.js"
export { type LoadedPolicy, loadPolicyText, type Policy, type PolicyRule, policyDigestPayload } from "./gate/policy.js"
export { evaluatePolicy, type Outcome } from "./gate/evaluate.js"
export { type Decision, type DecisionRequest, decide, exitCodeOf, type Profile } from "./gate/decision.js"
export { Gate, type GateApi, layer as GateLive, parseIntentText } from "./gate/gate.js"
export { TraceRecord } from "./gate/trace.js"
export {
  buildTraceRecord,
  type EmitRequest,
  type EmittedTrace,
  layer as TracesLive,
  type TraceDestination,
  Traces,
  type TracesApi
} from "./gate/traces.js"
export { type Verdict, VERDICTS } from "./gate/vocabulary.js"

// Sessions
export {
  LockDiagnostic,
  LockProfile,
  SessionChainInvalid,
  SessionIdentityMismatch,
  SessionJournalInvalid,
  SessionJournalMissing,
  SessionLockContention,
  SessionLockFailed,
  SessionNoNewEvents,
  SessionPathInvalid
} from "./session/errors.js"
export { RunpackInvalid } from "./session/errors-runpack.js"
export { type LockSettings, resolveLockSettings } from "./session/lock-config.js"
export { layerFile as SessionLockFile, layerMemory as SessionLockMemory, SessionLock, type SessionLockApi } from "./session/lock.js"
export { buildRunpack, checkpointRunpack, verifyRunpack, type RunpackVerification } from "./session/runpack.js"
export {
  SessionChain,
  SessionCheckpoint,
  SessionEvent,
  SessionHeader,
  SessionState,
  type SessionStatus
} from "./session/schema.js"
export {
  type AppendInput,
  type CheckpointOptions,
  type CheckpointResult,
  type CompactionReport,
  type CompactOptions,
  layerFile as SessionStoreFile,
  SessionStore,
  type SessionStoreApi,
  type SessionStoreError
} from "./session/store.js"
export { type ChainVerification, verifySessionChain } from "./session/verify.js"

// Project posture and telemetry
export { adoptionReport } from "./doctor/adoption.js"
export { type CheckResult, DANGEROUS_INTENT } from "./doctor/checks.js"
export { Doctor, type DoctorOptions, type DoctorResult, layer as DoctorLive, runDoctor } from "./doctor/doctor.js"
export { initProduction, PRODUCTION_CONFIG, PRODUCTION_POLICY } from "./init/production.js"
export { AppendFailed, AppendLockTimeout, appendLineLocked } from "./kernel/append.js"
export { TelemetryEventInvalid, TelemetryLogInvalid } from "./telemetry/errors.js"
export { loadAdoptionEvents, loadOperationalEvents } from "./telemetry/load.js"
export { AdoptionEvent, OperationalEvent, TelemetryHealth } from "./telemetry/schema.js"
export * as TelemetryLayers from "./telemetry/telemetry.js"

// Diagnostics: the one error → exit code / envelope table
export { type Diagnostic, diagnose, type ErrorCategory, type GaitError, isGaitError, rules } from "./diagnostics/diagnostics.js"

export { VERSION } from "./version.js"
