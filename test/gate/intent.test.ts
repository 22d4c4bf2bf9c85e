// Intent normalization, digests and raw-credential rejection (spec gate.md §2; §11 items 17–25).
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { digestJson } from "../../src/kernel/digest.js"
import { parseIntentText } from "../../src/gate/gate.js"
import {
  inferEndpointClass,
  keySuggestsCredential,
  looksLikeCredential,
  normalizeIntent,
  prepareIntent,
  stripUnverifiedContextClaims
} from "../../src/gate/intent.js"
import type { IntentRequest, IntentTarget } from "../../src/gate/intent-schema.js"
import { baseContext, intentOf, normalized, prepared, unwrap, unwrapLeft } from "./fixtures/builders.js"

const failure = (request: IntentRequest) => unwrapLeft(normalizeIntent(request))

const expectInvalid = (request: IntentRequest, detail: string) => {
  const error = failure(request)
  expect(error._tag).toBe("IntentInvalid")
  expect(error.message).toBe(`normalize intent: ${detail}`)
}

const singleTarget = (t: IntentTarget, toolName = "tool.demo") =>
  normalized(intentOf({ tool_name: toolName, targets: [t] })).targets[0]

const digestOf = (request: IntentRequest) => prepared(request).intentDigest

describe("intent normalization: populates defaults (§11 item 18)", () => {
  const request: IntentRequest = {
    tool_name: " tool.write ",
    args: { " path ": " /tmp/out.txt ", options: { " mode ": " append " } },
    targets: [
      { kind: "path", value: "/tmp/out.txt" },
      { kind: " path ", value: " /tmp/out.txt " },
      { kind: "host", value: " api.internal " }
    ],
    arg_provenance: [
      { arg_path: "args.path", source: " user " },
      { arg_path: "args.path", source: "user" },
      { arg_path: "args.options", source: "external", integrity_digest: "A".repeat(64) }
    ],
    context: {
      identity: " alice ",
      workspace: "C:\\repo\\gait",
      risk_class: " HIGH ",
      agent_id: " agent.prod.writer ",
      agent_identity: {
        lifecycle_states: [" active ", "approved", "active"],
        owner: " platform-security ",
        manifest_digest: "B".repeat(64),
        publisher: " Acme ",
        source: " Registry ",
        issued_at: "2026-02-05T00:00:00Z",
        approved_at: "2026-02-05T01:00:00Z",
        expires_at: "2026-02-06T00:00:00Z",
        revoked: false
      },
      run_id: " run-123 ",
      workflow_id: " wf-prod ",
      repo: " Clyra-AI/gait ",
      environment: " production ",
      session_id: " s1 ",
      request_id: " req-1 ",
      credential_ref: " env:GAIT_TOKEN_EXPORT:deadbeef ",
      credential_source: " GitHub_PAT ",
      credential_access_type: " Standing ",
      credential_issuer: " github.com ",
      credential_ttl_seconds: 600,
      approval_ref: " approval-1 ",
      wrkr_inventory_ref: " wrkr:inventory:v1 ",
      agent_action_bom_ref: " bom:agent-action:v1 ",
      environment_fingerprint: " env:prod-us-east-1 ",
      credential_scopes: [" tools.read ", "tools.write", "tools.read"],
      auth_context: { provider: " oidc ", claims: { tenant: " acme " } },
      sandbox: {
        network_mode: " EGRESS_ALLOWLIST ",
        writable_paths: [" /tmp/work ", "/tmp/work", "/var/tmp/cache "],
        read_only_roots: [" /repo ", "/repo", "/usr/share "],
        env_exposure_mode: " ALLOWLIST ",
        timeout_seconds: 30,
        filesystem_isolation: " CONTAINER ",
        user_mode: " UNPRIVILEGED ",
        evidence_ref: " sandbox:receipt:v1 ",
        evidence_digest: "C".repeat(64)
      }
    }
  }

  it("trims, lowercases and fills defaults exactly as the reference", () => {
    const n = unwrap(normalizeIntent(request))
    expect(n.tool_name).toBe("tool.write")
    expect(n.args).toEqual({ path: "/tmp/out.txt", options: { mode: "append" } })
    expect(n.context).toEqual({
      identity: "alice",
      workspace: "C:/repo/gait",
      risk_class: "high",
      phase: "apply",
      agent_id: "agent.prod.writer",
      agent_identity: {
        lifecycle_states: ["active", "approved"],
        owner: "platform-security",
        manifest_digest: "b".repeat(64),
        publisher: "Acme",
        source: "registry",
        issued_at: "2026-02-05T00:00:00Z",
        approved_at: "2026-02-05T01:00:00Z",
        expires_at: "2026-02-06T00:00:00Z"
      },
      run_id: "run-123",
      workflow_id: "wf-prod",
      repo: "Clyra-AI/gait",
      environment: "production",
      session_id: "s1",
      request_id: "req-1",
      credential_ref: "env:GAIT_TOKEN_EXPORT:deadbeef",
      credential_source: "github_pat",
      credential_access_type: "standing",
      credential_issuer: "github.com",
      credential_ttl_seconds: 600,
      approval_ref: "approval-1",
      wrkr_inventory_ref: "wrkr:inventory:v1",
      agent_action_bom_ref: "bom:agent-action:v1",
      environment_fingerprint: "env:prod-us-east-1",
      credential_scopes: ["tools.read", "tools.write"],
      auth_context: { provider: "oidc", claims: { tenant: "acme" } },
      sandbox: {
        network_mode: "egress_allowlist",
        writable_paths: ["/tmp/work", "/var/tmp/cache"],
        read_only_roots: ["/repo", "/usr/share"],
        env_exposure_mode: "allowlist",
        timeout_seconds: 30,
        filesystem_isolation: "container",
        user_mode: "unprivileged",
        evidence_ref: "sandbox:receipt:v1",
        evidence_digest: "c".repeat(64)
      }
    })
  })

  it("deduplicates and sorts targets (host first) with inferred endpoint metadata", () => {
    expect(unwrap(normalizeIntent(request)).targets).toEqual([
      { kind: "host", value: "api.internal", endpoint_class: "net.http", endpoint_domain: "api.internal", discovery_method: "unknown" },
      { kind: "path", value: "/tmp/out.txt", endpoint_class: "fs.write", discovery_method: "unknown" }
    ])
  })

  it("deduplicates and sorts provenance, lowering the integrity digest", () => {
    expect(unwrap(normalizeIntent(request)).arg_provenance).toEqual([
      { arg_path: "args.options", source: "external", integrity_digest: "a".repeat(64) },
      { arg_path: "args.path", source: "user" }
    ])
  })

  it("produces 64-hex args and intent digests", () => {
    const p = prepared(request)
    expect(p.intentDigest).toMatch(/^[a-f0-9]{64}$/)
    expect(p.argsDigest).toMatch(/^[a-f0-9]{64}$/)
    expect(p.argsDigest).toBe(unwrap(digestJson({ path: "/tmp/out.txt", options: { mode: "append" } })))
  })
})

describe("tool name and args (§2.2 steps 2–3, §11 item 25)", () => {
  it("requires a tool name", () => {
    expectInvalid(intentOf({ tool_name: "  " }), "tool_name is required")
    expectInvalid(intentOf({ tool_name: null }), "tool_name is required")
  })

  it("trims strings and keys recursively, keeps array order and scalar types", () => {
    const n = normalized(intentOf({ args: { " a ": [" z ", " a ", 1, true, null, { " k ": " v " }], n: 1.5, b: false } }))
    expect(n.args).toEqual({ a: ["z", "a", 1, true, null, { k: "v" }], n: 1.5, b: false })
  })

  it("absent or null args normalize to {} (digest 44136fa3…)", () => {
    for (const args of [undefined, null]) {
      const request: IntentRequest = { tool_name: "tool.demo", context: baseContext, ...(args === null ? { args } : {}) }
      const p = prepared(request)
      expect(p.body.args).toEqual({})
      expect(p.argsDigest).toBe("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
    }
  })

  it("args digest does not depend on key order or string whitespace (item 25)", () => {
    const first = prepared(intentOf({ args: { a: " hello ", b: { z: 1, y: [" x ", 2] } } }))
    const second = prepared(intentOf({ args: { b: { y: ["x", 2], z: 1 }, a: "hello" } }))
    expect(first.argsDigest).toBe(second.argsDigest)
    expect(first.intentDigest).toBe(second.intentDigest)
    expect(prepared(intentOf({ args: { a: "hello!" } })).argsDigest).not.toBe(first.argsDigest)
  })

  it("rejects an empty key after trimming", () => {
    expectInvalid(intentOf({ args: { "  ": 1 } }), "normalize args: args contains empty key")
    expectInvalid(intentOf({ args: { nested: { "": 1 } } }), "normalize args: args contains empty key")
  })

  it("a non-object args value is a decode error, not a normalization error", () => {
    const parsed = parseIntentText(
      JSON.stringify({ tool_name: "t", args: [1, 2], context: baseContext }),
      "intent.json"
    )
    expect(Either.isLeft(parsed)).toBe(true)
    expect(unwrapLeft(parsed)._tag).toBe("IntentUnparsable")
    expect(unwrapLeft(parsed).message).toMatch(/^parse intent json: args/)
  })
})

describe("targets (§2.2 step 4)", () => {
  it("requires kind and value", () => {
    expectInvalid(intentOf({ targets: [{ kind: "path", value: "  " }] }), "targets require kind and value")
    expectInvalid(intentOf({ targets: [{ kind: "", value: "/x" }] }), "targets require kind and value")
    expectInvalid(intentOf({ targets: [{ value: "/x" }] }), "targets require kind and value")
  })

  it("rejects unsupported kinds (after lowering)", () => {
    expectInvalid(intentOf({ targets: [{ kind: "Invalid", value: "x" }] }), "unsupported target kind: invalid")
  })

  it("accepts every supported kind", () => {
    for (const kind of ["path", "url", "host", "repo", "bucket", "table", "queue", "topic", "other"]) {
      expect(singleTarget({ kind: ` ${kind.toUpperCase()} `, value: "x" })?.kind).toBe(kind)
    }
  })

  it("keeps an explicit endpoint class (lowered) and rejects an unknown one", () => {
    expect(singleTarget({ kind: "path", value: "/x", endpoint_class: " FS.Read " })?.endpoint_class).toBe("fs.read")
    expectInvalid(
      intentOf({ targets: [{ kind: "path", value: "/x", endpoint_class: "net.bogus" }] }),
      "unsupported endpoint class: net.bogus"
    )
  })

  it("lowercases operation, sensitivity and endpoint domain; keeps the value's case", () => {
    expect(
      singleTarget({ kind: "path", value: " /Tmp/File.TXT ", operation: " WRITE ", sensitivity: " Confidential ", endpoint_domain: " API.X " })
    ).toEqual({
      kind: "path",
      value: "/Tmp/File.TXT",
      operation: "write",
      sensitivity: "confidential",
      endpoint_class: "fs.write",
      endpoint_domain: "api.x",
      discovery_method: "unknown"
    })
  })

  it("emits hints only when true", () => {
    expect(
      singleTarget({ kind: "host", value: "h", read_only_hint: true, destructive_hint: false, idempotent_hint: true, open_world_hint: false })
    ).toEqual({
      kind: "host",
      value: "h",
      endpoint_class: "net.http",
      endpoint_domain: "h",
      discovery_method: "unknown",
      read_only_hint: true,
      idempotent_hint: true
    })
  })

  it("deduplicates on the full tuple and sorts by kind, value, operation, …, destructive (false first), hints", () => {
    const n = normalized(
      intentOf({
        targets: [
          { kind: "path", value: "/b", operation: "write" },
          { kind: "path", value: "/a", destructive: true, endpoint_class: "fs.write" },
          { kind: "path", value: "/a", endpoint_class: "fs.write" },
          { kind: "host", value: "z.example" },
          { kind: "path", value: "/a", endpoint_class: "fs.write", read_only_hint: true },
          { kind: " PATH ", value: " /b ", operation: "WRITE" },
          { kind: "host", value: "a.example" }
        ]
      })
    )
    expect(n.targets.map((t) => [t.kind, t.value, t.destructive === true, t.read_only_hint === true])).toEqual([
      ["host", "a.example", false, false],
      ["host", "z.example", false, false],
      ["path", "/a", false, false],
      ["path", "/a", false, true],
      ["path", "/a", true, false],
      ["path", "/b", false, false]
    ])
  })

  it("an empty or absent target list is fine and becomes []", () => {
    expect(normalized(intentOf({ targets: [] })).targets).toEqual([])
    expect(normalized({ tool_name: "t", context: baseContext }).targets).toEqual([])
  })
})

describe("endpoint-class inference (§2.2.1)", () => {
  const cases: ReadonlyArray<readonly [kind: string, operation: string, tool: string, expected: string]> = [
    ...["read", "get", "list", "open", "cat", "head", "download", "stat"].map((op) => ["path", op, "tool.demo", "fs.read"] as const),
    ...["write", "append", "put", "create", "update", "save", "copy", "move", "rename"].map(
      (op) => ["path", op, "tool.demo", "fs.write"] as const
    ),
    ...["delete", "remove", "rm", "unlink", "rmdir", "drop", "truncate"].map((op) => ["path", op, "tool.demo", "fs.delete"] as const),
    ["path", "READ", "tool.demo", "fs.read"],
    // operation wins over the tool-name hint
    ["path", "read", "tool.delete", "fs.read"],
    // tool-name hints (substring of the last path segment of the tool name)
    ["path", "", "tool.read", "fs.read"],
    ["path", "", "fs/list_dir", "fs.read"],
    ["path", "", "web.fetch", "fs.read"],
    ["path", "", "code.search", "fs.read"],
    ["path", "", "tool.write", "fs.write"],
    ["path", "", "tool.update", "fs.write"],
    ["path", "", "tool.save", "fs.write"],
    ["path", "", "tool.create", "fs.write"],
    ["path", "", "tool.delete", "fs.delete"],
    ["path", "", "tool.remove", "fs.delete"],
    ["path", "", "tool.drop", "fs.delete"],
    // UPSTREAM QUIRK kept: substring matching, `format` contains `rm`
    ["path", "", "tool.format", "fs.delete"],
    // read hints are checked before delete hints
    ["path", "", "tool.read_then_delete", "fs.read"],
    // only the last `/` segment counts
    ["path", "", "reader/tool.demo", "other"],
    ["path", "", "tool.unknown", "other"],
    ["path", "frobnicate", "tool.unknown", "other"],
    ["host", "dns", "tool.demo", "net.dns"],
    ["host", "resolve", "tool.demo", "net.dns"],
    ["url", "lookup", "tool.demo", "net.dns"],
    ["host", "", "tool.demo", "net.http"],
    ["url", "post", "tool.delete", "net.http"],
    ...["exec", "spawn", "run", "shell", "command"].map((op) => ["other", op, "tool.demo", "proc.exec"] as const),
    ["other", "", "tool.exec", "proc.exec"],
    ["other", "", "bash.shell", "proc.exec"],
    ["other", "", "tool.command", "proc.exec"],
    ["other", "", "proc.spawn", "proc.exec"],
    ["other", "", "task.runner", "proc.exec"],
    ["other", "", "tool.demo", "other"],
    ...["repo", "bucket", "table", "queue", "topic"].map((kind) => [kind, "read", "tool.exec", "other"] as const)
  ]

  it.each(cases)("%s target, operation %j, tool %j → %s", (kind, operation, tool, expected) => {
    expect(singleTarget({ kind, value: "v", operation }, tool)?.endpoint_class).toBe(expected)
  })

  it("the exported helper agrees with the table", () => {
    expect(inferEndpointClass("path", "", "tool.format")).toBe("fs.delete")
    expect(inferEndpointClass("other", "", "TOOL.EXEC")).toBe("proc.exec")
  })

  it("classifies the reference's six-target intent (§11 item 21)", () => {
    const n = normalized(
      intentOf({
        tool_name: "tool.exec",
        args: { command: "rm -rf /tmp/demo" },
        targets: [
          { kind: "path", value: "/tmp/in.txt", operation: "read" },
          { kind: "path", value: "/tmp/out.txt", operation: "write" },
          { kind: "path", value: "/tmp/out.txt", operation: "delete" },
          { kind: "host", value: "api.internal", operation: "dns" },
          { kind: "url", value: "https://example.com/path" },
          { kind: "other", value: "shell", operation: "exec" }
        ],
        context: { workspace: "/tmp/work", risk_class: "high" }
      })
    )
    expect(new Set(n.targets.map((t) => t.endpoint_class))).toEqual(
      new Set(["fs.read", "fs.write", "fs.delete", "net.dns", "net.http", "proc.exec"])
    )
    expect(n.targets.filter((t) => t.destructive === true).map((t) => t.endpoint_class).sort()).toEqual(["fs.delete", "proc.exec"])
  })
})

describe("destructive inference", () => {
  const cases: ReadonlyArray<readonly [string, IntentTarget, boolean]> = [
    ["fs.delete class", { kind: "path", value: "/x", endpoint_class: "fs.delete" }, true],
    ["proc.exec class", { kind: "other", value: "ls", endpoint_class: "proc.exec" }, true],
    ["inferred fs.delete (tool.format quirk)", { kind: "path", value: "/x" }, true],
    ...["delete", "remove", "rm", "unlink", "rmdir", "drop", "truncate", "exec", "spawn"].map(
      (op) => [`operation ${op} on a repo`, { kind: "repo", value: "r", operation: op }, true] as const
    ),
    ["destructive_hint", { kind: "host", value: "h", destructive_hint: true }, true],
    ["explicit destructive", { kind: "host", value: "h", destructive: true }, true],
    ["read", { kind: "path", value: "/x", operation: "read" }, false],
    ["write", { kind: "path", value: "/x", operation: "write" }, false],
    ["run on other (proc.exec by inference)", { kind: "other", value: "x", operation: "run" }, true],
    ["run on a bucket", { kind: "bucket", value: "b", operation: "run" }, false]
  ]
  it.each(cases)("%s → %s", (_label, t, expected) => {
    const n = singleTarget(t, "tool.format")
    expect(n?.destructive === true).toBe(expected)
    if (!expected) expect(n).not.toHaveProperty("destructive")
  })

  it("destructive_hint is kept as a hint as well", () => {
    expect(singleTarget({ kind: "host", value: "h", destructive_hint: true })).toMatchObject({ destructive: true, destructive_hint: true })
  })
})

describe("endpoint-domain inference", () => {
  it.each([
    ["host", " API.Example.com ", "api.example.com"],
    ["host", "https://API.Example.com:8443/v1", "api.example.com"],
    ["host", "http://svc.internal/path", "svc.internal"],
    ["host", "db.internal:5432", "db.internal"],
    ["url", "https://User@Example.COM:8080/p?q=1", "example.com"],
    ["url", "http://[::1]:8080/x", "::1"],
    ["url", " https://api.external.com/export ", "api.external.com"]
  ])("%s %j → %s", (kind, value, expected) => {
    expect(singleTarget({ kind, value })?.endpoint_domain).toBe(expected)
  })

  it("an unparsable or host-less url and other kinds infer no domain", () => {
    expect(singleTarget({ kind: "url", value: "api.example.com/x" })).not.toHaveProperty("endpoint_domain")
    expect(singleTarget({ kind: "url", value: "http://host:port/" })).not.toHaveProperty("endpoint_domain")
    expect(singleTarget({ kind: "path", value: "/tmp/x" })).not.toHaveProperty("endpoint_domain")
    expect(singleTarget({ kind: "bucket", value: "s3://bucket" })).not.toHaveProperty("endpoint_domain")
  })

  // §2.2: url kind uses Go URL-parsing semantics. Go's url.Parse keeps an internationalized host as
  // written (no IDNA/punycode) and does not rewrite numeric IPv4 forms; WHATWG URL does both, which
  // changes endpoint_domain and therefore the intent digest.
  it.each([
    ["https://Bücher.example/x", "bücher.example"],
    ["http://0x7f.1/", "0x7f.1"]
  ])("url %j keeps the host as Go's url.Parse reports it → %s", (value, expected) => {
    expect(singleTarget({ kind: "url", value })?.endpoint_domain).toBe(expected)
  })
})

describe("discovery method", () => {
  it.each([
    [undefined, "unknown"],
    ["", "unknown"],
    [" WEBMCP ", "webmcp"],
    [" Dynamic-MCP ", "dynamic_mcp"],
    ["static mcp", "static_mcp"],
    ["a2a", "a2a"],
    ["mcp", "mcp"],
    ["manual", "manual"]
  ])("%j → %s", (method, expected) => {
    const t: IntentTarget = method === undefined ? { kind: "host", value: "h" } : { kind: "host", value: "h", discovery_method: method }
    expect(singleTarget(t)?.discovery_method).toBe(expected)
  })

  it("rejects an unsupported method (after normalization)", () => {
    expectInvalid(
      intentOf({ targets: [{ kind: "host", value: "h", discovery_method: "Carrier-Pigeon" }] }),
      "unsupported discovery method: carrier_pigeon"
    )
  })
})

describe("arg provenance (§2.2 step 5)", () => {
  it("trims, lowers source and digest, deduplicates and sorts on the 4-tuple", () => {
    const n = normalized(
      intentOf({
        arg_provenance: [
          { arg_path: " args.b ", source: " TOOL_OUTPUT ", source_ref: " trace_2 " },
          { arg_path: "args.a", source: "user" },
          { arg_path: "args.b", source: "tool_output", source_ref: "trace_2" },
          { arg_path: "args.a", source: "external", integrity_digest: "F".repeat(64) }
        ]
      })
    )
    expect(n.arg_provenance).toEqual([
      { arg_path: "args.a", source: "external", integrity_digest: "f".repeat(64) },
      { arg_path: "args.a", source: "user" },
      { arg_path: "args.b", source: "tool_output", source_ref: "trace_2" }
    ])
  })

  it("is omitted when empty", () => {
    expect(normalized(intentOf({ arg_provenance: [] }))).not.toHaveProperty("arg_provenance")
  })

  it.each([
    [{ arg_path: "", source: "user" }, "arg provenance requires arg_path and source"],
    [{ arg_path: "args.x", source: " " }, "arg provenance requires arg_path and source"],
    [{ arg_path: "args.x", source: "Bad" }, "unsupported provenance source: bad"],
    [{ arg_path: "args.x", source: "external", integrity_digest: "SHORT" }, "invalid provenance integrity_digest: short"]
  ])("%j → %s", (entry, detail) => {
    expectInvalid(intentOf({ arg_provenance: [entry] }), detail)
  })
})

describe("skill provenance (§2.2 step 6)", () => {
  it("trims all fields, lowers source and digest, keeps the publisher's case", () => {
    const n = normalized(
      intentOf({
        skill_provenance: {
          skill_name: " safe-curl ",
          skill_version: " 1.0.1 ",
          source: " Registry ",
          publisher: " Acme ",
          digest: "A".repeat(64),
          signature_key_id: " key-1 "
        }
      })
    )
    expect(n.skill_provenance).toEqual({
      skill_name: "safe-curl",
      skill_version: "1.0.1",
      source: "registry",
      publisher: "Acme",
      digest: "a".repeat(64),
      signature_key_id: "key-1"
    })
  })

  it.each([
    [{ skill_name: "", source: "registry", publisher: "acme" }, "skill provenance requires skill_name, source, and publisher"],
    [{ skill_name: "s", source: "registry" }, "skill provenance requires skill_name, source, and publisher"],
    [{ skill_name: "s", source: "registry", publisher: "acme", digest: "bad" }, "invalid skill provenance digest: bad"]
  ])("%j → %s", (skill, detail) => {
    expectInvalid(intentOf({ skill_provenance: skill }), detail)
  })
})

describe("context (§2.2 step 7)", () => {
  it("requires identity, then workspace, then risk class", () => {
    expectInvalid({ tool_name: "t", context: {} }, "context.identity is required")
    expectInvalid({ tool_name: "t" }, "context.identity is required")
    expectInvalid({ tool_name: "t", context: { identity: "u", risk_class: "low" } }, "context.workspace is required")
    expectInvalid({ tool_name: "t", context: { identity: "u", workspace: " ", risk_class: "low" } }, "context.workspace is required")
    expectInvalid({ tool_name: "t", context: { identity: "u", workspace: "/w" } }, "context.risk_class is required")
  })

  it("converts backslashes in the workspace and does not clean it", () => {
    expect(normalized(intentOf({ context: { workspace: "C:\\repo\\gait" } })).context.workspace).toBe("C:/repo/gait")
    expect(normalized(intentOf({ context: { workspace: " /repo/../x/ " } })).context.workspace).toBe("/repo/../x/")
  })

  it("keeps plan, lowers the phase, defaults to apply and rejects execute (§11 item 22)", () => {
    expect(normalized(intentOf({ context: { phase: "plan" } })).context.phase).toBe("plan")
    expect(normalized(intentOf({ context: { phase: " PLAN " } })).context.phase).toBe("plan")
    expect(normalized(intentOf({})).context.phase).toBe("apply")
    expectInvalid(intentOf({ context: { phase: "execute" } }), "context.phase must be plan or apply")
  })

  it("keeps the case of other string fields and omits empty ones", () => {
    const c = normalized(intentOf({ context: { repo: " Clyra-AI/Gait ", environment: "", job_id: "  ", credential_ttl_seconds: 0 } })).context
    expect(c.repo).toBe("Clyra-AI/Gait")
    expect(c).not.toHaveProperty("environment")
    expect(c).not.toHaveProperty("job_id")
    expect(c).not.toHaveProperty("credential_ttl_seconds")
  })

  it("trims, deduplicates and sorts credential_scopes and context_refs", () => {
    // (normalizeIntent, not prepareIntent: the prepared intent strips context_refs, §2.7)
    const c = unwrap(normalizeIntent(intentOf({ context: { credential_scopes: [" b ", "a", "b", ""], context_refs: ["r2", " r1 ", "r2"] } })))
      .context
    expect(c.credential_scopes).toEqual(["a", "b"])
    expect(c.context_refs).toEqual(["r1", "r2"])
  })

  it.each([
    [{ credential_source: "bad-source" }, "context.credential_source is unsupported: bad-source"],
    [{ credential_access_type: "Bad-Access" }, "context.credential_access_type is unsupported: bad-access"],
    [{ credential_ttl_seconds: -1 }, "context.credential_ttl_seconds must be >= 0"],
    [{ context_evidence_mode: "sometimes" }, "context.context_evidence_mode must be best_effort or required"],
    [{ context_set_digest: "not-hex" }, "context.context_set_digest must be sha256 hex"],
    [{ sandbox: { network_mode: "bad-mode" } }, "context.sandbox.network_mode is unsupported: bad-mode"],
    [{ sandbox: { env_exposure_mode: "some" } }, "context.sandbox.env_exposure_mode is unsupported: some"],
    [{ sandbox: { filesystem_isolation: "vm" } }, "context.sandbox.filesystem_isolation is unsupported: vm"],
    [{ sandbox: { user_mode: "admin" } }, "context.sandbox.user_mode is unsupported: admin"],
    [{ sandbox: { timeout_seconds: -1 } }, "context.sandbox.timeout_seconds must be >= 0"],
    [{ sandbox: { evidence_digest: "nope" } }, "context.sandbox.evidence_digest must be sha256 hex"],
    [{ agent_identity: { manifest_digest: "not-a-digest" } }, "context.agent_identity.manifest_digest must be sha256 hex"]
  ])("%j → %s", (context, detail) => {
    expectInvalid(intentOf({ context }), detail)
  })

  it("accepts every credential source and access type of the vocabulary (lowered)", () => {
    const sources = [
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
    ]
    for (const source of sources) {
      expect(normalized(intentOf({ context: { credential_source: source.toUpperCase() } })).context.credential_source).toBe(source)
    }
    for (const access of ["cloud_admin", "inherited", "jit", "standing", "static", "unknown"]) {
      expect(normalized(intentOf({ context: { credential_access_type: ` ${access} ` } })).context.credential_access_type).toBe(access)
    }
  })

  it("normalizes auth_context like args and drops an empty one", () => {
    expect(normalized(intentOf({ context: { auth_context: { " provider ": " oidc " } } })).context.auth_context).toEqual({
      provider: "oidc"
    })
    expect(normalized(intentOf({ context: { auth_context: {} } })).context).not.toHaveProperty("auth_context")
    const error = failure(intentOf({ context: { auth_context: { " ": 1 } } }))
    expect(error._tag).toBe("IntentInvalid")
    expect(error.message.startsWith("normalize intent: normalize context.auth_context: ")).toBe(true)
    expect(error.message.endsWith("contains empty key")).toBe(true)
  })

  describe("sandbox metadata (§2.3)", () => {
    it("cleans, deduplicates and sorts path lists, dropping `.` and empty items", () => {
      const s = normalized(intentOf({ context: { sandbox: { writable_paths: ["/tmp/a/../b/", ".", " ", "/tmp/b", "/c//d"] } } })).context
        .sandbox
      expect(s).toEqual({ writable_paths: ["/c/d", "/tmp/b"] })
    })

    it("an all-empty sandbox becomes absent", () => {
      expect(normalized(intentOf({ context: { sandbox: { network_mode: "", writable_paths: [".", ""] } } })).context).not.toHaveProperty(
        "sandbox"
      )
    })

    it("rejects raw environment assignments in path lists and evidence_ref (§11 item 19)", () => {
      for (const sandbox of [{ writable_paths: ["API_TOKEN=supersecret"] }, { read_only_roots: ["HOME=/root"] }, { evidence_ref: "X=1" }]) {
        const error = failure(intentOf({ context: { sandbox } }))
        expect(error._tag).toBe("IntentInvalid")
        expect(error.message).toContain("must not contain raw environment variable assignments")
      }
    })

    it("rejects a credential-looking evidence_ref unless it carries a reference prefix", () => {
      const error = failure(intentOf({ context: { sandbox: { evidence_ref: "ghp_1234567890abcdefghijklmnopqrstuvwxyz" } } }))
      expect(error._tag).toBe("IntentInvalid")
      expect(error.message).toContain("context.sandbox.evidence_ref")
      for (const prefix of ["ref:", "receipt:", "proof:", "sandbox:", "SHA256:"]) {
        const ref = `${prefix}ghp_1234567890abcdefghijklmnopqrstuvwxyz`
        expect(normalized(intentOf({ context: { sandbox: { evidence_ref: ref } } })).context.sandbox).toEqual({ evidence_ref: ref })
      }
    })
  })

  describe("agent identity", () => {
    it("keeps lifecycle-state case (trim, dedupe, sort only) and lowers the source", () => {
      const a = normalized(intentOf({ context: { agent_identity: { lifecycle_states: [" Active ", "approved", "Active"], source: " Registry " } } }))
        .context.agent_identity
      expect(a).toEqual({
        lifecycle_states: ["Active", "approved"],
        source: "registry",
        issued_at: "0001-01-01T00:00:00Z",
        approved_at: "0001-01-01T00:00:00Z",
        expires_at: "0001-01-01T00:00:00Z"
      })
    })

    it("converts times to UTC", () => {
      const a = normalized(intentOf({ context: { agent_identity: { issued_at: "2026-02-05T01:30:00.500+01:00" } } })).context.agent_identity
      expect(a).toMatchObject({ issued_at: "2026-02-05T00:30:00.5Z" })
    })

    it.each([
      [{ issued_at: "2026-02-05T01:00:00Z", approved_at: "2026-02-05T00:00:00Z" }],
      [{ issued_at: "2026-02-05T01:00:00Z", expires_at: "2026-02-05T01:00:00Z" }],
      [{ approved_at: "2026-02-05T02:00:00Z", expires_at: "2026-02-05T01:00:00Z" }],
      [{ issued_at: "yesterday" }]
    ])("rejects inconsistent times %j", (agent_identity) => {
      expect(failure(intentOf({ context: { agent_identity } }))._tag).toBe("IntentInvalid")
    })
  })
})

describe("delegation (§2.2 step 8)", () => {
  const chainOf = (...links: ReadonlyArray<readonly [string, string]>) =>
    links.map(([delegator_identity, delegate_identity]) => ({ delegator_identity, delegate_identity, scope_class: "write" }))

  it("normalizes requester, scope class and token refs; zero times are present", () => {
    const d = normalized(
      intentOf({
        delegation: {
          requester_identity: " agent.specialist ",
          scope_class: " WRITE ",
          token_refs: [" token_b ", "token_a", "token_a"],
          chain: [{ delegator_identity: "agent.lead", delegate_identity: "agent.specialist", scope_class: "Write", token_ref: " token_b " }]
        }
      })
    ).delegation
    expect(d).toEqual({
      requester_identity: "agent.specialist",
      scope_class: "write",
      token_refs: ["token_a", "token_b"],
      chain: [
        {
          delegator_identity: "agent.lead",
          delegate_identity: "agent.specialist",
          scope_class: "write",
          token_ref: "token_b",
          issued_at: "0001-01-01T00:00:00Z",
          expires_at: "0001-01-01T00:00:00Z"
        }
      ],
      issued_at: "0001-01-01T00:00:00Z",
      expires_at: "0001-01-01T00:00:00Z"
    })
  })

  it("a change of delegator changes the digest", () => {
    const base = intentOf({ delegation: { requester_identity: "agent.specialist", chain: chainOf(["agent.lead", "agent.specialist"]) } })
    const other = intentOf({ delegation: { requester_identity: "agent.specialist", chain: chainOf(["agent.root", "agent.specialist"]) } })
    expect(digestOf(base)).toBe(digestOf(base))
    expect(digestOf(base)).not.toBe(digestOf(other))
  })

  it("requires the requester", () => {
    expectInvalid(intentOf({ delegation: { requester_identity: " " } }), "delegation.requester_identity is required")
  })

  it("requires both identities of each link and chain continuity", () => {
    expect(failure(intentOf({ delegation: { requester_identity: "w", chain: [{ delegator_identity: "a" }] } }))._tag).toBe("IntentInvalid")
    const broken = intentOf({
      delegation: { requester_identity: "agent.worker", chain: chainOf(["agent.lead", "agent.manager"], ["agent.other", "agent.worker"]) }
    })
    expect(failure(broken)._tag).toBe("IntentInvalid")
  })

  it("requires the last delegate to be the requester", () => {
    expectInvalid(
      intentOf({ delegation: { requester_identity: "agent.worker", chain: chainOf(["agent.lead", "agent.manager"]) } }),
      "delegation.chain last delegate_identity must match delegation.requester_identity"
    )
  })

  it("rejects a link that expires before it is issued", () => {
    const link = { delegator_identity: "a", delegate_identity: "w", issued_at: "2026-01-02T00:00:00Z", expires_at: "2026-01-01T00:00:00Z" }
    expect(failure(intentOf({ delegation: { requester_identity: "w", chain: [link] } }))._tag).toBe("IntentInvalid")
  })
})

describe("script intents (§2.2 steps 1, 4, 5, 9; §11 item 23)", () => {
  const step = (tool_name: string, targets: ReadonlyArray<IntentTarget> = [], args: Record<string, unknown> = {}) => ({
    tool_name,
    args,
    targets
  })

  it("forces tool_name to script", () => {
    expect(normalized(intentOf({ tool_name: "anything", script: { steps: [step("tool.read")] } })).tool_name).toBe("script")
    expect(normalized({ context: baseContext, script: { steps: [step("tool.read")] } }).tool_name).toBe("script")
  })

  it("validates steps", () => {
    expectInvalid(intentOf({ script: { steps: [] } }), "script.steps must not be empty")
    expectInvalid(intentOf({ script: {} }), "script.steps must not be empty")
    expectInvalid(
      intentOf({ script: { steps: Array.from({ length: 65 }, () => step("tool.read")) } }),
      "script.steps exceeds max supported steps (64)"
    )
    expect(Either.isRight(normalizeIntent(intentOf({ script: { steps: Array.from({ length: 64 }, () => step("tool.read")) } })))).toBe(true)
    expectInvalid(intentOf({ script: { steps: [step("tool.read"), step("  ")] } }), "script.steps[1].tool_name is required")
    expectInvalid(
      intentOf({ script: { steps: [step("tool.read", [{ kind: "nope", value: "x" }])] } }),
      "normalize script.steps[0].targets: unsupported target kind: nope"
    )
    expectInvalid(
      intentOf({ script: { steps: [{ tool_name: "tool.read", arg_provenance: [{ arg_path: "a", source: "bad" }] }] } }),
      "normalize script.steps[0].arg_provenance: unsupported provenance source: bad"
    )
  })

  it("the script check runs before the tool name check", () => {
    expectInvalid({ tool_name: "", context: baseContext, script: { steps: [] } }, "script.steps must not be empty")
  })

  it("infers endpoint classes with the step's tool name", () => {
    const n = normalized(intentOf({ targets: [], script: { steps: [step("tool.read", [{ kind: "path", value: "/tmp/in.txt" }])] } }))
    expect(n.script?.steps[0]?.targets?.[0]?.endpoint_class).toBe("fs.read")
    expect(n.targets[0]?.endpoint_class).toBe("fs.read")
  })

  it("top-level targets and provenance are the sorted union of the steps' when empty", () => {
    const n = normalized(
      intentOf({
        targets: [],
        script: {
          steps: [
            { tool_name: "tool.write", targets: [{ kind: "path", value: "/b", operation: "write" }], arg_provenance: [{ arg_path: "p", source: "user" }] },
            { tool_name: "tool.read", targets: [{ kind: "path", value: "/a", operation: "read" }, { kind: "path", value: "/b", operation: "write" }] }
          ]
        }
      })
    )
    expect(n.targets.map((t) => t.value)).toEqual(["/a", "/b"])
    expect(n.arg_provenance).toEqual([{ arg_path: "p", source: "user" }])
  })

  it("explicit top-level targets are used as given", () => {
    const n = normalized(
      intentOf({ targets: [{ kind: "host", value: "h" }], script: { steps: [step("tool.read", [{ kind: "path", value: "/a" }])] } })
    )
    expect(n.targets.map((t) => t.value)).toEqual(["h"])
  })

  it("script_hash is sha256(JCS({steps})) of the normalized steps, in order", () => {
    const n = normalized(intentOf({ script: { steps: [step("tool.read", [], { path: "/tmp/in.txt" })] } }))
    expect(n.script_hash).toBe(unwrap(digestJson({ steps: n.script?.steps })))
    expect(n.script_hash).toMatch(/^[a-f0-9]{64}$/)
  })

  it("script_hash and intent digest ignore whitespace, key order and duplicate targets; step order matters", () => {
    const a = intentOf({
      tool_name: "script",
      args: {},
      context: { risk_class: "high" },
      script: {
        steps: [
          {
            tool_name: "tool.read",
            args: { path: "/tmp/in.txt", opts: { follow: true } },
            targets: [
              { kind: "path", value: "/tmp/in.txt", operation: "read" },
              { kind: "path", value: "/tmp/in.txt", operation: "read" }
            ]
          },
          { tool_name: "tool.write", args: { path: "/tmp/out.txt" }, targets: [{ kind: "path", value: "/tmp/out.txt", operation: "write" }] }
        ]
      }
    })
    const b = intentOf({
      tool_name: " script ",
      args: {},
      context: { risk_class: "high" },
      script: {
        steps: [
          {
            tool_name: " tool.read ",
            args: { opts: { follow: true }, path: "/tmp/in.txt" },
            targets: [{ kind: " path ", value: " /tmp/in.txt ", operation: "read" }]
          },
          { tool_name: "tool.write", args: { path: " /tmp/out.txt " }, targets: [{ kind: "path", value: "/tmp/out.txt", operation: "write" }] }
        ]
      }
    })
    const na = normalized(a)
    expect(na.script_hash).toBeDefined()
    expect(na.script_hash).toBe(normalized(b).script_hash)
    expect(digestOf(a)).toBe(digestOf(b))
    const reversed = intentOf({ ...a, context: { risk_class: "high" }, script: { steps: [...(a.script?.steps ?? [])].reverse() } })
    expect(normalized(reversed).script_hash).not.toBe(na.script_hash)
  })

  it("script_hash is ignored on input", () => {
    const request = intentOf({ script: { steps: [step("tool.read")] } })
    expect(normalized({ ...request, script_hash: "f".repeat(64) }).script_hash).toBe(normalized(request).script_hash)
  })
})

describe("raw-credential rejection (§2.4, §11 items 19–20)", () => {
  const rejectedAt = (request: IntentRequest, at: string) => {
    const error = failure(request)
    expect(error._tag).toBe("RawCredentialRejected")
    expect(error.message).toBe(
      `normalize intent: ${at} must not contain raw credential material; use credential references or digests instead`
    )
  }
  const accepted = (args: Record<string, unknown>) => expect(Either.isRight(normalizeIntent(intentOf({ args })))).toBe(true)

  it("rejects access_token: ghp_… in args", () => {
    rejectedAt(intentOf({ args: { path: "/tmp/out.txt", access_token: "ghp_1234567890abcdefghijklmnopqrstuvwxyz" } }), "args.access_token")
  })

  it("rejects api_key: sk-… in auth_context", () => {
    rejectedAt(
      intentOf({ context: { auth_context: { api_key: "sk-abcdefghijklmnopqrstuvwxyz123456" } } }),
      "context.auth_context.api_key"
    )
  })

  it("walks nested objects and arrays and reports the first hit in sorted key order", () => {
    rejectedAt(intentOf({ args: { config: { client_secret: "A1B2C3D4E5F6G7H8I9J0" } } }), "args.config.client_secret")
    rejectedAt(intentOf({ args: { items: [{ ok: 1 }, { Password: "hunter2hunter2hunter2" }] } }), "args.items[1].Password")
    rejectedAt(intentOf({ args: { z_token: "ghp_zzzz", a_secret: "sk-aaaa" } }), "args.a_secret")
  })

  it("checks after trimming the value", () => {
    rejectedAt(intentOf({ args: { token: "   ghp_abc   " } }), "args.token")
  })

  it("exempts reference-style keys (credential_ref, *_id, *_name, …)", () => {
    for (const key of ["credential_ref", "token_refs", "secret_digest", "api_key_hash", "token_issuer", "credential_source", "token_type", "token_ttl", "token_ttl_seconds", "token_id", "token_ids", "secret_name", "secret_names", "token_scope", "token_scopes"]) {
      accepted({ [key]: "ghp_1234567890abcdefghijklmnopqrstuvwxyz" })
    }
  })

  it("accepts reference values, 64-hex digests, short tokens and non-string values", () => {
    for (const value of ["env:GAIT_EXPORT:deadbeef", "ENV:X", "stub:abc123def456ghi789", "cmd:vault read x", "ref:ghp_abc", "sha256:ab12", "a".repeat(64), "short-token", "abcdefghijklmnopqrstuvwxyz", "12345678901234567890", "abc def ghi jkl 1234"]) {
      accepted({ token: value })
    }
    accepted({ token: 1234567890123456 })
    accepted({ token: { value: "ghp_1234567890abcdefghijklmnopqrstuvwxyz" } })
  })

  it("rejects a 32-char alphanumeric value and the fixed secret prefixes", () => {
    for (const value of ["A1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P6", "abcdefghijklmno1", "gho_x", "github_pat_x", "sk-x", "AKIAX", "ASIAX"]) {
      rejectedAt(intentOf({ args: { password: value } }), "args.password")
    }
    // 15 characters is below the length threshold; the AWS prefixes are case-sensitive.
    accepted({ password: "abcdefghijklmn1" })
    accepted({ password: "akiax" })
  })

  it("checks script step args as well", () => {
    const error = failure(intentOf({ script: { steps: [{ tool_name: "tool.read", args: { token: "ghp_abc" } }] } }))
    expect(error._tag).toBe("RawCredentialRejected")
    expect(error.message).toContain("script.steps[0].args.token")
  })

  it("heuristics of TestCredentialMaterialHeuristics (item 20)", () => {
    expect(keySuggestsCredential("access_token")).toBe(true)
    expect(keySuggestsCredential(" API-Key ")).toBe(true)
    expect(keySuggestsCredential("AccessKey")).toBe(true)
    expect(keySuggestsCredential("credential_ref")).toBe(false)
    expect(keySuggestsCredential("path")).toBe(false)
    expect(looksLikeCredential("ghp_1234567890abcdefghijklmnopqrstuvwxyz")).toBe(true)
    expect(looksLikeCredential("env:GAIT_EXPORT:deadbeef")).toBe(false)
    expect(looksLikeCredential("short-token")).toBe(false)
    expect(looksLikeCredential("A1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P6")).toBe(true)
    expect(looksLikeCredential("   ")).toBe(false)
  })
})

describe("prepared intent: unverified context claims are stripped (§2.7)", () => {
  const claims = intentOf({
    context: {
      context_set_digest: "A".repeat(64),
      context_evidence_mode: "required",
      context_refs: ["r1"],
      auth_context: { context_age_seconds: 5, provider: "oidc" }
    }
  })

  it("removes digest, mode, refs and context_age_seconds", () => {
    const c = prepared(claims).body.context
    expect(c).not.toHaveProperty("context_set_digest")
    expect(c).not.toHaveProperty("context_evidence_mode")
    expect(c).not.toHaveProperty("context_refs")
    expect(c.auth_context).toEqual({ provider: "oidc" })
  })

  it("drops an auth_context left empty", () => {
    const c = prepared(intentOf({ context: { auth_context: { context_age_seconds: 5 } } })).body.context
    expect(c).not.toHaveProperty("auth_context")
  })

  it("the digest is that of the intent without the claims", () => {
    expect(prepared(claims).intentDigest).toBe(prepared(intentOf({ context: { auth_context: { provider: "oidc" } } })).intentDigest)
    const raw = unwrap(normalizeIntent(claims))
    expect(unwrap(digestJson(raw))).not.toBe(prepared(claims).intentDigest)
    expect(unwrap(digestJson(stripUnverifiedContextClaims(raw)))).toBe(prepared(claims).intentDigest)
  })
})

describe("digests (§2.5)", () => {
  it("ignore schema id/version, created_at, producer_version, input digests and relationship", () => {
    const base = intentOf({})
    const decorated: IntentRequest = {
      ...base,
      schema_id: "something.else",
      schema_version: "9.9.9",
      created_at: "2026-02-05T12:00:00Z",
      producer_version: "1.2.3",
      args_digest: "0".repeat(64),
      intent_digest: "1".repeat(64),
      relationship: { parent_ref: { kind: "session", id: "s" } }
    }
    expect(digestOf(decorated)).toBe(digestOf(base))
  })

  it("change when a bound execution-context field changes", () => {
    expect(digestOf(intentOf({ context: { run_id: "run-1" } }))).not.toBe(digestOf(intentOf({ context: { run_id: "run-2" } })))
  })

  it("digest N has exactly the keys of §2.5/§2.6", () => {
    const n = normalized(intentOf({ arg_provenance: [{ arg_path: "a", source: "user" }] }))
    expect(Object.keys(n).sort()).toEqual(["arg_provenance", "args", "context", "targets", "tool_name"])
  })

  it("created_at defaults to 1980 and is converted to UTC", () => {
    expect(prepared(intentOf({})).createdAt).toBe("1980-01-01T00:00:00Z")
    expect(prepared(intentOf({ created_at: "0001-01-01T00:00:00Z" })).createdAt).toBe("1980-01-01T00:00:00Z")
    expect(prepared(intentOf({ created_at: "2026-02-05T12:00:00+02:00" })).createdAt).toBe("2026-02-05T10:00:00Z")
    expect(Either.isLeft(prepareIntent(intentOf({ created_at: "yesterday" })))).toBe(true)
  })
})

describe("decoding the intent file (gate.parseIntentText)", () => {
  it("ignores unknown fields and reads null as absent", () => {
    const text = JSON.stringify({ tool_name: "tool.demo", args: null, targets: null, surprise: { x: 1 }, context: { ...baseContext, extra: 1 } })
    const p = prepared(unwrap(parseIntentText(text, "i.json")))
    expect(p.body.args).toEqual({})
    expect(p.body.targets).toEqual([])
  })

  it("rejects non-objects and JSON syntax errors as IntentUnparsable", () => {
    for (const text of ["[]", "null", "42", "{", ""]) {
      const error = unwrapLeft(parseIntentText(text, "i.json"))
      expect(error._tag).toBe("IntentUnparsable")
      expect(error.message.startsWith("parse intent json: ")).toBe(true)
    }
  })
})
