/**
 * `gait.gate.trace` 1.0.0: the signed record of one decision (spec gate.md §7). The schema is the
 * single source of the record's shape (JSON Schema in `schemas/` is derived from it); field order is
 * the reference's struct order, which is also the order of the pretty-printed file.
 */
import { Schema } from "effect"
import { Signature } from "../kernel/signing.js"

const opt = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

export const StepVerdictSchema = Schema.Struct({
  index: Schema.Number,
  tool_name: Schema.String,
  verdict: Schema.String,
  reason_codes: opt(Schema.Array(Schema.String)),
  violations: opt(Schema.Array(Schema.String)),
  matched_rule: opt(Schema.String)
})

export const SandboxDecisionSchema = Schema.Struct({
  status: Schema.String,
  network_mode: opt(Schema.String),
  env_exposure_mode: opt(Schema.String),
  timeout_seconds: opt(Schema.Number),
  filesystem_isolation: opt(Schema.String),
  user_mode: opt(Schema.String),
  evidence_ref: opt(Schema.String),
  evidence_digest: opt(Schema.String),
  reason_codes: opt(Schema.Array(Schema.String))
})

export const FreezeWindowDecisionSchema = Schema.Struct({
  status: Schema.String,
  effect: Schema.String,
  timezone: Schema.String,
  evaluated_at: Schema.String,
  window_name: opt(Schema.String),
  window_start: Schema.String,
  window_end: Schema.String,
  reason: opt(Schema.String),
  reason_code: opt(Schema.String)
})

export const TraceRecord = Schema.Struct({
  schema_id: Schema.Literal("gait.gate.trace"),
  schema_version: Schema.String,
  created_at: Schema.String,
  observed_at: opt(Schema.String),
  producer_version: Schema.String,
  trace_id: Schema.String,
  event_id: opt(Schema.String),
  correlation_id: opt(Schema.String),
  tool_name: Schema.String,
  args_digest: Schema.String,
  intent_digest: Schema.String,
  policy_digest: Schema.String,
  agent_id: opt(Schema.String),
  agent_identity: opt(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  run_id: opt(Schema.String),
  workflow_id: opt(Schema.String),
  repo: opt(Schema.String),
  environment: opt(Schema.String),
  credential_ref: opt(Schema.String),
  credential_source: opt(Schema.String),
  credential_access_type: opt(Schema.String),
  credential_issuer: opt(Schema.String),
  credential_subject: opt(Schema.String),
  credential_owner: opt(Schema.String),
  credential_target_binding: opt(Schema.String),
  credential_run_binding: opt(Schema.String),
  credential_job_binding: opt(Schema.String),
  credential_ttl_seconds: opt(Schema.Number),
  approval_ref: opt(Schema.String),
  wrkr_inventory_ref: opt(Schema.String),
  agent_action_bom_ref: opt(Schema.String),
  policy_id: opt(Schema.String),
  policy_version: opt(Schema.String),
  matched_rule_ids: opt(Schema.Array(Schema.String)),
  verdict: Schema.String,
  script: opt(Schema.Boolean),
  step_count: opt(Schema.Number),
  script_hash: opt(Schema.String),
  composite_risk_class: opt(Schema.String),
  step_verdicts: opt(Schema.Array(StepVerdictSchema)),
  violations: opt(Schema.Array(Schema.String)),
  latency_ms: opt(Schema.Number),
  freeze_window: opt(FreezeWindowDecisionSchema),
  sandbox: opt(SandboxDecisionSchema),
  skill_provenance: opt(Schema.Record({ key: Schema.String, value: Schema.String })),
  signature: opt(Signature)
}).annotations({
  identifier: "TraceRecord",
  title: "gait.gate.trace",
  description: "Signed record of one gate decision (schema_version 1.0.0)."
})
export type TraceRecord = typeof TraceRecord.Type

export const TRACE_SCHEMA_ID = "gait.gate.trace"
export const TRACE_SCHEMA_VERSION = "1.0.0"
