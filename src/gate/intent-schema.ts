/**
 * `gait.gate.intent_request` 1.0.0 as it arrives on the wire. Unknown fields are ignored (the
 * compatibility contract: parsers accept additive fields); `null` reads as absent, as Go's decoder
 * does. Values are checked for type here and for meaning in `intent.ts`.
 */
import { Schema } from "effect"

import {
  OptBoolean as Bool,
  OptInt as Int,
  optionalNullable as opt,
  OptString as Str,
  OptStringList as StrList
} from "../kernel/schema-fields.js"

export const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

export const IntentTarget = Schema.Struct({
  kind: Str,
  value: Str,
  operation: Str,
  sensitivity: Str,
  endpoint_class: Str,
  endpoint_domain: Str,
  destructive: Bool,
  discovery_method: Str,
  read_only_hint: Bool,
  destructive_hint: Bool,
  idempotent_hint: Bool,
  open_world_hint: Bool
})
export type IntentTarget = typeof IntentTarget.Type

export const IntentArgProvenance = Schema.Struct({
  arg_path: Str,
  source: Str,
  source_ref: Str,
  integrity_digest: Str
})
export type IntentArgProvenance = typeof IntentArgProvenance.Type

export const IntentSkillProvenance = Schema.Struct({
  skill_name: Str,
  skill_version: Str,
  source: Str,
  publisher: Str,
  digest: Str,
  signature_key_id: Str
})

export const IntentDelegationLink = Schema.Struct({
  delegator_identity: Str,
  delegate_identity: Str,
  scope_class: Str,
  token_ref: Str,
  issued_at: Str,
  expires_at: Str
})

export const IntentDelegation = Schema.Struct({
  requester_identity: Str,
  scope_class: Str,
  token_refs: StrList,
  chain: opt(Schema.Array(IntentDelegationLink)),
  issued_at: Str,
  expires_at: Str
})

export const IntentSandbox = Schema.Struct({
  network_mode: Str,
  writable_paths: StrList,
  read_only_roots: StrList,
  env_exposure_mode: Str,
  timeout_seconds: Int,
  filesystem_isolation: Str,
  user_mode: Str,
  evidence_ref: Str,
  evidence_digest: Str
})

export const IntentAgentIdentity = Schema.Struct({
  lifecycle_states: StrList,
  owner: Str,
  manifest_digest: Str,
  publisher: Str,
  source: Str,
  issued_at: Str,
  approved_at: Str,
  expires_at: Str,
  revoked: Bool
})

export const IntentContext = Schema.Struct({
  identity: Str,
  workspace: Str,
  risk_class: Str,
  phase: Str,
  agent_id: Str,
  agent_identity: opt(IntentAgentIdentity),
  run_id: Str,
  workflow_id: Str,
  repo: Str,
  environment: Str,
  job_id: Str,
  session_id: Str,
  request_id: Str,
  credential_ref: Str,
  credential_source: Str,
  credential_access_type: Str,
  credential_issuer: Str,
  credential_subject: Str,
  credential_owner: Str,
  credential_target_binding: Str,
  credential_run_binding: Str,
  credential_job_binding: Str,
  credential_ttl_seconds: Int,
  approval_ref: Str,
  wrkr_inventory_ref: Str,
  agent_action_bom_ref: Str,
  auth_context: opt(JsonObject),
  sandbox: opt(IntentSandbox),
  credential_scopes: StrList,
  environment_fingerprint: Str,
  context_set_digest: Str,
  context_evidence_mode: Str,
  context_refs: StrList
})
export type IntentContext = typeof IntentContext.Type

export const IntentScriptStep = Schema.Struct({
  tool_name: Str,
  args: opt(JsonObject),
  targets: opt(Schema.Array(IntentTarget)),
  arg_provenance: opt(Schema.Array(IntentArgProvenance))
})

export const IntentRequest = Schema.Struct({
  schema_id: Str,
  schema_version: Str,
  created_at: Str,
  producer_version: Str,
  tool_name: Str,
  args: opt(JsonObject),
  args_digest: Str,
  intent_digest: Str,
  script_hash: Str,
  targets: opt(Schema.Array(IntentTarget)),
  arg_provenance: opt(Schema.Array(IntentArgProvenance)),
  skill_provenance: opt(IntentSkillProvenance),
  delegation: opt(IntentDelegation),
  relationship: opt(Schema.Unknown),
  script: opt(Schema.Struct({ steps: opt(Schema.Array(IntentScriptStep)) })),
  context: opt(IntentContext)
}).annotations({
  identifier: "IntentRequest",
  title: "gait.gate.intent_request",
  description: "A proposed tool call to evaluate against a gait policy (schema_version 1.0.0)."
})
export type IntentRequest = typeof IntentRequest.Type
