/** Real processes for the acceptance gates: the bundled CLI (async, so many run at once) and the lock holder. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as path from "node:path"
import { createInterface } from "node:readline"
import { build } from "esbuild"
import { GAIT_BIN } from "../helpers/cli.js"

export interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
  /** stdout as exactly one JSON line. */
  readonly json: () => Record<string, unknown>
}

/** The lock tunables cleared, so the caller's shell cannot change what a test measures. */
export const LOCK_ENV_CLEARED: Readonly<Record<string, undefined>> = {
  GAIT_SESSION_LOCK_PROFILE: undefined,
  GAIT_SESSION_LOCK_TIMEOUT: undefined,
  GAIT_SESSION_LOCK_RETRY: undefined,
  GAIT_SESSION_LOCK_STALE_AFTER: undefined
}

export const spawnGait = (
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Record<string, string | undefined>; readonly timeoutMs?: number }
): Promise<Ran> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [GAIT_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...LOCK_ENV_CLEARED, ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({
        code,
        stdout,
        stderr,
        ms: performance.now() - started,
        json: () => {
          const lines = stdout.split("\n").filter((l) => l !== "")
          if (lines.length !== 1) throw new Error(`expected one JSON line, got ${lines.length}: ${stdout} ${stderr}`)
          return JSON.parse(lines[0] as string) as Record<string, unknown>
        }
      })
    })
  })

/** Bundles test/hardening/lock-holder.ts into `dir` and returns the bundle's path. */
export const bundleLockHolder = async (dir: string): Promise<string> => {
  const outfile = path.join(dir, "lock-holder.cjs")
  await build({
    entryPoints: [path.join(__dirname, "lock-holder.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    logLevel: "warning"
  })
  return outfile
}

export interface Holder {
  readonly pid: number
  /** Resolves once the holder reports `released` (after its hold time, or after `release()`). */
  readonly released: Promise<void>
  /** Ends an indefinite hold (closes the holder's stdin). */
  readonly release: () => void
  /** SIGKILL while holding: the lock file stays behind, as after a crash. */
  readonly kill: () => Promise<void>
}

/** Starts a holder process on `journal` (relative to `cwd`) and resolves once it holds the lock. */
export const startHolder = (bundle: string, journal: string, cwd: string, holdMs = 0): Promise<Holder> =>
  new Promise((resolve, reject) => {
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [bundle, journal, String(holdMs)], {
      cwd,
      env: { ...process.env, ...LOCK_ENV_CLEARED },
      stdio: "pipe"
    })
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d
    })
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    let markReleased: () => void = () => {}
    const released = new Promise<void>((done) => {
      markReleased = done
    })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`lock holder did not take the lock: ${stderr}`))
    }, 20_000)
    createInterface({ input: child.stdout }).on("line", (line) => {
      const message = JSON.parse(line) as { readonly held?: boolean; readonly released?: boolean; readonly error?: string }
      if (message.held === true) {
        clearTimeout(timer)
        resolve({
          pid: child.pid ?? -1,
          released,
          release: () => child.stdin.end(),
          kill: () => {
            child.kill("SIGKILL")
            return exited
          }
        })
      } else if (message.released === true) {
        markReleased()
      } else if (message.error !== undefined) {
        clearTimeout(timer)
        reject(new Error(`lock holder failed: ${message.error}`))
      }
    })
  })
