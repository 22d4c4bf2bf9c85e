/** `.gait/config.yaml` (spec ops.md §1.2): project defaults. All values are scalars. */
import { Schema } from "effect"

import { OptBoolean as Bool, OptInt, optionalNullable, OptString as Str } from "../kernel/schema-fields.js"

export const GateDefaults = Schema.Struct({
  policy: Str,
  profile: Str,
  key_mode: Str,
  private_key: Str,
  private_key_env: Str,
  approval_public_key: Str,
  approval_public_key_env: Str,
  approval_private_key: Str,
  approval_private_key_env: Str,
  kill_switch_state: Str,
  rate_limit_state: Str,
  credential_broker: Str,
  credential_env_prefix: Str,
  credential_ref: Str,
  credential_scopes: Str,
  credential_command: Str,
  credential_command_args: Str,
  credential_evidence_path: Str,
  trace_path: Str,
  wrkr_inventory_path: Str
})
export type GateDefaults = typeof GateDefaults.Type

export const McpServeDefaults = Schema.Struct({
  enabled: Bool,
  listen: Str,
  auth_mode: Str,
  auth_token_env: Str,
  max_request_bytes: OptInt,
  http_verdict_status: Str,
  allow_client_artifact_paths: Bool
})

export const RetentionDefaults = Schema.Struct({ trace_ttl: Str, session_ttl: Str, export_ttl: Str })

export const ProjectConfig = Schema.Struct({
  gate: optionalNullable(GateDefaults),
  mcp_serve: optionalNullable(McpServeDefaults),
  retention: optionalNullable(RetentionDefaults)
}).annotations({ identifier: "ProjectConfig", title: "gait project config (.gait/config.yaml)" })
export type ProjectConfig = typeof ProjectConfig.Type
