/**
 * `gait.gate.trace` 1.0.0: the signed record of one decision (spec gate.md §7). The schema is the
 * single source of the record's shape (JSON Schema in `schemas/` is derived from it); field order is
 * the reference's struct order, which is also the order of the pretty-printed file.
 */
import { Schema } from "effect"
import { optionalExact } from "../kernel/schema-fields.js"
import { Signature } from "../kernel/signing.js"


export const StepVerdictSchema = Schema.Struct({
  index: Schema.Number,
  tool_name: Schema.String,
  verdict: Schema.String,
  reason_codes: optionalExact(Schema.Array(Schema.String)),
  violations: optionalExact(Schema.Array(Schema.String)),
  matched_rule: optionalExact(Schema.String)
})

export const SandboxDecisionSchema = Schema.Struct({
  status: Schema.String,
  network_mode: optionalExact(Schema.String),
  env_exposure_mode: optionalExact(Schema.String),
  timeout_seconds: optionalExact(Schema.Number),
  filesystem_isolation: optionalExact(Schema.String),
  user_mode: optionalExact(Schema.String),
  evidence_ref: optionalExact(Schema.String),
  evidence_digest: optionalExact(Schema.String),
  reason_codes: optionalExact(Schema.Array(Schema.String))
})

export const FreezeWindowDecisionSchema = Schema.Struct({
  status: Schema.String,
  effect: Schema.String,
  timezone: Schema.String,
  evaluated_at: Schema.String,
  window_name: optionalExact(Schema.String),
  window_start: Schema.String,
  window_end: Schema.String,
  reason: optionalExact(Schema.String),
  reason_code: optionalExact(Schema.String)
})

export const TraceRecord = Schema.Struct({
  schema_id: Schema.Literal("gait.gate.trace"),
  schema_version: Schema.String,
  created_at: Schema.String,
  observed_at: optionalExact(Schema.String),
  producer_version: Schema.String,
  trace_id: Schema.String,
  event_id: optionalExact(Schema.String),
  correlation_id: optionalExact(Schema.String),
  tool_name: Schema.String,
  args_digest: Schema.String,
  intent_digest: Schema.String,
  policy_digest: Schema.String,
  agent_id: optionalExact(Schema.String),
  agent_identity: optionalExact(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  run_id: optionalExact(Schema.String),
  workflow_id: optionalExact(Schema.String),
  repo: optionalExact(Schema.String),
  environment: optionalExact(Schema.String),
  credential_ref: optionalExact(Schema.String),
  credential_source: optionalExact(Schema.String),
  credential_access_type: optionalExact(Schema.String),
  credential_issuer: optionalExact(Schema.String),
  credential_subject: optionalExact(Schema.String),
  credential_owner: optionalExact(Schema.String),
  credential_target_binding: optionalExact(Schema.String),
  credential_run_binding: optionalExact(Schema.String),
  credential_job_binding: optionalExact(Schema.String),
  credential_ttl_seconds: optionalExact(Schema.Number),
  approval_ref: optionalExact(Schema.String),
  wrkr_inventory_ref: optionalExact(Schema.String),
  agent_action_bom_ref: optionalExact(Schema.String),
  policy_id: optionalExact(Schema.String),
  policy_version: optionalExact(Schema.String),
  matched_rule_ids: optionalExact(Schema.Array(Schema.String)),
  verdict: Schema.String,
  script: optionalExact(Schema.Boolean),
  step_count: optionalExact(Schema.Number),
  script_hash: optionalExact(Schema.String),
  composite_risk_class: optionalExact(Schema.String),
  step_verdicts: optionalExact(Schema.Array(StepVerdictSchema)),
  violations: optionalExact(Schema.Array(Schema.String)),
  latency_ms: optionalExact(Schema.Number),
  freeze_window: optionalExact(FreezeWindowDecisionSchema),
  sandbox: optionalExact(SandboxDecisionSchema),
  skill_provenance: optionalExact(Schema.Record({ key: Schema.String, value: Schema.String })),
  signature: optionalExact(Signature)
}).annotations({
  identifier: "TraceRecord",
  title: "gait.gate.trace",
  description: "Signed record of one gate decision (schema_version 1.0.0)."
})
export type TraceRecord = typeof TraceRecord.Type

export const TRACE_SCHEMA_ID = "gait.gate.trace"
export const TRACE_SCHEMA_VERSION = "1.0.0"
