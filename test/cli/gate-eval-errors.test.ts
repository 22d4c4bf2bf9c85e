/**
 * `gait gate eval` with bad input, as a process. Each case runs twice, in fresh working directories:
 * with `--json` (one sorted error envelope, spec gate.md §9.3 / ops.md §3.3) and in text mode (an
 * `error: <message>` line). Either way the exit code is the documented one, nothing reaches stderr,
 * no stack trace is printed, and no trace file (nor a `.tmp-` leftover) is written.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { runGait } from "../helpers/cli.js"
import {
  EXAMPLE_POLICY,
  type ExpectedError,
  errorEnvelope,
  exampleIntent,
  filesIn,
  scratch,
  textError,
  writeKeyFiles
} from "./fixtures/support.js"

const dirs = scratch()
afterAll(dirs.cleanup)

// ------------------------------------------------------------------------------------------------
// Inputs, written once into their own directory (never the working directory of a run).

const inputs = dirs.dir("gait-cli-inputs-")
const input = (name: string, content?: string): string => {
  const file = path.join(inputs, name)
  if (content !== undefined) writeFileSync(file, content)
  return file
}

interface IntentDoc {
  [key: string]: unknown
  args: Record<string, unknown>
  context: Record<string, unknown>
}
const readFileIntent = (): IntentDoc => JSON.parse(readFileSync(exampleIntent("read_file"), "utf8")) as IntentDoc
const intentWith = (change: (intent: IntentDoc) => void): string => {
  const intent = readFileIntent()
  change(intent)
  return JSON.stringify(intent, null, 2)
}

const INTENT = exampleIntent("read_file")
const intents = {
  malformed: input("malformed.json", '{"tool_name": "fs.read", "args": {'),
  array: input("array.json", '[{"tool_name": "fs.read"}]'),
  string: input("string.json", '"fs.read"'),
  wrongTypes: input(
    "wrong-types.json",
    intentWith((i) => {
      i.tool_name = 5
    })
  ),
  empty: input("empty.json", ""),
  missing: input("does-not-exist.json"),
  directory: (() => {
    const d = input("a-directory.json")
    mkdirSync(d)
    return d
  })(),
  // Valid JSON padded to 10 MB: the size alone must refuse it, before parsing.
  tooLarge: input("too-large.json", `${JSON.stringify(readFileIntent())}${" ".repeat(10 * 1024 * 1024)}`),
  noWorkspace: input(
    "no-workspace.json",
    intentWith((i) => {
      delete i.context.workspace
    })
  ),
  rawCredential: input(
    "raw-credential.json",
    intentWith((i) => {
      i.args.api_key = "sk-live-0123456789abcdefghij"
    })
  ),
  // Deeper than Go's encoding/json limit (10000): a parse error, never a crash.
  deeplyNested: input(
    "deeply-nested.json",
    `{"tool_name":"fs.read","args":{"a":${"[".repeat(20_000)}${"]".repeat(20_000)}},"context":{"identity":"agent:x","workspace":"/srv/app","risk_class":"low"}}`
  )
}

const policies = {
  duplicateKey: input("duplicate-key.yaml", "schema_id: gait.gate.policy\ndefault_verdict: block\ndefault_verdict: allow\n"),
  tabIndent: input("tab-indent.yaml", "schema_id: gait.gate.policy\nfail_closed:\n\tenabled: true\n"),
  unknownVerdict: input("unknown-verdict.yaml", "schema_id: gait.gate.policy\ndefault_verdict: x\n"),
  unknownKey: input("unknown-key.yaml", "schema_id: gait.gate.policy\nbogus_key: 1\ndefault_verdict: block\n"),
  legacy: input("legacy.yaml", "name: old-style\nversion: 1\ndefault_verdict: block\n"),
  // "Billion laughs": each level doubles the aliases; expanding it would take gigabytes.
  aliasBomb: input(
    "alias-bomb.yaml",
    `schema_id: gait.gate.policy\na0: &a0 [x, x]\n${Array.from({ length: 30 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}, *a${i}]`).join("\n")}\n`
  )
}

const keys = {
  valid: writeKeyFiles(inputs).privatePath,
  notBase64: input("not-base64.key", "this is not base64!\n"),
  // A 32-byte value (e.g. a public key) where the 64-byte private key belongs.
  wrongLength: input("wrong-length.key", `${Buffer.alloc(32, 1).toString("base64")}\n`)
}

const LEGACY_HINT =
  "use the repo-root `.gait.yaml` contract: `schema_id`, `schema_version`, `default_verdict`, optional `fail_closed`, optional `mcp_trust`, and `rules`"
const LEGACY_REPLACEMENTS = [
  "version->schema_id|schema_version (set schema_id=gait.gate.policy and schema_version=1.0.0)",
  "name->remove the top-level policy name; rule names remain under rules[].name when needed"
]

const evalArgs = (policy: string, intent: string, ...extra: ReadonlyArray<string>): Array<string> => [
  "gate",
  "eval",
  "--policy",
  policy,
  "--intent",
  intent,
  ...extra
]

// ------------------------------------------------------------------------------------------------
// The table.

interface ErrorCase extends ExpectedError {
  readonly name: string
  /** Arguments without `--json` (appended for the JSON run). */
  readonly args: ReadonlyArray<string>
  /** Prepares the working directory; returns the entries it created (they must be all that remain). */
  readonly setup?: (cwd: string) => ReadonlyArray<string>
  /** Further checks on the JSON envelope. */
  readonly envelope?: (body: Record<string, unknown>, cwd: string) => void
}

const cases: ReadonlyArray<ErrorCase> = [
  // --- intent file
  {
    name: "malformed JSON intent",
    args: evalArgs(EXAMPLE_POLICY, intents.malformed),
    exitCode: 6,
    errorCode: "intent_unparsable",
    error: /^parse intent json: \S/
  },
  {
    name: "JSON array intent",
    args: evalArgs(EXAMPLE_POLICY, intents.array),
    exitCode: 6,
    errorCode: "intent_unparsable",
    error: /^parse intent json: .*array/
  },
  {
    name: "JSON string intent",
    args: evalArgs(EXAMPLE_POLICY, intents.string),
    exitCode: 6,
    errorCode: "intent_unparsable",
    error: /^parse intent json: .*string/
  },
  {
    name: "wrong field type (tool_name: 5)",
    args: evalArgs(EXAMPLE_POLICY, intents.wrongTypes),
    exitCode: 6,
    errorCode: "intent_unparsable",
    error: /^parse intent json: .*tool_name/
  },
  {
    name: "empty intent file",
    args: evalArgs(EXAMPLE_POLICY, intents.empty),
    exitCode: 6,
    errorCode: "intent_unparsable",
    error: /^parse intent json: \S/
  },
  {
    name: "missing intent file",
    args: evalArgs(EXAMPLE_POLICY, intents.missing),
    exitCode: 6,
    errorCode: "input_unreadable",
    error: `read intent: ${intents.missing}: no such file or directory`,
    envelope: (body) => expect(body.reason).toBe("not_found")
  },
  {
    name: "a directory as the intent",
    args: evalArgs(EXAMPLE_POLICY, intents.directory),
    exitCode: 6,
    errorCode: "input_unreadable",
    error: `read intent: ${intents.directory}: is a directory`,
    envelope: (body) => expect(body.reason).toBe("is_directory")
  },
  {
    name: "a 10 MB intent (too large)",
    args: evalArgs(EXAMPLE_POLICY, intents.tooLarge),
    exitCode: 6,
    errorCode: "input_unreadable",
    error: /^read intent: .*larger than/,
    envelope: (body) => expect(body.reason).toBe("too_large")
  },
  {
    name: "intent without context.workspace",
    args: evalArgs(EXAMPLE_POLICY, intents.noWorkspace),
    exitCode: 6,
    errorCode: "intent_invalid",
    error: "normalize intent: context.workspace is required"
  },
  {
    name: "raw credential in args",
    args: evalArgs(EXAMPLE_POLICY, intents.rawCredential),
    exitCode: 6,
    errorCode: "raw_credential_rejected",
    error:
      "normalize intent: args.api_key must not contain raw credential material; use credential references or digests instead",
    // The secret itself is never echoed.
    envelope: (body) => expect(JSON.stringify(body)).not.toContain("sk-live-0123456789abcdefghij")
  },
  {
    name: "deeply nested args (20000 levels, beyond Go's 10000 limit) is invalid input, not an internal failure",
    args: evalArgs(EXAMPLE_POLICY, intents.deeplyNested),
    exitCode: 6,
    errorCode: /^intent_/,
    error: /^(?:parse|normalize) intent/
  },
  // --- policy file
  {
    name: "YAML with duplicate keys (message has line:column)",
    args: evalArgs(policies.duplicateKey, INTENT),
    exitCode: 6,
    errorCode: "policy_unparsable",
    error: /^parse policy yaml: .*duplicate-key\.yaml:3:\d+: .*(?:unique|duplicate)/i,
    envelope: (body) => expect(body.line).toBe(3)
  },
  {
    name: "YAML with tab indentation (message has line:column)",
    args: evalArgs(policies.tabIndent, INTENT),
    exitCode: 6,
    errorCode: "policy_unparsable",
    error: /^parse policy yaml: .*tab-indent\.yaml:3:\d+: .*tab/i,
    envelope: (body) => expect(body.line).toBe(3)
  },
  {
    name: "YAML alias bomb is refused as input, not expanded (was an internal error)",
    args: evalArgs(policies.aliasBomb, INTENT),
    exitCode: 6,
    errorCode: "policy_unparsable",
    error: /^parse policy yaml: .*alias/i
  },
  {
    name: "unknown policy verdict",
    args: evalArgs(policies.unknownVerdict, INTENT),
    exitCode: 6,
    errorCode: "policy_invalid",
    error: "invalid default_verdict: x"
  },
  {
    name: "unknown top-level policy key",
    args: evalArgs(policies.unknownKey, INTENT),
    exitCode: 6,
    errorCode: "policy_unparsable",
    error: /^parse policy yaml: .*unknown field.*bogus_key/,
    envelope: (body) => expect(body.line).toBe(2)
  },
  {
    name: "legacy policy fields (hint + migration object)",
    args: evalArgs(policies.legacy, INTENT),
    exitCode: 6,
    errorCode: "policy_legacy_fields",
    // Fields in the reference's fixed order (version before name), whatever the file's order.
    error: `parse policy yaml: legacy policy proposal fields are not supported [version, name]: ${LEGACY_REPLACEMENTS.join("; ")}`,
    envelope: (body) => {
      expect(body.hint).toBe(LEGACY_HINT)
      expect(body.migration).toEqual({
        deprecated_fields: ["version", "name"],
        field_replacements: LEGACY_REPLACEMENTS,
        kind: "policy_fields"
      })
    }
  },
  // --- signing keys
  {
    name: "invalid base64 private key",
    args: evalArgs(EXAMPLE_POLICY, INTENT, "--key-mode", "prod", "--private-key", keys.notBase64),
    exitCode: 6,
    errorCode: "key_invalid",
    error: "decode private key: illegal base64 data"
  },
  {
    name: "private key of the wrong length",
    args: evalArgs(EXAMPLE_POLICY, INTENT, "--key-mode", "prod", "--private-key", keys.wrongLength),
    exitCode: 6,
    errorCode: "key_invalid",
    error: "invalid private key length: 32"
  },
  {
    name: "dev mode with --private-key",
    args: evalArgs(EXAMPLE_POLICY, INTENT, "--private-key", keys.valid),
    exitCode: 6,
    errorCode: "key_invalid",
    error: "dev mode does not accept explicit key sources"
  },
  {
    name: "prod mode without a key source",
    args: evalArgs(EXAMPLE_POLICY, INTENT, "--key-mode", "prod"),
    exitCode: 6,
    errorCode: "key_invalid",
    error: "prod mode requires a private key source"
  },
  // --- trace destination
  {
    name: "unwritable trace directory (its parent path is a regular file)",
    args: evalArgs(EXAMPLE_POLICY, INTENT, "--trace-out", "somefile/trace.json"),
    setup: (cwd) => {
      writeFileSync(path.join(cwd, "somefile"), "not a directory\n")
      return ["somefile"]
    },
    exitCode: 1,
    errorCode: "artifact_write_failed",
    category: "io_failure",
    error: /^write somefile/
  },
  {
    name: "trace destination is an existing directory (the temp file is removed)",
    args: evalArgs(EXAMPLE_POLICY, INTENT, "--trace-out", "adir"),
    setup: (cwd) => {
      mkdirSync(path.join(cwd, "adir"))
      return ["adir"]
    },
    exitCode: 1,
    errorCode: "artifact_write_failed",
    category: "io_failure",
    error: /^write adir/
  },
  {
    name: "--trace-out ../x.json (relative traversal)",
    args: evalArgs(EXAMPLE_POLICY, INTENT, "--trace-out", "../gait-cli-escape.json"),
    exitCode: 6,
    errorCode: "trace_path_invalid",
    error: "relative trace path must not traverse parent directories"
  },
  // --- usage
  {
    name: "missing --intent",
    args: ["gate", "eval", "--policy", EXAMPLE_POLICY],
    exitCode: 6,
    errorCode: "invalid_input",
    error: "both --policy and --intent are required"
  },
  {
    name: "unknown flag",
    args: ["gate", "eval", "--bogus"],
    exitCode: 6,
    errorCode: "invalid_input",
    error: /--bogus/
  },
  {
    name: "unknown gate subcommand",
    args: ["gate", "frob"],
    exitCode: 6,
    errorCode: "invalid_input",
    error: /\S/
  },
  {
    name: "unknown command",
    args: ["frob"],
    exitCode: 6,
    errorCode: "invalid_input",
    error: /\S/
  },
  {
    name: "unknown command with --help is still an unknown command, not the root help",
    args: ["frob", "--help"],
    exitCode: 6,
    errorCode: "invalid_input",
    error: 'unknown command "frob" for gait; use one of: doctor, gate, init, keys, mcp, run, verify, version'
  },
  {
    name: "--profile nope",
    args: evalArgs(EXAMPLE_POLICY, INTENT, "--profile", "nope"),
    exitCode: 6,
    errorCode: "invalid_input",
    error: 'unsupported --profile value "nope" (expected standard or oss-prod)'
  }
]

describe("gait gate eval: bad input", () => {
  it.each(cases)("$name → exit $exitCode", (c) => {
    // JSON mode.
    const cwd = dirs.dir()
    const created = c.setup?.(cwd) ?? []
    const args = [...c.args, "--json"]
    const body = errorEnvelope(runGait(args, { cwd }), args, c)
    c.envelope?.(body, cwd)
    expect(filesIn(cwd), "nothing written to the working directory").toEqual([...created].sort())

    // Text mode: the same message on an `error: ` line.
    const textCwd = dirs.dir()
    const textCreated = c.setup?.(textCwd) ?? []
    const message = textError(runGait(c.args, { cwd: textCwd }), c)
    const withoutTempName = (m: unknown): string => String(m).replace(/\.tmp-[0-9a-f]+/g, ".tmp-*")
    expect(withoutTempName(message)).toBe(withoutTempName(body.error))
    expect(filesIn(textCwd)).toEqual([...textCreated].sort())
  })

  it("a relative traversal writes nothing outside the working directory either", () => {
    const parent = dirs.dir()
    const cwd = path.join(parent, "work")
    mkdirSync(cwd)
    const args = evalArgs(EXAMPLE_POLICY, INTENT, "--trace-out", "../escaped.json", "--json")
    errorEnvelope(runGait(args, { cwd }), args, {
      exitCode: 6,
      errorCode: "trace_path_invalid",
      error: "relative trace path must not traverse parent directories"
    })
    expect(filesIn(parent)).toEqual(["work"])
  })
})
