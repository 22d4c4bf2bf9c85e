/**
 * `gait gate eval` profiles (spec gate.md §1.4) and the project config `.gait/config.yaml` of the
 * working directory (gate.md §1.3, ops.md §1.3–1.4), as a process.
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { Either } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { runGait } from "../helpers/cli.js"
import {
  DEV_MODE_WARNING,
  EXAMPLE_POLICY,
  errorEnvelope,
  exampleIntent,
  filesIn,
  okJson,
  scratch,
  textError,
  verifyTraceFile,
  writeKeyFiles
} from "./fixtures/support.js"

const dirs = scratch()
afterAll(dirs.cleanup)

const inputs = dirs.dir("gait-cli-inputs-")
const input = (name: string, content: string): string => {
  const file = path.join(inputs, name)
  writeFileSync(file, content)
  return file
}

const key = writeKeyFiles(inputs)
const READ = exampleIntent("read_file")
const DELETE = exampleIntent("delete_prod")

/** Default block; reads are allowed by a rule that is not high-risk, so oss-prod accepts it. */
const BLOCK_POLICY = input(
  "block-default.yaml",
  [
    "schema_id: gait.gate.policy",
    "schema_version: 1.0.0",
    "default_verdict: block",
    "rules:",
    "  - name: allow-reads",
    "    effect: allow",
    "    match:",
    "      tool_names: [fs.read]",
    ""
  ].join("\n")
)
const ALLOW_POLICY = input("allow-default.yaml", "schema_id: gait.gate.policy\ndefault_verdict: allow\n")

const OSS_PROD_DEFAULT_ALLOW =
  "oss-prod profile rejects policy default_verdict=allow; use default_verdict: block or require_approval"

const evalArgs = (policy: string, intent: string, ...extra: ReadonlyArray<string>): Array<string> => [
  "gate",
  "eval",
  "--policy",
  policy,
  "--intent",
  intent,
  ...extra
]
const prodKey = ["--key-mode", "prod", "--private-key", key.privatePath] as const

describe("gait gate eval --profile oss-prod", () => {
  const rejections: ReadonlyArray<{ readonly name: string; readonly args: Array<string>; readonly error: string }> = [
    {
      name: "--simulate is rejected",
      args: evalArgs(BLOCK_POLICY, READ, "--profile", "oss-prod", "--simulate", ...prodKey),
      error: "oss-prod profile does not allow --simulate"
    },
    {
      name: "the dev key mode is rejected",
      args: evalArgs(BLOCK_POLICY, READ, "--profile", "oss-prod"),
      error: "oss-prod profile requires --key-mode prod"
    },
    {
      name: "a missing key source is rejected",
      args: evalArgs(BLOCK_POLICY, READ, "--profile", "oss-prod", "--key-mode", "prod"),
      error: "oss-prod profile requires --private-key or --private-key-env"
    },
    {
      name: "a default_verdict allow policy is rejected",
      args: evalArgs(ALLOW_POLICY, READ, "--profile", "oss-prod", ...prodKey),
      error: OSS_PROD_DEFAULT_ALLOW
    }
  ]

  it.each(rejections)("$name (exit 6, no trace)", ({ args, error }) => {
    const cwd = dirs.dir()
    const jsonArgs = [...args, "--json"]
    const body = errorEnvelope(runGait(jsonArgs, { cwd }), jsonArgs, { exitCode: 6, errorCode: "profile_violation", error })
    expect(body.profile).toBe("oss-prod")
    expect(filesIn(cwd)).toEqual([])
  })

  it("the default-allow rejection in text mode: the exact message, no trace", () => {
    const cwd = dirs.dir()
    textError(runGait(evalArgs(ALLOW_POLICY, READ, "--profile", "oss-prod", ...prodKey), { cwd }), {
      exitCode: 6,
      error: OSS_PROD_DEFAULT_ALLOW
    })
    expect(filesIn(cwd)).toEqual([])
  })

  it("with a prod key and a block-default policy it evaluates and signs", () => {
    const cwd = dirs.dir()
    const allowArgs = evalArgs(BLOCK_POLICY, READ, "--profile", "oss-prod", ...prodKey, "--json")
    const allow = okJson(runGait(allowArgs, { cwd }), allowArgs, 0)
    expect(allow.profile).toBe("oss-prod")
    expect(allow.verdict).toBe("allow")
    expect(allow).not.toHaveProperty("warnings")
    expect(verifyTraceFile(path.join(cwd, allow.trace_path as string), key.publicKey)).toEqual(Either.void)

    // Profile and key mode are compared after lower(trim).
    const blockArgs = evalArgs(BLOCK_POLICY, DELETE, "--profile", " OSS-Prod ", "--key-mode", "PROD", "--private-key", key.privatePath, "--json")
    const block = okJson(runGait(blockArgs, { cwd }), blockArgs, 3)
    expect(block.profile).toBe("oss-prod")
    expect(block.verdict).toBe("block")
    expect(block.reason_codes).toEqual(["default_block"])
    expect(verifyTraceFile(path.join(cwd, block.trace_path as string), key.publicKey)).toEqual(Either.void)
    expect(filesIn(cwd)).toEqual([allow.trace_path, block.trace_path].sort())
  })
})

describe("gait gate eval with a project config (.gait/config.yaml in the cwd)", () => {
  /** A working directory holding `policies/p.yaml` (the example policy) and the given config. */
  const projectDir = (config: string): string => {
    const cwd = dirs.dir()
    mkdirSync(path.join(cwd, ".gait"))
    mkdirSync(path.join(cwd, "policies"))
    copyFileSync(EXAMPLE_POLICY, path.join(cwd, "policies", "p.yaml"))
    writeFileSync(path.join(cwd, ".gait", "config.yaml"), config)
    return cwd
  }
  const PROJECT_FILES = [".gait", path.join(".gait", "config.yaml"), "policies", path.join("policies", "p.yaml")]

  it("gate.policy (relative to the cwd) and gate.trace_path are used when the flags are absent", () => {
    const cwd = projectDir("gate:\n  policy: policies/p.yaml\n  trace_path: ' audit/trace.json '\n")
    const args = ["gate", "eval", "--intent", READ, "--json"]
    const body = okJson(runGait(args, { cwd }), args, 0)
    expect(body.verdict).toBe("allow")
    expect(body.matched_rule).toBe("allow-read-only-tools")
    expect(body.trace_path).toBe("audit/trace.json")
    expect(body.warnings).toEqual([DEV_MODE_WARNING])
    expect(filesIn(cwd)).toEqual([...PROJECT_FILES, "audit", path.join("audit", "trace.json")].sort())
  })

  it("a flag overrides the config", () => {
    const cwd = projectDir("gate:\n  policy: policies/p.yaml\n")
    const args = ["gate", "eval", "--intent", READ, "--policy", BLOCK_POLICY, "--json"]
    const body = okJson(runGait(args, { cwd }), args, 0)
    expect(body.matched_rule).toBe("allow-reads")
    const args2 = ["gate", "eval", "--intent", DELETE, "--policy", BLOCK_POLICY, "--json"]
    const body2 = okJson(runGait(args2, { cwd }), args2, 3)
    expect(body2.reason_codes).toEqual(["default_block"])
  })

  it("profile, key mode and key from the config (oss-prod posture) apply to a bare `--intent` run", () => {
    const config = [
      "gate:",
      `  policy: ${BLOCK_POLICY}`,
      "  profile: oss-prod",
      "  key_mode: prod",
      `  private_key: ${key.privatePath}`,
      ""
    ].join("\n")
    const cwd = projectDir(config)
    const args = ["gate", "eval", "--intent", READ, "--json"]
    const body = okJson(runGait(args, { cwd }), args, 0)
    expect(body.profile).toBe("oss-prod")
    expect(verifyTraceFile(path.join(cwd, body.trace_path as string), key.publicKey)).toEqual(Either.void)
  })

  it("--no-config ignores it: the policy is then missing (exit 6, no trace)", () => {
    const cwd = projectDir("gate:\n  policy: policies/p.yaml\n")
    const args = ["gate", "eval", "--intent", READ, "--no-config", "--json"]
    errorEnvelope(runGait(args, { cwd }), args, {
      exitCode: 6,
      errorCode: "invalid_input",
      error: "both --policy and --intent are required"
    })
    expect(filesIn(cwd)).toEqual(PROJECT_FILES)
  })

  it("an explicit --config that does not exist is an error (exit 6), unlike the missing default", () => {
    const cwd = dirs.dir()
    const args = evalArgs(EXAMPLE_POLICY, READ, "--config", "other.yaml", "--json")
    const body = errorEnvelope(runGait(args, { cwd }), args, {
      exitCode: 6,
      errorCode: /^(?:input_unreadable|config_invalid)$/,
      error: /^read project config: .*other\.yaml/
    })
    expect(body.path).toBe("other.yaml")
    expect(filesIn(cwd)).toEqual([])
  })

  it("unknown keys still work and are reported in `warnings`", () => {
    const cwd = projectDir("gate:\n  policy: policies/p.yaml\n  trace_ttl: 24h\nteam: platform\n")
    const args = ["gate", "eval", "--intent", READ, "--json"]
    const body = okJson(runGait(args, { cwd }), args, 0)
    expect(body.verdict).toBe("allow")
    const warnings = body.warnings as ReadonlyArray<string>
    expect(warnings).toContain(DEV_MODE_WARNING)
    expect(warnings.some((w) => w.includes("gate.trace_ttl"))).toBe(true)
    expect(warnings.some((w) => w.includes('"team"'))).toBe(true)
    expect(warnings).toEqual([...warnings].sort())
  })

  it("a config that is not valid YAML is an error with its line (exit 6, no trace)", () => {
    const cwd = projectDir("gate:\n  policy: policies/p.yaml\n  profile: [oss-prod\n")
    const args = ["gate", "eval", "--intent", READ, "--json"]
    const body = errorEnvelope(runGait(args, { cwd }), args, {
      exitCode: 6,
      errorCode: "config_invalid",
      error: /^parse project config: .*config\.yaml:\d+:\d+: /
    })
    expect(typeof body.line).toBe("number")
    expect(filesIn(cwd)).toEqual(PROJECT_FILES)
  })
})
