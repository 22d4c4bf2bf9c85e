// `gait mcp proxy` through the real CLI: each adapter's shape reaches the same gate decision and exit
// code as gate eval, traces verify, exports from concurrent processes never tear, bad input exits 6.
import { spawn } from "node:child_process"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { verifySignedDocument } from "../../src/kernel/signing.js"
import { EXAMPLES, GAIT_BIN, runGait, tempDir } from "../helpers/cli.js"

const POLICY = path.join(EXAMPLES, "policy.yaml")

const write = (dir: string, name: string, value: unknown): string => {
  const file = path.join(dir, name)
  writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value))
  return file
}

const fullContext = { identity: "agent:test", workspace: "/srv/app", risk_class: "low", session_id: "sess_1" }

describe("gait mcp proxy", () => {
  it("decides each adapter's shape with the gate's verdict and exit code", () => {
    const dir = tempDir()
    const cases: ReadonlyArray<readonly [string, unknown, string, number]> = [
      [
        "mcp",
        {
          name: "fs.read",
          args: { path: "README.md" },
          targets: [{ kind: "path", value: "README.md", operation: "read" }],
          arg_provenance: [{ arg_path: "args.path", source: "user" }],
          context: fullContext
        },
        "allow",
        0
      ],
      ["openai", { type: "function", function: { name: "shell.exec", arguments: '{"cmd":"ls"}' } }, "block", 3],
      // These shapes carry no context: the standard profile's fallback (risk_class high) meets the
      // example policy's fail-closed rule, which blocks calls without targets and provenance.
      ["anthropic", { type: "tool_use", name: "git.commit", input: { message: "x" } }, "block", 3],
      ["langchain", { tool: "git.push", tool_input: '{"remote":"origin"}' }, "block", 3],
      ["claude_code", { session_id: "s", hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "rm -rf /" } }, "block", 3]
    ]
    for (const [adapter, payload, verdict, code] of cases) {
      const call = write(dir, `${adapter}.json`, payload)
      const r = runGait(["mcp", "proxy", "--policy", POLICY, "--adapter", adapter, "--call", call, "--json"], { cwd: dir })
      expect(r.code, `${adapter}: ${r.stdout}`).toBe(code)
      const out = r.json()
      expect(out.verdict, adapter).toBe(verdict)
      expect(out.executed).toBe(false)
      expect(out.ok).toBe(true)
      expect(typeof out.trace_path).toBe("string")
    }
  })

  it("writes a trace that verifies with the prod key, and reads the call from stdin with positional policy", () => {
    const dir = tempDir()
    const keys = runGait(["keys", "init", "--out-dir", path.join(dir, "k"), "--json"], { cwd: dir }).json()
    const payload = JSON.stringify({ name: "fs.delete", args: { path: "/srv/app/db" }, context: fullContext })
    const r = runGait(["mcp", "bridge", POLICY, "-", "--key-mode", "prod", "--private-key", String(keys.private_key_path), "--json"], {
      cwd: dir,
      input: payload
    })
    expect(r.code, r.stdout).toBe(4)
    const out = r.json()
    const trace = JSON.parse(readFileSync(path.join(dir, String(out.trace_path)), "utf8")) as Record<string, unknown>
    expect(trace.verdict).toBe("require_approval")
    const publicKey = new Uint8Array(Buffer.from(readFileSync(String(keys.public_key_path), "utf8").trim(), "base64"))
    expect(verifySignedDocument(trace, publicKey)._tag).toBe("Right")
    expect(out.warnings).toBeUndefined()
  })

  it("concurrent proxy processes append whole export lines, never torn", async () => {
    const dir = tempDir()
    const call = write(dir, "call.json", { name: "fs.read", args: {}, context: fullContext })
    const log = path.join(dir, "exports", "decisions.jsonl")
    const otel = path.join(dir, "exports", "otel.jsonl")
    const count = 24
    const codes = await Promise.all(
      Array.from(
        { length: count },
        (_, i) =>
          new Promise<number>((resolve) => {
            const child = spawn(
              process.execPath,
              [GAIT_BIN, "mcp", "proxy", "--policy", POLICY, "--call", call, "--run-id", `r${i}`, "--export-log-out", log, "--export-otel-out", otel],
              { cwd: dir, stdio: "ignore" }
            )
            child.on("exit", (code) => resolve(code ?? -1))
          })
      )
    )
    expect(codes.every((c) => c === 0)).toBe(true)
    for (const file of [log, otel]) {
      const lines = readFileSync(file, "utf8").split("\n").filter((l) => l !== "")
      expect(lines).toHaveLength(count)
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
    }
    const runIds = readFileSync(log, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { run_id: string }).run_id)
    expect(new Set(runIds).size).toBe(count)
    expect(readFileSync(otel, "utf8")).toContain('"time_unix_nano":315532800000000000')
    expect(readdirSync(path.dirname(log)).filter((f) => f.endsWith(".lock"))).toEqual([])
  })

  it("repeated decisions get distinct trace files with the same trace_id", () => {
    const dir = tempDir()
    const call = write(dir, "call.json", { name: "fs.read", args: {}, context: fullContext })
    const a = runGait(["mcp", "proxy", "--policy", POLICY, "--call", call, "--json"], { cwd: dir }).json()
    const b = runGait(["mcp", "proxy", "--policy", POLICY, "--call", call, "--json"], { cwd: dir }).json()
    expect(a.trace_id).toBe(b.trace_id)
    expect(a.trace_path).not.toBe(b.trace_path)
    expect(readdirSync(dir).filter((f) => f.startsWith("trace_"))).toHaveLength(2)
  })

  it("rejects bad input with exit 6, one JSON envelope and no trace", () => {
    const dir = tempDir()
    const good = write(dir, "good.json", { name: "fs.read", context: fullContext })
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["--adapter", "nope", "--call", good], "unsupported adapter: nope"],
      [["--call", write(dir, "bad.json", "{not json")], "parse mcp tool call:"],
      [["--call", write(dir, "noname.json", { args: {} })], "tool call name is required"],
      [["--adapter", "openai", "--call", write(dir, "oa.json", { function: { name: "x", arguments: "[1]" } })], "decode openai arguments:"],
      [["--profile", "oss-prod", "--key-mode", "prod", "--private-key-env", "NOPE_KEY", "--call", write(dir, "strict.json", { name: "fs.read" })], ""],
      [["--call", write(dir, "env.json", { name: "fs.read", context: { context_envelope_path: "x.json" } })], "context_envelope_path is not supported"],
      [[], "expected --policy <policy.yaml> and --call <tool_call.json|->"]
    ]
    for (const [args, message] of cases) {
      const withPolicy = args.length === 0 ? ["mcp", "proxy", "--json"] : ["mcp", "proxy", "--policy", POLICY, ...args, "--json"]
      const r = runGait(withPolicy, { cwd: dir })
      expect(r.code, r.stdout).toBe(6)
      const out = r.json()
      expect(out.ok).toBe(false)
      expect(String(out.error)).toContain(message)
      expect(out.error_category).toBe("invalid_input")
    }
    expect(readdirSync(dir).filter((f) => f.startsWith("trace_"))).toEqual([])
  })
})
