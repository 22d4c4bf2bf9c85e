/**
 * The `Traces` service: build the signed `gait.gate.trace` record of a decision and write it durably
 * (atomic write, fsync, 0600). Default file names carry the event id, and are created with a
 * no-clobber link, so a repeated decision never overwrites an earlier record of the audit trail.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Clock, Context, Effect, Either, Layer, Ref } from "effect"
import * as NodePath from "node:path"
import type { CanonicalJsonError } from "../kernel/canonical-json.js"
import { ArtifactWriteFailed } from "../kernel/errors.js"
import { type AtomicWriteOptions, ensureDirectory, writeFileAtomic } from "../kernel/files.js"
import { eventIdOf } from "../kernel/ids.js"
import { renderJsonFile } from "../kernel/json-output.js"
import { cleanPath } from "../kernel/text.js"
import { encodeBase64, SignatureAlg, signableDigest } from "../kernel/signing.js"
import { formatRfc3339Nano } from "../kernel/time.js"
import type { SigningFailed } from "../keys/errors.js"
import { Keys } from "../keys/keys.js"
import { VERSION } from "../version.js"
import type { Decision } from "./decision.js"
import { TracePathInvalid } from "./errors.js"
import type { PreparedIntent } from "./intent.js"
import { POLICY_SCHEMA_ID, POLICY_SCHEMA_VERSION } from "./policy.js"
import { TRACE_SCHEMA_ID, TRACE_SCHEMA_VERSION, type TraceRecord } from "./trace.js"

export type TraceDestination =
  /** A path the caller chose: replaced atomically if it exists. */
  | { readonly _tag: "Path"; readonly path: string }
  /** `trace_<trace_id>_<event_id>.json` in a directory, never overwriting. */
  | { readonly _tag: "Directory"; readonly dir: string }

export interface EmitRequest {
  readonly decision: Decision
  readonly intent: PreparedIntent
  readonly destination: TraceDestination
  readonly correlationId?: string | undefined
  readonly latencyMs?: number | undefined
}

export interface EmittedTrace {
  readonly record: TraceRecord
  readonly path: string
}

export type EmitError = ArtifactWriteFailed | TracePathInvalid | SigningFailed | CanonicalJsonError

export interface TracesApi {
  readonly emit: (request: EmitRequest) => Effect.Effect<EmittedTrace, EmitError>
}

export class Traces extends Context.Tag("gait/Traces")<Traces, TracesApi>() {}

/** §7.4: trimmed and cleaned; empty, `.`, `/` and relative paths that climb out are refused. */
export const validateTracePath = (raw: string): Either.Either<string, TracePathInvalid> => {
  const trimmed = raw.trim()
  const cleaned = cleanPath(trimmed)
  if (trimmed === "" || cleaned === "." || cleaned === "/") {
    return Either.left(new TracePathInvalid({ path: raw, detail: "trace path is required" }))
  }
  if (!cleaned.startsWith("/") && cleaned.split("/").includes("..")) {
    return Either.left(
      new TracePathInvalid({ path: raw, detail: "relative trace path must not traverse parent directories" })
    )
  }
  return Either.right(cleaned)
}

const CONTEXT_COPIED_FIELDS = [
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
  "credential_subject",
  "credential_owner",
  "credential_target_binding",
  "credential_run_binding",
  "credential_job_binding",
  "credential_ttl_seconds"
] as const
const CONTEXT_REF_FIELDS = ["approval_ref", "wrkr_inventory_ref", "agent_action_bom_ref"] as const

/** The unsigned record, fields in the reference's struct order. */
export const buildTraceRecord = (
  request: EmitRequest,
  observedAt: string
): Omit<TraceRecord, "signature"> => {
  const { decision, intent } = request
  const ctx = intent.body.context
  const out: Record<string, unknown> = {
    schema_id: TRACE_SCHEMA_ID,
    schema_version: TRACE_SCHEMA_VERSION,
    created_at: intent.createdAt,
    observed_at: observedAt,
    producer_version: VERSION,
    trace_id: decision.traceId,
    event_id: eventIdOf(decision.traceId, observedAt),
    correlation_id: request.correlationId,
    tool_name: intent.body.tool_name,
    args_digest: intent.argsDigest,
    intent_digest: intent.intentDigest,
    policy_digest: decision.policyDigest
  }
  for (const f of CONTEXT_COPIED_FIELDS) out[f] = ctx[f]
  for (const f of CONTEXT_REF_FIELDS) out[f] = ctx[f]
  out.policy_id = POLICY_SCHEMA_ID
  out.policy_version = POLICY_SCHEMA_VERSION
  const script = decision.outcome.script
  if (script !== undefined) {
    const ids = new Set<string>()
    for (const s of script.stepVerdicts) for (const id of (s.matched_rule ?? "").split(",")) if (id.trim() !== "") ids.add(id.trim())
    if (ids.size > 0) out.matched_rule_ids = [...ids].sort()
  }
  out.verdict = decision.verdict
  if (script !== undefined) {
    out.script = true
    out.step_count = script.stepCount
    out.script_hash = intent.body.script_hash
    out.composite_risk_class = script.compositeRiskClass
    out.step_verdicts = script.stepVerdicts
  }
  if (decision.violations.length > 0) out.violations = decision.violations
  if (request.latencyMs !== undefined && request.latencyMs > 0) out.latency_ms = request.latencyMs
  if (decision.outcome.freezeWindow !== undefined) out.freeze_window = decision.outcome.freezeWindow
  if (decision.outcome.sandbox !== undefined) out.sandbox = decision.outcome.sandbox
  if (intent.body.skill_provenance !== undefined) out.skill_provenance = intent.body.skill_provenance
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key]
  return out as Omit<TraceRecord, "signature">
}

const MAX_NAME_ATTEMPTS = 8

export const make = Effect.gen(function* () {
  const keys = yield* Keys
  const fs = yield* FileSystem.FileSystem
  // Distinct observed_at per emission even when the clock does not advance between two calls.
  const lastNanos = yield* Ref.make(0n)
  const nextObservedAt = Effect.flatMap(Clock.currentTimeNanos, (now) =>
    Ref.modify(lastNanos, (last) => {
      const next = now > last ? now : last + 1n
      return [formatRfc3339Nano(next), next]
    })
  )
  const sign = (unsigned: Omit<TraceRecord, "signature">) =>
    Effect.gen(function* () {
      const digestHex = yield* signableDigest(unsigned)
      const sig = yield* keys.signDigest(Buffer.from(digestHex, "hex"))
      const record: TraceRecord = {
        ...unsigned,
        signature: { alg: SignatureAlg, key_id: keys.keyId, sig: encodeBase64(sig), signed_digest: digestHex }
      }
      return record
    })

  // Directories this service has created or found: a server emitting into one directory should not
  // pay a mkdir per decision. A directory removed later is created again on the failed write's retry.
  const knownDirectories = new Set<string>()
  const writeInto = (dir: string, path: string, content: string, options: AtomicWriteOptions) => {
    const ensure = Effect.tap(ensureDirectory(dir), () => Effect.sync(() => knownDirectories.add(dir)))
    const write = writeFileAtomic(path, content, options)
    return knownDirectories.has(dir)
      ? write.pipe(
          Effect.catchIf(
            (e) => e.stage === "create_temp",
            () => Effect.sync(() => knownDirectories.delete(dir)).pipe(Effect.zipRight(ensure), Effect.zipRight(write))
          )
        )
      : Effect.zipRight(ensure, write)
  }

  const emit = (request: EmitRequest) =>
    Effect.gen(function* () {
      const destination = request.destination
      if (destination._tag === "Path") {
        const path = yield* validateTracePath(destination.path)
        const record = yield* sign(buildTraceRecord(request, yield* nextObservedAt))
        yield* writeInto(NodePath.dirname(path), path, renderJsonFile(record), { mode: 0o600 })
        return { record, path: destination.path.trim() }
      }
      for (let attempt = 1; ; attempt++) {
        const record = yield* sign(buildTraceRecord(request, yield* nextObservedAt))
        const path = NodePath.join(destination.dir, `trace_${record.trace_id}_${record.event_id}.json`)
        const written = yield* writeInto(destination.dir, path, renderJsonFile(record), { mode: 0o600, ifExists: "create" })
        if (written === "written") return { record, path }
        if (attempt >= MAX_NAME_ATTEMPTS) {
          return yield* new ArtifactWriteFailed({ path, stage: "link", detail: "no unused trace file name after retries" })
        }
      }
    }).pipe(Effect.provideService(FileSystem.FileSystem, fs), Effect.withSpan("Traces.emit"))

  return { emit } satisfies TracesApi
})

export const layer: Layer.Layer<Traces, never, Keys | FileSystem.FileSystem> = Layer.effect(Traces, make)
