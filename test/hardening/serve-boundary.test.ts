/**
 * Acceptance gate 5, the serve boundary (mcp.md §5–§6, the hardening contract's serve items), on a
 * real `gait mcp serve` process in the production posture: token auth, strict status, client
 * artifact paths left at their default (refused), a bounded body and trace retention by count.
 * Pinned: 401 without or with a wrong token (and a served decision with the right one); token auth is
 * mandatory off loopback (refused at start-up without it, enforced with it); strict status maps
 * allow 200, block 403, require_approval and dry_run 409 and keeps the decision body; caller artifact
 * paths are refused with 400; a body over the limit is 413 with the typed envelope; retention keeps
 * the newest N traces.
 */
import { existsSync, readdirSync, rmSync } from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { tempDir } from "../helpers/cli.js"
import { CALLS, errorBody, POLICY, postJson, runToExit, type ServerProcess, send, startServer, stopAll } from "../serve/harness.js"

const TOKEN = "acceptance-token-7f3a"
const TOKEN_ENV = "GAIT_ACC_SERVE_TOKEN"
const AUTH = { authorization: `Bearer ${TOKEN}` }
const LIMIT = 4096
const KEEP = 3

let dir = ""
let traces = ""
let server: ServerProcess

beforeAll(async () => {
  dir = tempDir("gait-acc-serve-")
  traces = path.join(dir, "traces")
  server = await startServer(
    [
      "--auth-mode",
      "token",
      "--auth-token-env",
      TOKEN_ENV,
      "--http-verdict-status",
      "strict",
      "--max-request-bytes",
      String(LIMIT),
      "--trace-dir",
      traces,
      "--trace-max-count",
      String(KEEP)
    ],
    { cwd: dir, env: { [TOKEN_ENV]: TOKEN } }
  )
})

afterAll(async () => {
  await stopAll()
  rmSync(dir, { recursive: true, force: true })
})

const traceFiles = (): Array<string> => (existsSync(traces) ? readdirSync(traces).filter((f) => f.endsWith(".json")).sort() : [])

describe("mcp serve boundary in the production posture", () => {
  it("auth: no token or a wrong one is 401 with a JSON envelope and no trace; the right token is served", async () => {
    const before = traceFiles()
    for (const [headers, message] of [
      [{}, "missing bearer authorization"],
      [{ authorization: "Bearer wrong-token" }, "invalid bearer authorization"],
      [{ authorization: `Bearer ${TOKEN}-but-longer` }, "invalid bearer authorization"]
    ] as const) {
      const reply = await postJson(server.port, CALLS.allow, "/v1/evaluate", headers)
      expect(reply.status, reply.text).toBe(401)
      const { error, error_code, body } = errorBody(reply)
      expect(error).toBe(message)
      expect(error_code).toBe("request_rejected")
      expect(body.error_category).toBe("invalid_input")
      expect(String(body.hint)).toContain("Authorization: Bearer")
    }
    expect(traceFiles(), "a refused request writes no trace").toEqual(before)
    const ok = await postJson(server.port, CALLS.allow, "/v1/evaluate", AUTH)
    expect(ok.status, ok.text).toBe(200)
    expect(ok.json()).toMatchObject({ ok: true, verdict: "allow" })
  })

  it("strict status: allow 200, block 403, require_approval 409, dry_run 409, each with its decision body", async () => {
    for (const [call, verdict, status, exitCode] of [
      [CALLS.allow, "allow", 200, 0],
      [CALLS.block, "block", 403, 3],
      [CALLS.approval, "require_approval", 409, 4],
      [CALLS.dryRun, "dry_run", 409, 0]
    ] as const) {
      const reply = await postJson(server.port, call, "/v1/evaluate", AUTH)
      expect(reply.status, `${verdict}: ${reply.text}`).toBe(status)
      expect(reply.json()).toMatchObject({ ok: true, executed: false, verdict, exit_code: exitCode })
    }
  })

  it("caller artifact paths are refused by default (400), and nothing is written there", async () => {
    for (const field of ["trace_path", "runpack_out", "pack_out", "session_journal"]) {
      const target = path.join(dir, `caller-${field}.json`)
      const reply = await postJson(server.port, { ...CALLS.allow, [field]: target }, "/v1/evaluate", AUTH)
      expect(reply.status, `${field}: ${reply.text}`).toBe(400)
      expect(errorBody(reply).error).toBe(`request.${field} is not allowed by server configuration`)
      expect(existsSync(target), field).toBe(false)
    }
  })

  it("a body over max-request-bytes is 413 with the typed envelope; exactly the limit is served", async () => {
    // the padding goes into the tool arguments (a long run or session id would name a journal file)
    const fill = (size: number): string => {
      const padded = (pad: string) => JSON.stringify({ call: { ...CALLS.allow.call, args: { ...CALLS.allow.call.args, pad } } })
      return padded("x".repeat(size - padded("").length))
    }
    const exact = fill(LIMIT)
    expect(Buffer.byteLength(exact)).toBe(LIMIT)
    const atLimit = await send(server.port, { body: exact, headers: { ...AUTH, "content-type": "application/json" } })
    expect(atLimit.status, atLimit.text).toBe(200)
    const over = await send(server.port, { body: fill(LIMIT + 1), headers: { ...AUTH, "content-type": "application/json" } })
    expect(over.status, over.text).toBe(413)
    const { error_code, body } = errorBody(over)
    expect(error_code).toBe("request_too_large")
    expect(body).toMatchObject({ limit_bytes: LIMIT, error_category: "invalid_input", retryable: false })
    expect(String(body.hint)).toContain(`at most ${LIMIT} bytes`)
    // chunked, with no Content-Length to check up front
    const chunked = await send(server.port, { chunks: [fill(LIMIT), " ".repeat(LIMIT)], headers: { ...AUTH, "content-type": "application/json" } })
    expect(chunked.status, chunked.text).toBe(413)
    expect((await send(server.port, { method: "GET", path: "/healthz" })).status).toBe(200)
  })

  it(`retention keeps the newest ${KEEP} traces, including the one just written`, async () => {
    const written: Array<string> = []
    for (let i = 0; i < KEEP + 3; i++) {
      // Retention orders by file mtime, whose granularity here is the kernel tick (1-4 ms on ext4):
      // two traces written within one tick tie, and the tie is broken by name, not by age. Spacing
      // the requests keeps "newest" well defined (see the report: the tie is a known limitation).
      await new Promise((done) => setTimeout(done, 25))
      const reply = await postJson(server.port, { ...CALLS.allow, run_id: `retention_${i}` }, "/v1/evaluate", AUTH)
      expect(reply.status, reply.text).toBe(200)
      written.push(String(reply.json().trace_path))
    }
    // exactly the newest KEEP survive: the last ones of this burst (everything older is removed)
    expect(traceFiles()).toEqual(written.slice(-KEEP).map((p) => path.basename(p)).sort())
    for (const gone of written.slice(0, -KEEP)) expect(existsSync(gone), gone).toBe(false)
  })
})

describe("token auth is mandatory off loopback", () => {
  it("a non-loopback listener without token auth is refused before listening (exit 6)", async () => {
    const r = await runToExit(["--policy", POLICY, "--listen", "0.0.0.0:0", "--json"], { cwd: tempDir("gait-acc-serve-"), timeoutMs: 15_000 })
    expect(r.timedOut).toBe(false)
    expect(r.code, r.stdout + r.stderr).toBe(6)
    const out = JSON.parse(r.stdout.trim()) as Record<string, unknown>
    expect(out).toMatchObject({ ok: false, error_code: "serve_config_invalid", error_category: "invalid_input" })
    expect(String(out.error)).toContain("non-loopback --listen requires --auth-mode token")
  })

  it("with token auth it starts on every interface and enforces the token", async () => {
    const wide = await startServer(["--listen", "0.0.0.0:0", "--auth-mode", "token", "--auth-token-env", TOKEN_ENV], {
      cwd: tempDir("gait-acc-serve-"),
      env: { [TOKEN_ENV]: TOKEN },
      listen: false
    })
    try {
      expect((await postJson(wide.port, CALLS.allow)).status).toBe(401)
      expect((await postJson(wide.port, CALLS.allow, "/v1/evaluate", AUTH)).status).toBe(200)
    } finally {
      await wide.stop()
    }
  })
})
