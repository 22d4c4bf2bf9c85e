/** Closed vocabularies shared by intents and policies (exact strings of the reference). */

export const TARGET_KINDS = new Set(["path", "url", "host", "repo", "bucket", "table", "queue", "topic", "other"])

export const ENDPOINT_CLASSES = new Set([
  "fs.read",
  "fs.write",
  "fs.delete",
  "proc.exec",
  "net.http",
  "net.dns",
  "ui.click",
  "ui.type",
  "ui.navigate",
  "other"
])

export const DISCOVERY_METHODS = new Set(["webmcp", "dynamic_mcp", "a2a", "mcp", "static_mcp", "manual", "unknown"])

export const PROVENANCE_SOURCES = new Set(["user", "tool_output", "external", "system"])

export const CREDENTIAL_SOURCES = new Set([
  "aws_iam_user",
  "aws_sts",
  "azure_federated",
  "command",
  "env",
  "gcp_sts",
  "github_oidc",
  "github_pat",
  "kubernetes_service_account",
  "stub",
  "unknown",
  "vault_dynamic"
])

export const CREDENTIAL_ACCESS_TYPES = new Set(["cloud_admin", "inherited", "jit", "standing", "static", "unknown"])

export const SANDBOX_NETWORK_MODES = new Set(["disabled", "egress_allowlist", "full"])
export const SANDBOX_ENV_EXPOSURE_MODES = new Set(["allowlist", "full", "none"])
export const SANDBOX_FILESYSTEM_ISOLATIONS = new Set(["container", "none", "workspace"])
export const SANDBOX_USER_MODES = new Set(["default", "root", "unprivileged"])

export const VERDICTS = ["allow", "dry_run", "require_approval", "block"] as const
export type Verdict = (typeof VERDICTS)[number]

export const isVerdict = (s: string): s is Verdict => (VERDICTS as ReadonlyArray<string>).includes(s)

/** `allow(0) < dry_run(1) < require_approval(2) < block(3)`; unknown strings rank 0. */
export const verdictRank = (v: string): number => {
  const i = (VERDICTS as ReadonlyArray<string>).indexOf(v)
  return Math.max(i, 0)
}

export const mostRestrictive = (a: Verdict, b: Verdict): Verdict => (verdictRank(b) > verdictRank(a) ? b : a)
