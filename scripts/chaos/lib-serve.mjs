// Shared helpers of the serve chaos scripts (payload_limits, serve_boundary, fuzz): start a real
// `gait mcp serve` process, read its memory and I/O counters from /proc, send HTTP requests without
// client-side defaults, and collect check results into one summary line.
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))))
/** The CLI under test; GAIT_BIN runs the scripts against another build (e.g. a deliberately broken one). */
export const GAIT_BIN = process.env.GAIT_BIN ?? join(ROOT, "bin", "gait.cjs")
export const POLICY = join(ROOT, "examples", "policy.yaml")
export const EXAMPLES = join(ROOT, "examples")

export const envInt = (name, fallback) => {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === "") return fallback
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`)
  return value
}

export const MiB = 1024 * 1024

export const tempDir = (prefix) => mkdtempSync(join(tmpdir(), prefix))
export const removeDir = (dir) => rmSync(dir, { recursive: true, force: true })

export const FULL_CONTEXT = { identity: "agent:chaos", workspace: "/srv/app", risk_class: "low" }

/** Calls of examples/policy.yaml with a known verdict (same as test/serve/harness.ts). */
export const CALLS = {
  allow: { call: { name: "fs.read", args: { path: "README.md" }, context: FULL_CONTEXT } },
  block: { adapter: "openai", call: { type: "function", function: { name: "shell.exec", arguments: '{"cmd":"ls"}' } } },
  approval: { call: { name: "git.commit", args: { message: "x" }, context: FULL_CONTEXT } },
  dryRun: { call: { name: "db.migrate", args: {}, context: FULL_CONTEXT } }
}

/** Resident set size and its peak (kB → bytes) of a live process. */
export const memoryOf = (pid) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? Number.NaN) * 1024
  return { rss: field("VmRSS"), peak: field("VmHWM") }
}

/** Bytes the process has read through read(2)-like calls, sockets included (Linux /proc/<pid>/io). */
export const bytesReadBy = (pid) => Number(/^rchar:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? Number.NaN)

export const mib = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`

/**
 * Starts `gait mcp serve --listen 127.0.0.1:0 --json …` in `cwd` and resolves once the JSON start-up
 * line names the bound address.
 */
export const startServer = (args, { cwd, env = {}, startupTimeoutMs = 30_000 } = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [GAIT_BIN, "mcp", "serve", "--policy", POLICY, "--listen", "127.0.0.1:0", "--json", "--no-config", ...args],
      { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }
    )
    let stdout = ""
    let stderr = ""
    let exit
    child.stdout.setEncoding("utf8").on("data", (d) => {
      stdout += d
    })
    child.stderr.setEncoding("utf8").on("data", (d) => {
      stderr += d
    })
    // Never leave a server behind, even when the script dies of an unexpected error.
    const killOnExit = () => child.kill("SIGKILL")
    process.once("exit", killOnExit)
    const exited = new Promise((done) => {
      child.once("exit", (code, signal) => {
        exit = { code, signal }
        process.off("exit", killOnExit)
        done(exit)
      })
    })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`no start-up line within ${startupTimeoutMs} ms: ${stdout} ${stderr}`))
    }, startupTimeoutMs)
    const onData = () => {
      const newline = stdout.indexOf("\n")
      if (newline < 0) return
      clearTimeout(timer)
      child.stdout.off("data", onData)
      const startup = JSON.parse(stdout.slice(0, newline))
      const listen = String(startup.listen)
      resolve({
        pid: child.pid,
        port: Number(listen.slice(listen.lastIndexOf(":") + 1)),
        startup,
        alive: () => exit === undefined,
        exitInfo: () => exit,
        stdout: () => stdout,
        stderr: () => stderr,
        stop: async () => {
          if (exit === undefined) child.kill("SIGTERM")
          const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
          const result = await exited
          clearTimeout(killer)
          return result
        }
      })
    }
    child.stdout.on("data", onData)
    void exited.then((e) => {
      clearTimeout(timer)
      reject(new Error(`server exited before listening (${e.code ?? e.signal}): ${stdout} ${stderr}`))
    })
  })

/**
 * One HTTP request. `body` is sent with an exact Content-Length unless `chunked`; no content type or
 * other header is added. Resolves with `{ status, headers, text }`, or `{ error }` when the
 * connection failed before a complete response (reset, EPIPE, timeout).
 */
export const request = (port, { method = "POST", path = "/v1/evaluate", headers = {}, body, chunked = false, agent = false, timeoutMs = 30_000 } = {}) =>
  new Promise((resolve) => {
    const all = { ...headers }
    if (body !== undefined && !chunked && all["content-length"] === undefined) all["content-length"] = String(Buffer.byteLength(body))
    let settled = false
    const settle = (result) => {
      if (settled) return
      settled = true
      resolve(result)
    }
    const req = http.request({ host: "127.0.0.1", port, method, path, headers: all, agent }, (res) => {
      const parts = []
      res.on("data", (d) => parts.push(d))
      res.on("error", (e) => settle({ error: e.code ?? e.message }))
      res.on("aborted", () => settle({ error: "response aborted" }))
      res.on("end", () => settle({ status: res.statusCode, headers: res.headers, text: Buffer.concat(parts).toString("utf8") }))
    })
    req.on("error", (e) => settle({ error: e.code ?? e.message }))
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })))
    if (body !== undefined) req.write(body)
    req.end()
  })

export const parseJson = (text) => {
  try {
    return { value: JSON.parse(text) }
  } catch (e) {
    return { problem: e.message }
  }
}

/**
 * The JSON error envelope the server promises for every refusal: application/json, `ok:false`, a
 * string `error` and `error_code`. Returns a problem description, or undefined when it is one.
 */
export const errorEnvelopeProblem = (reply) => {
  if (!String(reply.headers["content-type"]).startsWith("application/json")) {
    return `content-type ${reply.headers["content-type"]}: ${reply.text.slice(0, 200)}`
  }
  const parsed = parseJson(reply.text)
  if (parsed.problem !== undefined) return `not JSON (${parsed.problem}): ${reply.text.slice(0, 200)}`
  const body = parsed.value
  if (body === null || typeof body !== "object" || body.ok !== false || typeof body.error !== "string" || typeof body.error_code !== "string") {
    return `not an error envelope: ${reply.text.slice(0, 200)}`
  }
  return undefined
}

/** A decision body: JSON with `ok:true`, a verdict and an exit code. */
export const decisionProblem = (reply, expected) => {
  const parsed = parseJson(reply.text)
  if (parsed.problem !== undefined) return `not JSON (${parsed.problem}): ${reply.text.slice(0, 200)}`
  const body = parsed.value
  if (body?.ok !== true || typeof body.verdict !== "string" || typeof body.exit_code !== "number") {
    return `not a decision: ${reply.text.slice(0, 200)}`
  }
  if (expected !== undefined && (body.verdict !== expected.verdict || body.exit_code !== expected.exitCode)) {
    return `expected ${expected.verdict}/${expected.exitCode}, got ${body.verdict}/${body.exit_code}`
  }
  return undefined
}

/**
 * Collects named checks; `report(area)` prints the failures and, as the last line, the summary the
 * chaos runner shows, and returns the exit code.
 */
export const makeChecks = () => {
  const failures = []
  let passed = 0
  return {
    check(ok, name, detail = "") {
      if (ok) passed += 1
      else failures.push(`${name}${detail === "" ? "" : `: ${detail}`}`)
      return ok
    },
    failed: () => failures.length,
    report(area, facts, startedMs) {
      for (const failure of failures.slice(0, 40)) console.log(`  FAIL ${failure}`)
      if (failures.length > 40) console.log(`  … ${failures.length - 40} more failures`)
      const seconds = ((Date.now() - startedMs) / 1000).toFixed(1)
      const verdict = failures.length === 0 ? "PASS" : "FAIL"
      console.log(`chaos ${area}: ${verdict} ${passed} checks passed, ${failures.length} failed; ${facts} (${seconds} s)`)
      return failures.length === 0 ? 0 : 1
    }
  }
}

/** A V8 stack frame (`    at f (file:1:2)`, `    at file:1:2`, `(native)`), Node internals or an Effect fiber dump. */
export const STACK_TRACE = /^\s+at .+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))\s*$|node:internal|FiberFailure/m

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
