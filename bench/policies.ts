/**
 * Synthetic policies for the in-process benchmarks. Each rule gets a distinct tool name; some carry
 * risk-class, target or workspace constraints, and every 25th is a decoy that names the benchmark
 * intent's tool but fails a later constraint (so it costs a deeper match). The one rule that
 * matches `fs.read` has the highest priority number, i.e. it is evaluated last: the worst case.
 */

const SERVICES = ["github", "jira", "slack", "s3", "postgres", "k8s", "gcal", "stripe", "notion", "docker"] as const
const VERBS = ["list", "get", "create", "update", "delete", "search", "export", "sync"] as const
const EFFECTS = ["allow", "block", "require_approval", "dry_run"] as const

export const MATCHING_RULE = "zz-allow-workspace-reads"

const pick = <A>(items: ReadonlyArray<A>, i: number): A => items[i % items.length] as A

const ruleYaml = (i: number): string => {
  const tool = `${pick(SERVICES, i)}.${pick(VERBS, Math.floor(i / SERVICES.length))}_${i}`
  const effect = pick(EFFECTS, i)
  const decoy = i % 25 === 24
  const lines = [
    `  - name: rule-${String(i).padStart(4, "0")}-${tool.replace(/[._]/g, "-")}`,
    `    priority: ${10 + 10 * Math.floor(i / 10)}`,
    `    effect: ${effect}`,
    "    match:",
    `      tool_names: [${decoy ? `fs.read, ${tool}` : tool}]`
  ]
  if (decoy || i % 7 === 3) lines.push("      risk_classes: [high, critical]")
  if (decoy || i % 11 === 5) {
    lines.push("      target_kinds: [path]", `      target_values: [/etc/shadow, /srv/secrets/${i}.env]`)
  }
  if (i % 13 === 6) lines.push(`      workspace_prefixes: [/srv/tenant-${i}]`)
  lines.push(`    reason_codes: [${effect}_${i}]`)
  if (effect === "block") lines.push(`    violations: [violation_${i}]`)
  if (effect === "require_approval") lines.push("    min_approvals: 1")
  return lines.join("\n")
}

/** Policy YAML with `ruleCount` rules (≥ 1); the last evaluated rule matches the bench intent. */
export const generatePolicyYaml = (ruleCount: number): string => {
  const rules: Array<string> = []
  for (let i = 0; i < ruleCount - 1; i++) rules.push(ruleYaml(i))
  rules.push(
    [
      `  - name: ${MATCHING_RULE}`,
      "    priority: 100000",
      "    effect: allow",
      "    match:",
      "      tool_names: [fs.read, fs.list]",
      "      risk_classes: [low, medium]",
      "      target_kinds: [path]",
      "      workspace_prefixes: [/srv/app]",
      "    reason_codes: [read_only_allowed]"
    ].join("\n")
  )
  return [
    "schema_id: gait.gate.policy",
    "schema_version: 1.0.0",
    "default_verdict: require_approval",
    "fail_closed:",
    "  enabled: true",
    "  risk_classes: [critical, high]",
    "  required_fields: [targets, arg_provenance]",
    "rules:",
    ...rules,
    ""
  ].join("\n")
}
