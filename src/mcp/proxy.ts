/**
 * The evaluation pipeline shared by `gait mcp proxy` and (later) `gait mcp serve` (spec mcp.md §3):
 * decode the call with its adapter, convert it into an intent, decide through the same `Gate`
 * service as `gate eval`, sign and write the trace through `Traces`, then append the optional log
 * and OTel-shaped exports under the shared locked append. Nothing is executed: `executed` is false.
 */
import { Clock, Effect, Option } from "effect"
import type { Decision, Profile } from "../gate/decision.js"
import { Gate } from "../gate/gate.js"
import { prepareIntent } from "../gate/intent.js"
import { POLICY_SCHEMA_ID, POLICY_SCHEMA_VERSION } from "../gate/policy.js"
import { checkProfilePolicy } from "../gate/profile.js"
import { type TraceDestination, Traces } from "../gate/traces.js"
import { appendLineLocked } from "../kernel/append.js"
import { renderJsonRecord } from "../kernel/json-output.js"
import { Keys } from "../keys/keys.js"
import { VERSION } from "../version.js"
import { parseRfc3339 } from "../kernel/time.js"
import {
  CONTEXT_FALLBACK_WARNING,
  decodeToolCall,
  toIntentRequest,
  ToolCallInvalid,
  usedContextFallback
} from "./toolcall.js"

export interface ProxyRequest {
  readonly adapter: string
  readonly payload: string
  readonly policyPath: string
  readonly profile: Profile
  readonly runId?: string | undefined
  readonly traceOut?: string | undefined
  /** Directory for default trace names when `traceOut` is not given (default: the working directory). */
  readonly traceDir?: string | undefined
  readonly exportLogOut?: string | undefined
  readonly exportOtelOut?: string | undefined
  readonly correlationId?: string | undefined
}

export interface ProxyDecision {
  readonly ok: true
  readonly executed: false
  readonly adapter: string
  readonly run_id: string
  readonly job_id?: string
  readonly phase?: string
  readonly session_id?: string
  readonly tool_name: string
  readonly verdict: Decision["verdict"]
  readonly reason_codes?: ReadonlyArray<string>
  readonly violations?: ReadonlyArray<string>
  readonly policy_digest: string
  readonly intent_digest: string
  readonly policy_id: string
  readonly policy_version: string
  readonly decision_latency_ms?: number
  readonly trace_id: string
  readonly event_id?: string
  readonly trace_path: string
  readonly log_export?: string
  readonly otel_export?: string
  readonly warnings?: ReadonlyArray<string>
  /** Process exit code of the verdict (block 3, require_approval 4, else 0). */
  readonly exit_code: 0 | 3 | 4
}

/** §3 step 14: runs of characters outside [A-Za-z0-9_-] become `_`, trimmed of `_`, prefixed `run_`. */
export const normalizeRunId = (raw: string | null | undefined): string => {
  const cleaned = (raw ?? "").trim().replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "")
  if (cleaned === "") return ""
  return cleaned.startsWith("run_") ? cleaned : `run_${cleaned}`
}

const omitEmpty = <A extends Record<string, unknown>>(value: A): A =>
  Object.fromEntries(
    Object.entries(value).filter(
      ([, v]) => v !== undefined && v !== "" && v !== 0 && !(Array.isArray(v) && v.length === 0)
    )
  ) as A

export const evaluateToolCallPayload = Effect.fn("Mcp.evaluate")(function* (request: ProxyRequest) {
  const started = yield* Clock.currentTimeNanos
  const adapter = request.adapter.trim().toLowerCase() || "mcp"
  const call = yield* decodeToolCall(request.adapter, request.payload)
  if ((call.context?.context_envelope_path ?? "").trim() !== "") {
    return yield* new ToolCallInvalid({
      adapter,
      detail: "call.context.context_envelope_path is not supported; use --context-envelope at the boundary"
    })
  }
  const gate = yield* Gate
  const policy = yield* gate.loadPolicy(request.policyPath)
  yield* checkProfilePolicy(request.profile, policy.policy)
  const intentRequest = yield* toIntentRequest(call, { strict: request.profile === "oss-prod" })
  const intent = yield* prepareIntent(intentRequest)
  const decision = yield* gate.decide({ policy, intent, simulate: false, now: started })
  const ctx = intent.body.context
  const runId =
    normalizeRunId(request.runId) ||
    normalizeRunId(call.context?.run_id) ||
    `run_mcp_${intent.intentDigest.slice(0, 12)}`
  const latencyMs = Number((yield* Clock.currentTimeNanos) - started) / 1e6
  const destination: TraceDestination =
    request.traceOut === undefined ? { _tag: "Directory", dir: request.traceDir ?? "." } : { _tag: "Path", path: request.traceOut }
  const traces = yield* Traces
  const trace = yield* traces.emit({ decision, intent, destination, latencyMs, correlationId: request.correlationId })

  const sessionId = typeof ctx.session_id === "string" ? ctx.session_id : ""
  const exportEvent = {
    created_at: intent.createdAt,
    producer_version: VERSION,
    run_id: runId,
    session_id: sessionId,
    trace_id: decision.traceId,
    trace_path: trace.path,
    tool_name: intent.body.tool_name,
    verdict: decision.verdict,
    reason_codes: decision.reasonCodes,
    policy_digest: decision.policyDigest,
    intent_digest: decision.intentDigest,
    decision_latency_ms: Math.trunc(latencyMs)
  }
  if (request.exportLogOut !== undefined) {
    const { session_id, trace_path, reason_codes, decision_latency_ms, ...required } = exportEvent
    const line = {
      created_at: required.created_at,
      producer_version: required.producer_version,
      run_id: required.run_id,
      ...omitEmpty({ session_id }),
      trace_id: required.trace_id,
      ...omitEmpty({ trace_path }),
      tool_name: required.tool_name,
      verdict: required.verdict,
      ...omitEmpty({ reason_codes }),
      policy_digest: required.policy_digest,
      intent_digest: required.intent_digest,
      ...omitEmpty({ decision_latency_ms })
    }
    yield* appendLineLocked(request.exportLogOut, renderJsonRecord(line))
  }
  if (request.exportOtelOut !== undefined) {
    const createdNanos = Option.getOrElse(parseRfc3339(intent.createdAt), () => 0n)
    const attributes = {
      "gait.decision_latency_ms": exportEvent.decision_latency_ms,
      "gait.delegation_depth": 0,
      "gait.delegation_ref": "",
      "gait.intent_digest": exportEvent.intent_digest,
      "gait.policy_digest": exportEvent.policy_digest,
      "gait.reason_codes": exportEvent.reason_codes.length === 0 ? null : exportEvent.reason_codes,
      "gait.run_id": exportEvent.run_id,
      "gait.session_id": exportEvent.session_id,
      "gait.tool_name": exportEvent.tool_name,
      "gait.trace_path": exportEvent.trace_path,
      "gait.verdict": exportEvent.verdict
    }
    // time_unix_nano can exceed 2^53, so it is spliced in as a bigint literal rather than a JS number.
    const body = renderJsonRecord({
      attributes,
      body: "gait.mcp.proxy.decision",
      severity_text: "INFO",
      time_unix_nano: "__TIME__",
      trace_id: exportEvent.trace_id
    }).replace('"__TIME__"', createdNanos.toString())
    yield* appendLineLocked(request.exportOtelOut, body)
  }

  const keys = yield* Keys
  const warnings = [...new Set(keys.warnings)].sort()
  if (request.profile === "standard" && usedContextFallback(call)) warnings.push(CONTEXT_FALLBACK_WARNING)
  const latency = Math.trunc(latencyMs)
  const output: ProxyDecision = {
    ok: true,
    executed: false,
    adapter,
    run_id: runId,
    ...omitEmpty({
      job_id: typeof ctx.job_id === "string" ? ctx.job_id : "",
      phase: ctx.phase,
      session_id: sessionId
    }),
    tool_name: intent.body.tool_name,
    verdict: decision.verdict,
    ...omitEmpty({ reason_codes: decision.reasonCodes, violations: decision.violations }),
    policy_digest: decision.policyDigest,
    intent_digest: decision.intentDigest,
    policy_id: POLICY_SCHEMA_ID,
    policy_version: POLICY_SCHEMA_VERSION,
    ...(latency > 0 ? { decision_latency_ms: latency } : {}),
    trace_id: decision.traceId,
    ...(trace.record.event_id === undefined ? {} : { event_id: trace.record.event_id }),
    trace_path: trace.path,
    ...(request.exportLogOut === undefined ? {} : { log_export: request.exportLogOut }),
    ...(request.exportOtelOut === undefined ? {} : { otel_export: request.exportOtelOut }),
    ...(warnings.length === 0 ? {} : { warnings }),
    exit_code: decision.exitCode
  }
  return output
})
