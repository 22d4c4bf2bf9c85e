/**
 * `gait.gate.policy` 1.0.0 as written in YAML. Decoded strictly: an unknown key at any level is an
 * error (a typo in a security policy must not silently drop a constraint). `null` reads as absent.
 */
import { Schema } from "effect"

import {
  OptBoolean as Bool,
  OptInt as Int,
  optionalNullable as opt,
  OptString as Str,
  OptStringList as StrList
} from "../kernel/schema-fields.js"

const Limit = Schema.Struct({ requests: Int, window: Str, scope: Str })

export const PolicyMatchInput = Schema.Struct({
  tool_name: Str,
  tool_names: StrList,
  risk_classes: StrList,
  target_kinds: StrList,
  target_values: StrList,
  endpoint_class: StrList,
  endpoint_classes: StrList,
  discovery_method: StrList,
  identities: StrList,
  workspace_prefixes: StrList,
  provenance_sources: StrList,
  data_classes: StrList,
  destination_kinds: StrList,
  destination_values: StrList,
  destination_operations: StrList,
  tool_annotations: opt(
    Schema.Struct({ readOnlyHint: Bool, destructiveHint: Bool, idempotentHint: Bool, openWorldHint: Bool })
  ),
  skill_publishers: StrList,
  skill_sources: StrList,
  context_tool_names: StrList,
  context_data_classes: StrList,
  context_endpoint_classes: StrList,
  context_autonomy_levels: StrList,
  require_delegation: Bool,
  allowed_delegator_identities: StrList,
  allowed_delegate_identities: StrList,
  delegation_scopes: StrList,
  max_delegation_depth: Int
})
export type PolicyMatchInput = typeof PolicyMatchInput.Type

export const PolicyRuleInput = Schema.Struct({
  name: Str,
  priority: Int,
  effect: Str,
  action: Str,
  match: opt(PolicyMatchInput),
  reason_codes: StrList,
  violations: StrList,
  min_approvals: Int,
  require_distinct_approvers: Bool,
  require_broker_credential: Bool,
  broker_reference: Str,
  broker_scopes: StrList,
  require_declared_agent: Bool,
  allowed_agent_ids: StrList,
  denied_agent_ids: StrList,
  required_agent_manifest_digest: Str,
  allowed_agent_manifest_publishers: StrList,
  allowed_agent_manifest_sources: StrList,
  required_agent_lifecycle_states: StrList,
  require_agent_owner: Bool,
  require_unexpired_agent: Bool,
  block_standing_credentials: Bool,
  allowed_credential_sources: StrList,
  allowed_credential_issuers: StrList,
  allowed_credential_access_types: StrList,
  max_credential_ttl_seconds: Int,
  require_jit_credential: Bool,
  require_context_evidence: Bool,
  required_context_evidence_mode: Str,
  max_context_age_seconds: Int,
  freeze_window: opt(
    Schema.Struct({
      enabled: Bool,
      timezone: Str,
      effect: Str,
      reason: Str,
      environments: StrList,
      risk_classes: StrList,
      windows: opt(Schema.Array(Schema.Struct({ name: Str, start: Str, end: Str })))
    })
  ),
  sandbox: opt(
    Schema.Struct({
      enabled: Bool,
      allowed_network_modes: StrList,
      allowed_writable_path_prefixes: StrList,
      required_read_only_roots: StrList,
      allowed_env_exposure_modes: StrList,
      max_timeout_seconds: Int,
      allowed_filesystem_isolations: StrList,
      allowed_user_modes: StrList
    })
  ),
  rate_limit: opt(Limit),
  destructive_budget: opt(Limit),
  dataflow: opt(
    Schema.Struct({
      enabled: Bool,
      tainted_sources: StrList,
      destination_kinds: StrList,
      destination_values: StrList,
      destination_operations: StrList,
      action: Str,
      reason_code: Str,
      violation: Str
    })
  ),
  endpoint: opt(
    Schema.Struct({
      enabled: Bool,
      path_allowlist: StrList,
      path_denylist: StrList,
      domain_allowlist: StrList,
      domain_denylist: StrList,
      egress_classes: StrList,
      action: Str,
      destructive_action: Str,
      reason_code: Str,
      violation: Str
    })
  )
})
export type PolicyRuleInput = typeof PolicyRuleInput.Type

export const PolicyInput = Schema.Struct({
  schema_id: Str,
  schema_version: Str,
  default_verdict: Str,
  default_action: Str,
  scripts: opt(Schema.Struct({ max_steps: Int, require_approval_above: Int, block_mixed_risk: Bool })),
  fail_closed: opt(
    Schema.Struct({
      enabled: Bool,
      risk_classes: StrList,
      required_fields: StrList,
      required_high_risk_fields: StrList
    })
  ),
  mcp_trust: opt(
    Schema.Struct({
      enabled: Bool,
      snapshot: Str,
      action: Str,
      required_risk_classes: StrList,
      min_score: opt(Schema.Number),
      max_age: Str,
      publisher_allowlist: StrList,
      require_registry: Bool
    })
  ),
  rules: opt(Schema.Array(PolicyRuleInput))
}).annotations({
  identifier: "Policy",
  title: "gait.gate.policy",
  description: "A gait gate policy (schema_version 1.0.0): default verdict, fail-closed rules and prioritized rules."
})
export type PolicyInput = typeof PolicyInput.Type
