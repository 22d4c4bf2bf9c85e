/**
 * `gait gate eval` as a process (the bundled dist/gait.cjs): exit code per verdict, the `--json`
 * line and the text lines (spec gate.md §6), the signed trace file (§7, §8), and the version/help
 * surface (ops.md §4, §7). Every run gets a fresh working directory so default trace files land there.
 */
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runGait } from "../helpers/cli.js"
import {
  correlationIdOf,
  DEV_MODE_WARNING,
  EXAMPLE_POLICY,
  type ExampleIntent,
  exampleIntent,
  filesIn,
  okJson,
  PACKAGE_VERSION,
  scratch,
  sha256Hex,
  verifyTraceFile
} from "./fixtures/support.js"

const dirs = scratch()
afterAll(dirs.cleanup)

const evalArgs = (intent: string, ...extra: ReadonlyArray<string>): Array<string> => [
  "gate",
  "eval",
  "--policy",
  EXAMPLE_POLICY,
  "--intent",
  intent,
  ...extra
]

const GATE_EVAL_EXPLAIN =
  "Run policy evaluation for a single intent request, optionally simulate non-enforcing rollout, and write signed gate artifacts."

const ENVELOPE_KEYS = [
  "correlation_id",
  "event_id",
  "intent_digest",
  "ok",
  "policy_digest",
  "profile",
  "reason_codes",
  "trace_id",
  "trace_path",
  "verdict"
] as const

const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>

describe("gait gate eval: verdicts and exit codes with the example policy", () => {
  const cases: ReadonlyArray<readonly [ExampleIntent, string, number]> = [
    ["read_file", "allow", 0],
    ["write_config", "require_approval", 4],
    ["migrate_plan", "dry_run", 0],
    ["delete_prod", "block", 3]
  ]

  it.each(cases)("%s → %s, exit %i, one sorted JSON line, one trace in the cwd", (name, verdict, exitCode) => {
    const cwd = dirs.dir()
    const args = evalArgs(exampleIntent(name), "--json")
    const body = okJson(runGait(args, { cwd }), args, exitCode)

    for (const key of ENVELOPE_KEYS) expect(body, `envelope member ${key}`).toHaveProperty(key)
    expect(body.verdict).toBe(verdict)
    expect(body.profile).toBe("standard")
    expect(Array.isArray(body.reason_codes)).toBe(true)
    expect((body.reason_codes as ReadonlyArray<unknown>).length).toBeGreaterThan(0)
    expect(body.policy_digest).toMatch(/^[0-9a-f]{64}$/)
    expect(body.intent_digest).toMatch(/^[0-9a-f]{64}$/)
    expect(body.trace_id).toMatch(/^[0-9a-f]{24}$/)
    expect(body.event_id).toMatch(/^[0-9a-f]{24}$/)
    // trace_id = sha256("<policy_digest>:<intent_digest>:<verdict>")[0:24] (spec gate.md §0.3).
    expect(body.trace_id).toBe(sha256Hex(`${body.policy_digest}:${body.intent_digest}:${verdict}`).slice(0, 24))
    // Dev mode is the default and always says so (§8).
    expect(body.warnings).toEqual([DEV_MODE_WARNING])

    const tracePath = body.trace_path as string
    expect(tracePath).toBe(`trace_${body.trace_id}_${body.event_id}.json`)
    expect(filesIn(cwd)).toEqual([tracePath])
    const trace = readJson(path.join(cwd, tracePath))
    expect(trace.verdict).toBe(verdict)
    expect(trace.trace_id).toBe(body.trace_id)
    expect(trace.event_id).toBe(body.event_id)
  })

  it("require_approval reports the approvals it needs; dry_run keeps the plan phase", () => {
    const cwdA = dirs.dir()
    const argsA = evalArgs(exampleIntent("write_config"), "--json")
    const approval = okJson(runGait(argsA, { cwd: cwdA }), argsA, 4)
    expect(approval.required_approvals).toBe(1)
    expect(approval.reason_codes).toEqual(["approval_token_missing", "write_requires_approval"])
    expect(approval.violations).toEqual(["approval_not_granted"])

    const cwdB = dirs.dir()
    const argsB = evalArgs(exampleIntent("delete_prod"), "--json")
    const block = okJson(runGait(argsB, { cwd: cwdB }), argsB, 3)
    // A block verdict is an evaluation, not an error: no error envelope members (spec gate.md §9.3).
    for (const key of ["error", "error_code", "error_category", "retryable", "hint"]) expect(block).not.toHaveProperty(key)
    expect(block.violations).toEqual(["destructive_operation"])
  })

  it("text mode prints `gate eval: verdict=<v>` and `trace: <path>` first, and writes that trace", () => {
    const cwd = dirs.dir()
    const result = runGait(evalArgs(exampleIntent("delete_prod")), { cwd })
    expect(result.code).toBe(3)
    expect(result.stderr).toBe("")
    const lines = result.stdout.split("\n")
    expect(lines[0]).toBe("gate eval: verdict=block")
    const traceLine = lines[1] ?? ""
    expect(traceLine).toMatch(/^trace: trace_[0-9a-f]{24}_[0-9a-f]{24}\.json$/)
    expect(lines).toContain(`warning: ${DEV_MODE_WARNING}`)
    expect(result.stdout.endsWith("\n")).toBe(true)
    const tracePath = traceLine.slice("trace: ".length)
    expect(filesIn(cwd)).toEqual([tracePath])
    expect(readJson(path.join(cwd, tracePath)).verdict).toBe("block")
  })
})

describe("gait gate eval: the signed trace file", () => {
  let keyDir = ""
  let privateKeyPath = ""
  let publicKey = new Uint8Array()
  let keyId = ""

  beforeAll(() => {
    keyDir = path.join(dirs.dir("gait-cli-keys-"), "keys")
    const args = ["keys", "init", "--out-dir", keyDir, "--json"]
    const body = okJson(runGait(args, { cwd: dirs.dir() }), args, 0)
    privateKeyPath = path.join(keyDir, "gait_private.key")
    expect(body.private_key_path).toBe(privateKeyPath)
    expect(body.public_key_path).toBe(path.join(keyDir, "gait_public.key"))
    // The public key file is the standard base64 of the raw 32 bytes (spec gate.md §8).
    const publicText = readFileSync(path.join(keyDir, "gait_public.key"), "utf8")
    expect(publicText).toMatch(/^[A-Za-z0-9+/]{43}=\n$/)
    publicKey = new Uint8Array(Buffer.from(publicText.trim(), "base64"))
    expect(publicKey).toHaveLength(32)
    expect(body.public_key).toBe(publicText.trim())
    keyId = body.key_id as string
    // key_id = hex(sha256(raw public key)).
    expect(keyId).toBe(sha256Hex(publicKey))
    for (const file of ["gait_private.key", "gait_public.key"]) expect(statSync(path.join(keyDir, file)).mode & 0o777).toBe(0o600)
  })

  it("prod key file: 0600, pretty JSON + newline, schema, verdict, and a signature that verifies (a tampered copy does not)", () => {
    const cwd = dirs.dir()
    const args = evalArgs(exampleIntent("delete_prod"), "--key-mode", "prod", "--private-key", privateKeyPath, "--json")
    const body = okJson(runGait(args, { cwd }), args, 3)
    // Prod mode has no dev-mode warning (and here no other warning either).
    expect(body).not.toHaveProperty("warnings")

    const file = path.join(cwd, body.trace_path as string)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const text = readFileSync(file, "utf8")
    const trace = JSON.parse(text) as Record<string, unknown>
    // 2-space pretty print in struct order (not sorted) plus one trailing newline (spec gate.md §7.4).
    expect(text).toBe(`${JSON.stringify(trace, null, 2)}\n`)
    expect(Object.keys(trace).slice(0, 8)).toEqual([
      "schema_id",
      "schema_version",
      "created_at",
      "observed_at",
      "producer_version",
      "trace_id",
      "event_id",
      "correlation_id"
    ])
    expect(Object.keys(trace).at(-1)).toBe("signature")
    expect(trace).not.toHaveProperty("reason_codes")

    expect(trace.schema_id).toBe("gait.gate.trace")
    expect(trace.schema_version).toBe("1.0.0")
    expect(trace.producer_version).toBe(PACKAGE_VERSION)
    expect(trace.created_at).toBe("2026-11-27T09:01:00Z")
    expect(trace.tool_name).toBe("fs.delete")
    expect(trace.verdict).toBe("block")
    expect(trace.violations).toEqual(["destructive_operation"])
    expect(trace.trace_id).toBe(body.trace_id)
    expect(trace.event_id).toBe(body.event_id)
    expect(trace.correlation_id).toBe(correlationIdOf(args))
    expect(trace.policy_digest).toBe(body.policy_digest)
    expect(trace.intent_digest).toBe(body.intent_digest)
    // event_id = sha256("<trace_id>:<observed_at>")[0:24] (spec gate.md §7.2).
    expect(trace.event_id).toBe(sha256Hex(`${trace.trace_id}:${trace.observed_at}`).slice(0, 24))

    const signature = trace.signature as Record<string, unknown>
    expect(signature.alg).toBe("ed25519")
    expect(signature.key_id).toBe(keyId)
    expect(verifyTraceFile(file, publicKey)).toEqual(Either.void)

    const tampered = path.join(cwd, "tampered.json")
    writeFileSync(tampered, `${JSON.stringify({ ...trace, verdict: "allow" }, null, 2)}\n`)
    expect(verifyTraceFile(tampered, publicKey)).toEqual(Either.left("signed_digest mismatch"))
    const otherKey = new Uint8Array(32).fill(7)
    expect(Either.isLeft(verifyTraceFile(file, otherKey))).toBe(true)
  })

  it("--private-key-env VAR signs with the key held in the variable", () => {
    const cwd = dirs.dir()
    const args = evalArgs(exampleIntent("read_file"), "--key-mode", "prod", "--private-key-env", "GAIT_CLI_TEST_SIGNING_KEY", "--json")
    const env = { GAIT_CLI_TEST_SIGNING_KEY: readFileSync(privateKeyPath, "utf8") }
    const body = okJson(runGait(args, { cwd, env }), args, 0)
    expect(body.verdict).toBe("allow")
    const file = path.join(cwd, body.trace_path as string)
    expect((readJson(file).signature as Record<string, unknown>).key_id).toBe(keyId)
    expect(verifyTraceFile(file, publicKey)).toEqual(Either.void)
  })

  it("the same inputs twice: same trace_id, different event_id, two files (no overwrite)", () => {
    const cwd = dirs.dir()
    const args = evalArgs(exampleIntent("read_file"), "--json")
    const first = okJson(runGait(args, { cwd }), args, 0)
    const second = okJson(runGait(args, { cwd }), args, 0)
    expect(second.trace_id).toBe(first.trace_id)
    expect(second.policy_digest).toBe(first.policy_digest)
    expect(second.intent_digest).toBe(first.intent_digest)
    expect(second.event_id).not.toBe(first.event_id)
    expect(second.trace_path).not.toBe(first.trace_path)
    expect(filesIn(cwd)).toEqual([first.trace_path, second.trace_path].sort())
    expect(readJson(path.join(cwd, first.trace_path as string)).event_id).toBe(first.event_id)
    expect(readJson(path.join(cwd, second.trace_path as string)).event_id).toBe(second.event_id)
  })

  it("an explicit --trace-out is used as given (trimmed, not cleaned), creating parent directories", () => {
    const cwd = dirs.dir()
    const args = evalArgs(exampleIntent("migrate_plan"), "--trace-out", " ./audit//gate/t.json ", "--json")
    const body = okJson(runGait(args, { cwd }), args, 0)
    expect(body.verdict).toBe("dry_run")
    expect(body.phase).toBe("plan")
    expect(body.trace_path).toBe("./audit//gate/t.json")
    expect(filesIn(cwd)).toEqual(["audit", path.join("audit", "gate"), path.join("audit", "gate", "t.json")])
    const file = path.join(cwd, "audit", "gate", "t.json")
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readJson(file).trace_id).toBe(body.trace_id)

    // An absolute destination outside the cwd works too; nothing lands in the cwd.
    const elsewhere = path.join(dirs.dir(), "abs-trace.json")
    const cwd2 = dirs.dir()
    const args2 = evalArgs(exampleIntent("migrate_plan"), "--trace-out", elsewhere, "--json")
    const body2 = okJson(runGait(args2, { cwd: cwd2 }), args2, 0)
    expect(body2.trace_path).toBe(elsewhere)
    expect(existsSync(elsewhere)).toBe(true)
    expect(filesIn(cwd2)).toEqual([])
  })

  it("intent and policy paths are resolved against the working directory", () => {
    const cwd = dirs.dir()
    copyFileSync(EXAMPLE_POLICY, path.join(cwd, "policy.yaml"))
    copyFileSync(exampleIntent("write_config"), path.join(cwd, "intent.json"))
    const args = ["gate", "eval", "--policy", "policy.yaml", "--intent", "intent.json", "--json"]
    const body = okJson(runGait(args, { cwd }), args, 4)
    expect(body.verdict).toBe("require_approval")
    expect(filesIn(cwd)).toEqual(["intent.json", "policy.yaml", body.trace_path].sort())
  })
})

describe("gait version, help and explain", () => {
  it("`gait version` and `gait` alone print the version, exit 0", () => {
    for (const args of [["version"], []]) {
      const result = runGait(args, { cwd: dirs.dir() })
      expect(result.code).toBe(0)
      expect(result.stdout).toBe(`gait ${PACKAGE_VERSION}\n`)
      expect(result.stderr).toBe("")
    }
  })

  it("`gait version --json` is byte-exact with the spec's correlation id vector", () => {
    const result = runGait(["version", "--json"], { cwd: dirs.dir() })
    expect(result.code).toBe(0)
    expect(result.stderr).toBe("")
    // ops.md §4: ["gait","version","--json"] → e817da1ea5bc1c4b0c6da48f.
    expect(correlationIdOf(["version", "--json"])).toBe("e817da1ea5bc1c4b0c6da48f")
    expect(result.stdout).toBe(`{"correlation_id":"e817da1ea5bc1c4b0c6da48f","ok":true,"version":"${PACKAGE_VERSION}"}\n`)
  })

  it("`gait --help` and `gait gate eval --help` print usage and exit 0", () => {
    const root = runGait(["--help"], { cwd: dirs.dir() })
    expect(root.code).toBe(0)
    expect(root.stdout).toContain("gate")
    expect(root.stdout).toContain("version")
    const evalHelp = runGait(["gate", "eval", "--help"], { cwd: dirs.dir() })
    expect(evalHelp.code).toBe(0)
    for (const flag of ["--policy", "--intent", "--trace-out", "--json"]) expect(evalHelp.stdout).toContain(flag)
  })

  it("`gait gate eval --explain` prints the one-line description, exit 0, and writes nothing", () => {
    const cwd = dirs.dir()
    const result = runGait(["gate", "eval", "--explain"], { cwd })
    expect(result.code).toBe(0)
    expect(result.stderr).toBe("")
    expect(result.stdout).toBe(`${GATE_EVAL_EXPLAIN}\n`)
    expect(filesIn(cwd)).toEqual([])
  })
})
