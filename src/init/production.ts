/**
 * `gait init --production`: the hardened starting point that passes `gait doctor
 * --production-readiness` — a project config, a starter policy that blocks destructive high-risk
 * actions, a prod key pair (0600) and the output directory. Nothing existing is overwritten.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect } from "effect"
import * as NodePath from "node:path"
import { UsageError } from "../kernel/errors.js"
import { ensureDirectory, writeFileAtomic } from "../kernel/files.js"
import { writeKeyPair } from "../keys/files.js"

export const PRODUCTION_CONFIG = `# gait project config: production posture (checked by gait doctor --production-readiness)
gate:
  policy: .gait/policy.yaml
  profile: oss-prod
  key_mode: prod
  private_key: .gait/keys/gait_private.key
  approval_public_key: .gait/keys/gait_public.key
mcp_serve:
  enabled: true
  listen: 127.0.0.1:8787
  auth_mode: token
  auth_token_env: GAIT_MCP_TOKEN
  max_request_bytes: 1048576
  http_verdict_status: strict
  allow_client_artifact_paths: false
retention:
  trace_ttl: 168h
  session_ttl: 336h
  export_ttl: 168h
`

export const PRODUCTION_POLICY = `# gait starter policy for production: deny by default, block destructive high-risk actions.
schema_id: gait.gate.policy
schema_version: 1.0.0
default_verdict: require_approval

fail_closed:
  enabled: true
  risk_classes: [critical, high]
  required_fields: [targets, arg_provenance]

rules:
  - name: block-destructive-high-risk
    priority: 10
    effect: block
    match:
      risk_classes: [high, critical]
      endpoint_classes: [fs.delete, proc.exec]
    reason_codes: [destructive_high_risk_blocked]
    violations: [destructive_operation]

  - name: block-tainted-egress
    priority: 20
    effect: block
    match:
      endpoint_classes: [net.http]
      provenance_sources: [external, tool_output]
    reason_codes: [tainted_egress_blocked]
    violations: [tainted_data_exfiltration]

  - name: allow-low-risk-reads
    priority: 50
    effect: allow
    match:
      risk_classes: [low]
      endpoint_classes: [fs.read]
    reason_codes: [low_risk_read_allowed]
`

export interface InitResult {
  readonly config_path: string
  readonly policy_path: string
  readonly private_key_path: string
  readonly public_key_path: string
  readonly key_id: string
  readonly output_dir: string
}

export const initProduction = Effect.fn("Init.production")(function* (dir: string) {
  const fs = yield* FileSystem.FileSystem
  const configPath = NodePath.join(dir, ".gait", "config.yaml")
  const policyPath = NodePath.join(dir, ".gait", "policy.yaml")
  const keysDir = NodePath.join(dir, ".gait", "keys")
  for (const path of [configPath, policyPath, NodePath.join(keysDir, "gait_private.key"), NodePath.join(keysDir, "gait_public.key")]) {
    if (yield* fs.exists(path).pipe(Effect.orElseSucceed(() => false))) {
      return yield* new UsageError({ detail: `output path already exists (refusing to overwrite): ${path}` })
    }
  }
  const keys = yield* writeKeyPair(keysDir, "gait")
  yield* ensureDirectory(NodePath.join(dir, ".gait"))
  yield* writeFileAtomic(policyPath, PRODUCTION_POLICY, { mode: 0o600, ifExists: "create" })
  yield* writeFileAtomic(configPath, PRODUCTION_CONFIG, { mode: 0o600, ifExists: "create" })
  const outputDir = NodePath.join(dir, "gait-out")
  yield* ensureDirectory(outputDir)
  const result: InitResult = {
    config_path: configPath,
    policy_path: policyPath,
    private_key_path: keys.privatePath,
    public_key_path: keys.publicPath,
    key_id: keys.keyId,
    output_dir: outputDir
  }
  return result
})
