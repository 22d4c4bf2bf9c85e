// `gait mcp serve` startup and shutdown through the real CLI: unsafe or malformed settings exit 6 with
// one JSON line before listening; `.gait/config.yaml` `mcp_serve.*` sets the posture unless a flag
// overrides it or `--no-config` is given; the startup line carries the bound address; SIGTERM/SIGINT
// stop the server with exit 0, letting an in-flight request finish.
import { mkdirSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { tempDir } from "../helpers/cli.js"
import { CALLS, errorBody, POLICY, postJson, type Reply, runToExit, send, startServer, stopAll } from "./harness.js"

afterAll(stopAll)

const TOKEN_ENV = "GAIT_TEST_STARTUP_TOKEN"

/** A working directory whose `.gait/config.yaml` holds `yaml` (none when undefined). */
const projectDir = (yaml?: string): string => {
  const dir = tempDir("gait-serve-startup-")
  if (yaml !== undefined) {
    mkdirSync(path.join(dir, ".gait"))
    writeFileSync(path.join(dir, ".gait", "config.yaml"), yaml)
  }
  return dir
}

const oneJsonLine = (stdout: string): Record<string, unknown> => {
  const lines = stdout.split("\n").filter((l) => l !== "")
  if (lines.length !== 1) throw new Error(`expected one JSON line, got ${lines.length}: ${stdout}`)
  return JSON.parse(lines[0] as string) as Record<string, unknown>
}

describe("mcp serve startup refusals", () => {
  it("exits 6 before listening, with one JSON line, for unsafe or malformed settings", async () => {
    const dir = projectDir()
    // Non-loopback addresses here are never bound: TEST-NET-1 and a reserved name, refused up front.
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string, Record<string, string>?]> = [
      [["--listen", "192.0.2.10:0"], "non-loopback --listen requires --auth-mode token"],
      [["--listen", "gait-test.invalid:0"], "non-loopback --listen requires --auth-mode token"],
      [["--listen", ":0"], "non-loopback --listen requires --auth-mode token"],
      [["--listen", "127.0.0.1:0", "--auth-mode", "token"], "--auth-mode token requires --auth-token-env"],
      [["--listen", "127.0.0.1:0", "--auth-mode", "token", "--auth-token-env", "GAIT_TEST_UNSET_TOKEN_ENV"], "--auth-token-env did not resolve to a non-empty value"],
      [["--listen", "127.0.0.1:0", "--auth-mode", "token", "--auth-token-env", TOKEN_ENV], "--auth-token-env did not resolve to a non-empty value", { [TOKEN_ENV]: "   " }],
      [["--listen", "bad-listen"], "invalid --listen address: address bad-listen: missing port in address"],
      [["--listen", "127.0.0.1:99999"], "invalid --listen address"],
      [["--listen", "127.0.0.1:0", "--max-request-bytes", "0"], "--max-request-bytes must be > 0"],
      [["--listen", "127.0.0.1:0", "--max-request-bytes", "-5"], "--max-request-bytes must be > 0"],
      [["--listen", "127.0.0.1:0", "--http-verdict-status", "loud"], "unsupported --http-verdict-status value (expected compat or strict)"],
      [["--listen", "127.0.0.1:0", "--auth-mode", "basic"], "unsupported --auth-mode value (expected off or token)"]
    ]
    const results = await Promise.all(
      cases.map(([args, , env]) =>
        runToExit(["--policy", POLICY, ...args, "--json"], { cwd: dir, env: { GAIT_TEST_UNSET_TOKEN_ENV: undefined, ...env }, timeoutMs: 15_000 })
      )
    )
    cases.forEach(([args, message], i) => {
      const r = results[i]
      if (r === undefined) throw new Error("missing result")
      const label = args.join(" ")
      expect(r.timedOut, `${label} kept running: ${r.stdout}`).toBe(false)
      expect(r.code, `${label}: ${r.stdout} ${r.stderr}`).toBe(6)
      const out = oneJsonLine(r.stdout)
      expect(out.ok, label).toBe(false)
      expect(String(out.error), label).toContain(message)
      expect(out.error_code, label).toBe("serve_config_invalid")
      expect(out.error_category, label).toBe("invalid_input")
      expect(out.listen, label).toBeUndefined()
    })
  })

  it("refuses unsafe settings coming from .gait/config.yaml too, and --no-config skips the file", async () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["mcp_serve:\n  listen: 192.0.2.10:0\n", "non-loopback --listen requires --auth-mode token"],
      [`mcp_serve:\n  listen: 127.0.0.1:0\n  auth_mode: token\n  auth_token_env: ${TOKEN_ENV}\n`, "--auth-token-env did not resolve to a non-empty value"],
      ["mcp_serve:\n  listen: 127.0.0.1:0\n  max_request_bytes: 0\n", "--max-request-bytes must be > 0"],
      ["mcp_serve:\n  listen: 127.0.0.1:0\n  http_verdict_status: loud\n", "unsupported --http-verdict-status value"]
    ]
    for (const [yaml, message] of cases) {
      const dir = projectDir(yaml)
      const r = await runToExit(["--policy", POLICY, "--json"], { cwd: dir, env: { [TOKEN_ENV]: undefined } })
      expect(r.code, `${yaml}: ${r.stdout}`).toBe(6)
      expect(String(oneJsonLine(r.stdout).error)).toContain(message)
      const skipped = await startServer(["--no-config"], { cwd: dir, env: { [TOKEN_ENV]: undefined } })
      expect(skipped.startup).toMatchObject({ ok: true, auth_mode: "off", http_verdict_status: "compat" })
      expect((await send(skipped.port, { method: "GET", path: "/healthz" })).status).toBe(200)
      expect((await skipped.stop()).code).toBe(0)
    }
  })

  it("a port already in use exits 6 with the bind error, not an unexpected failure", async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve))
    const address = blocker.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    try {
      const r = await runToExit(["--policy", POLICY, "--listen", `127.0.0.1:${port}`, "--json"], { cwd: projectDir() })
      expect(r.timedOut).toBe(false)
      const lines = r.stdout.split("\n").filter((l) => l !== "")
      const last = JSON.parse(lines[lines.length - 1] ?? "{}") as Record<string, unknown>
      expect(last.ok).toBe(false)
      expect(`${String(last.error)} ${String(last.hint)}`).toMatch(/EADDRINUSE|in use/i)
      expect(r.code, r.stdout).toBe(6)
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()))
    }
  })
})

describe("mcp serve startup line and config posture", () => {
  it("prints one JSON startup line with the bound address (port 0 resolved) and nothing else while serving", async () => {
    const server = await startServer([], { cwd: projectDir() })
    expect(server.startup).toMatchObject({ ok: true, adapter: "mcp", policy: POLICY, profile: "standard", auth_mode: "off", http_verdict_status: "compat" })
    expect(String(server.startup.listen)).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(server.port).toBeGreaterThan(0)
    expect((await send(server.port, { method: "GET", path: "/healthz" })).status).toBe(200)
    await postJson(server.port, CALLS.allow)
    expect((await server.stop()).code).toBe(0)
    expect(server.stdout().split("\n").filter((l) => l !== "")).toHaveLength(1)
  })

  it("every mcp_serve.* key of .gait/config.yaml takes effect when no flag is given", async () => {
    const dir = projectDir(
      [
        "mcp_serve:",
        "  listen: 127.0.0.1:0",
        "  auth_mode: token",
        `  auth_token_env: ${TOKEN_ENV}`,
        "  max_request_bytes: 512",
        "  http_verdict_status: strict",
        "  allow_client_artifact_paths: true",
        ""
      ].join("\n")
    )
    const server = await startServer([], { cwd: dir, listen: false, env: { [TOKEN_ENV]: "cfg-token" } })
    expect(server.startup).toMatchObject({ ok: true, auth_mode: "token", http_verdict_status: "strict" })
    expect(String(server.startup.listen)).toMatch(/^127\.0\.0\.1:\d+$/)
    const auth = { authorization: "Bearer cfg-token" }
    expect((await postJson(server.port, CALLS.block)).status).toBe(401)
    const blocked = await postJson(server.port, CALLS.block, "/v1/evaluate", auth)
    expect(blocked.status, blocked.text).toBe(403)
    expect(blocked.json().verdict).toBe("block")
    const tooLarge = await postJson(server.port, { ...CALLS.block, run_id: "x".repeat(600) }, "/v1/evaluate", auth)
    expect(tooLarge.status).toBe(413)
    expect(errorBody(tooLarge).body.limit_bytes).toBe(512)
    // Allowed client paths: the runpack path is "not supported" (not "not allowed by server configuration").
    const runpack = await postJson(server.port, { ...CALLS.block, runpack_out: "r.zip" }, "/v1/evaluate", auth)
    expect(errorBody(runpack).error).toBe("request.runpack_out is not supported by this server")
    expect((await server.stop()).code).toBe(0)
  })

  it("a strict config makes a block 403; --http-verdict-status compat overrides it; --no-config ignores it", async () => {
    const dir = projectDir("mcp_serve:\n  http_verdict_status: strict\n  max_request_bytes: 512\n")
    const [fromConfig, overridden, ignored] = await Promise.all([
      startServer([], { cwd: dir }),
      startServer(["--http-verdict-status", "compat", "--max-request-bytes", "4096"], { cwd: dir }),
      startServer(["--no-config"], { cwd: dir })
    ])
    const big = { ...CALLS.block, run_id: "x".repeat(600) }
    const statuses = async (port: number) => [(await postJson(port, CALLS.block)).status, (await postJson(port, big)).status]
    expect(await statuses(fromConfig.port)).toEqual([403, 413])
    expect(await statuses(overridden.port)).toEqual([200, 200])
    expect(await statuses(ignored.port)).toEqual([200, 200])
    expect([fromConfig, overridden, ignored].map((s) => s.startup.http_verdict_status)).toEqual(["strict", "compat", "compat"])
    const approval = await postJson(fromConfig.port, CALLS.approval, "/v1/evaluate/sse")
    expect(approval.status).toBe(409)
    const codes = await Promise.all([fromConfig, overridden, ignored].map((s) => s.stop()))
    expect(codes.map((c) => c.code)).toEqual([0, 0, 0])
  })
})

describe("mcp serve shutdown", () => {
  it("SIGTERM and SIGINT while idle exit 0 promptly", async () => {
    const dir = projectDir()
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const server = await startServer([], { cwd: dir })
      expect((await send(server.port, { method: "GET", path: "/healthz" })).status).toBe(200)
      const started = Date.now()
      const exited = await server.stop(signal)
      expect(exited, signal).toEqual({ code: 0, signal: null })
      expect(Date.now() - started, signal).toBeLessThan(5_000)
    }
  })

  it("SIGTERM with an idle keep-alive connection open still exits 0 promptly", async () => {
    const server = await startServer([], { cwd: projectDir() })
    const agent = new http.Agent({ keepAlive: true })
    try {
      const reply = await new Promise<number>((resolve, reject) => {
        const request = http.request({ host: "127.0.0.1", port: server.port, path: "/healthz", agent }, (response) => {
          response.resume()
          response.on("end", () => resolve(response.statusCode ?? 0))
        })
        request.on("error", reject)
        request.end()
      })
      expect(reply).toBe(200)
      const started = Date.now()
      expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null })
      expect(Date.now() - started).toBeLessThan(5_000)
    } finally {
      agent.destroy()
    }
  })

  it("SIGTERM during a request lets that request finish, then exits 0", async () => {
    const server = await startServer([], { cwd: projectDir() })
    const body = JSON.stringify(CALLS.allow)
    let request: http.ClientRequest | undefined
    const reply = new Promise<Reply>((resolve, reject) => {
      request = http.request(
        { host: "127.0.0.1", port: server.port, method: "POST", path: "/v1/evaluate", headers: { "content-type": "application/json" }, agent: false },
        (response) => {
          const parts: Array<Buffer> = []
          response.on("data", (d: Buffer) => parts.push(d))
          response.on("end", () => {
            const text = Buffer.concat(parts).toString("utf8")
            resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> })
          })
        }
      )
      request.on("error", reject)
      request.write(body.slice(0, 20))
    })
    // Give the server time to route the request, then signal it while the body is half sent.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const exited = server.stop("SIGTERM")
    await new Promise((resolve) => setTimeout(resolve, 300))
    request?.end(body.slice(20))
    const answered = await reply
    expect(answered.status, answered.text).toBe(200)
    expect(answered.json().verdict).toBe("allow")
    expect(await exited).toEqual({ code: 0, signal: null })
  })
})
