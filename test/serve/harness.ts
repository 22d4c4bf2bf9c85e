/**
 * Shared harness for the `gait mcp serve` process tests: starts the real bundled CLI on 127.0.0.1 with
 * port 0, reads the bound address from the JSON startup line, and sends raw HTTP requests through
 * `node:http` (no client-side defaults such as a content type are added). Every server started here is
 * tracked so a test file can stop all of them in `afterAll`.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { EXAMPLES, GAIT_BIN } from "../helpers/cli.js"

export const POLICY = path.join(EXAMPLES, "policy.yaml")

export const FULL_CONTEXT = { identity: "agent:test", workspace: "/srv/app", risk_class: "low", session_id: "sess_serve" }

/** Calls of examples/policy.yaml with a known verdict. */
export const CALLS = {
  /** openai `shell.exec` → block (rule block-shell-exec), exit code 3. */
  block: { adapter: "openai", call: { type: "function", function: { name: "shell.exec", arguments: '{"cmd":"ls"}' } } },
  /** mcp `git.commit` with a low-risk context → require_approval (writes-need-approval), exit code 4. */
  approval: { call: { name: "git.commit", args: { message: "x" }, context: FULL_CONTEXT } },
  /** mcp `fs.read` with a low-risk context → allow (allow-read-only-tools), exit code 0. */
  allow: { call: { name: "fs.read", args: { path: "README.md" }, context: FULL_CONTEXT } },
  /** mcp `db.migrate` in /srv/app → dry_run (migrations-dry-run-first), exit code 0. */
  dryRun: { call: { name: "db.migrate", args: {}, context: FULL_CONTEXT } }
} as const

export interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface ServerProcess {
  readonly pid: number
  readonly port: number
  /** The parsed JSON startup line. */
  readonly startup: Record<string, unknown>
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves when the process has exited (immediately if it already has). */
  readonly exited: Promise<Exited>
  /** Sends `signal` (default SIGTERM) and waits for the exit; SIGKILL after `timeoutMs`. */
  readonly stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<Exited>
}

const running = new Set<ChildProcessWithoutNullStreams>()

export interface StartOptions {
  readonly cwd: string
  readonly env?: Record<string, string | undefined>
  /** Whether to append `--listen 127.0.0.1:0` (off for config-driven listen addresses). */
  readonly listen?: boolean
  /** Whether to append `--policy examples/policy.yaml`. */
  readonly policy?: boolean
  readonly startupTimeoutMs?: number
}

/** Starts `gait mcp serve … --json` and resolves once the startup line has been printed. */
export const startServer = (args: ReadonlyArray<string>, options: StartOptions): Promise<ServerProcess> => {
  const argv = [
    GAIT_BIN,
    "mcp",
    "serve",
    ...(options.policy === false ? [] : ["--policy", POLICY]),
    ...(options.listen === false ? [] : ["--listen", "127.0.0.1:0"]),
    "--json",
    ...args
  ]
  const child = spawn(process.execPath, argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: "pipe" })
  running.add(child)
  let stdout = ""
  let stderr = ""
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d
  })
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d
  })
  const exited = new Promise<Exited>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    })
  })
  const stop = async (signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000): Promise<Exited> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    const result = await exited
    clearTimeout(timer)
    return result
  }
  return new Promise<ServerProcess>((resolve, reject) => {
    const timeout = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`no startup line within ${options.startupTimeoutMs ?? 15_000} ms: ${stdout} ${stderr}`))
    }, options.startupTimeoutMs ?? 15_000)
    const onData = () => {
      const newline = stdout.indexOf("\n")
      if (newline < 0) return
      clearTimeout(timeout)
      child.stdout.off("data", onData)
      const startup = JSON.parse(stdout.slice(0, newline)) as Record<string, unknown>
      const listen = String(startup.listen)
      const port = Number(listen.slice(listen.lastIndexOf(":") + 1))
      resolve({ pid: child.pid ?? -1, port, startup, stdout: () => stdout, stderr: () => stderr, exited, stop })
    }
    child.stdout.on("data", onData)
    void exited.then((e) => {
      clearTimeout(timeout)
      reject(new Error(`server exited before listening (${e.code ?? e.signal}): ${stdout} ${stderr}`))
    })
  })
}

/** Stops every server still running (for `afterAll`). */
export const stopAll = async (): Promise<void> => {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
          child.once("exit", () => {
            clearTimeout(timer)
            resolve()
          })
          child.kill("SIGTERM")
        })
    )
  )
}

/** Runs `gait mcp serve … --json` expecting it to exit (a refusal); kills it after `timeoutMs`. */
export const runToExit = (
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Record<string, string | undefined>; readonly timeoutMs?: number }
): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string; readonly timedOut: boolean }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [GAIT_BIN, "mcp", "serve", ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: "pipe"
    })
    let stdout = ""
    let stderr = ""
    let timedOut = false
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill("SIGKILL")
    }, options.timeoutMs ?? 15_000)
    child.once("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, timedOut })
    })
  })

export interface Reply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly text: string
  /** The body parsed as JSON (throws when it is not). */
  readonly json: () => Record<string, unknown>
}

export interface SendOptions {
  readonly method?: string
  readonly path?: string
  readonly headers?: Record<string, string>
  /** Sent with an exact `Content-Length` unless `headers` sets one or `chunked` is true. */
  readonly body?: string | Buffer | undefined
  /** Send the body with chunked transfer encoding, one chunk per element. */
  readonly chunks?: ReadonlyArray<string | Buffer>
}

const toReply = (response: http.IncomingMessage, resolve: (r: Reply) => void, reject: (e: Error) => void) => {
  const parts: Array<Buffer> = []
  response.on("data", (d: Buffer) => parts.push(d))
  response.on("error", reject)
  response.on("end", () => {
    const text = Buffer.concat(parts).toString("utf8")
    resolve({
      status: response.statusCode ?? 0,
      headers: response.headers,
      text,
      json: () => JSON.parse(text) as Record<string, unknown>
    })
  })
}

/** One request on a fresh connection (`agent: false`). Defaults: POST /v1/evaluate. */
export const send = (port: number, options: SendOptions = {}): Promise<Reply> =>
  new Promise<Reply>((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers }
    const hasLength = Object.keys(headers).some((h) => h.toLowerCase() === "content-length")
    if (options.body !== undefined && options.chunks === undefined && !hasLength) {
      headers["content-length"] = String(Buffer.byteLength(options.body))
    }
    const request = http.request(
      { host: "127.0.0.1", port, method: options.method ?? "POST", path: options.path ?? "/v1/evaluate", headers, agent: false },
      (response) => toReply(response, resolve, reject)
    )
    request.on("error", reject)
    request.setTimeout(30_000, () => request.destroy(new Error("request timed out")))
    if (options.chunks !== undefined) {
      for (const chunk of options.chunks) request.write(chunk)
    } else if (options.body !== undefined) {
      request.write(options.body)
    }
    request.end()
  })

/** POSTs `value` as JSON (`content-type: application/json`) to `route`. */
export const postJson = (port: number, value: unknown, route = "/v1/evaluate", headers: Record<string, string> = {}): Promise<Reply> =>
  send(port, { path: route, body: JSON.stringify(value), headers: { "content-type": "application/json", ...headers } })

/** The resident set size of a process in bytes (Linux /proc). */
export const rssBytes = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
  if (match === null) throw new Error(`no VmRSS for ${pid}`)
  return Number(match[1]) * 1024
}

/** Expects the uniform JSON error body: `ok:false`, `error`, `error_code`, served as application/json. */
export const errorBody = (reply: Reply): { readonly error: string; readonly error_code: string; readonly body: Record<string, unknown> } => {
  if (!String(reply.headers["content-type"]).startsWith("application/json")) {
    throw new Error(`expected an application/json error body, got ${String(reply.headers["content-type"])}: ${reply.text}`)
  }
  const body = reply.json()
  if (body.ok !== false || typeof body.error !== "string" || typeof body.error_code !== "string") {
    throw new Error(`not an error envelope: ${reply.text}`)
  }
  return { error: body.error, error_code: body.error_code, body }
}
