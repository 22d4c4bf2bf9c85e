/**
 * Shared helpers of the chaos scripts under scripts/chaos/ (telemetry, trace_uniqueness, sessions):
 * spawning the real `gait` CLI as separate processes (optionally SIGKILLing them), running a bounded
 * pool of them, sizes from environment variables, and a report that ends with one summary line.
 *
 * `GAIT_BIN` runs another build of the CLI (default: bin/gait.cjs of this checkout); `CHAOS_KEEP=1`
 * keeps the scratch directory of a passing run (a failing run always keeps it).
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

export const GAIT_BIN = path.resolve(process.env.GAIT_BIN?.trim() || path.join(REPO_ROOT, "bin", "gait.cjs"))

/** A positive integer from the environment, or `fallback` when unset; anything else is a usage error. */
export const envInt = (name, fallback) => {
  const raw = process.env[name]?.trim()
  if (raw === undefined || raw === "") return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`)
  return value
}

/**
 * The caller's environment without any GAIT_* setting (a telemetry log or lock tuning exported in
 * the developer's shell would change what a script measures), plus `extra`.
 */
export const childEnv = (extra = {}) => {
  const env = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("GAIT_")) env[key] = value
  return { ...env, NO_COLOR: "1", ...extra }
}

/**
 * Runs `node <GAIT_BIN> ...args` without waiting; resolves once the process has exited and its
 * output is read. `killAfterMs` sends SIGKILL after that delay if it is still running;
 * `timeoutMs` is a hard limit (SIGKILL too, reported as `timedOut`).
 */
export const runGait = (args, options = {}) =>
  new Promise((resolve, reject) => {
    const startedAt = Date.now()
    const child = spawn(process.execPath, [GAIT_BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? childEnv(),
      stdio: ["ignore", "pipe", "pipe"]
    })
    options.onSpawn?.(child.pid)
    let stdout = ""
    let stderr = ""
    let exited = false
    let killSent = false
    let timedOut = false
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      stdout += chunk
    })
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      stderr += chunk
    })
    const kill = () => {
      if (exited) return
      killSent = true
      child.kill("SIGKILL")
    }
    const killTimer = options.killAfterMs === undefined ? undefined : setTimeout(kill, options.killAfterMs)
    const hardTimer = setTimeout(() => {
      timedOut = !exited
      kill()
    }, options.timeoutMs ?? 120_000)
    child.on("error", reject)
    child.on("exit", () => {
      exited = true
    })
    child.on("close", (code, signal) => {
      clearTimeout(killTimer)
      clearTimeout(hardTimer)
      const endedAt = Date.now()
      resolve({ args, pid: child.pid, code, signal, stdout, stderr, startedAt, endedAt, durationMs: endedAt - startedAt, killSent, timedOut })
    })
  })

/** The one JSON object a `--json` run printed on stdout, or `undefined` when there is not exactly one. */
export const jsonOf = (run) => {
  const lines = run.stdout.split("\n").filter((line) => line.startsWith("{"))
  if (lines.length !== 1) return undefined
  try {
    return JSON.parse(lines[0])
  } catch {
    return undefined
  }
}

/** A short description of a run for failure messages. */
export const describeRun = (run) =>
  `gait ${run.args.join(" ")} → ${run.signal ?? `exit ${run.code}`}${run.timedOut ? " (timed out)" : ""}; stdout ${JSON.stringify(run.stdout.slice(0, 400))}; stderr ${JSON.stringify(run.stderr.slice(0, 400))}`

/** `f(0) … f(total - 1)` with at most `concurrency` in flight; resolves with the results in index order. */
export const pool = async (total, concurrency, f) => {
  const results = new Array(total)
  let next = 0
  const worker = async () => {
    while (next < total) {
      const n = next++
      results[n] = await f(n)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
  return results
}

export const median = (values) => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** RFC 3339 in UTC with an optional fraction of up to nine digits, as gait writes timestamps. */
export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/

/**
 * The bookkeeping of one chaos script: progress lines with the elapsed time, a list of problems
 * (every failed check adds one), a scratch directory, and the final summary line.
 */
export const chaosReport = (area) => {
  const began = Date.now()
  const problems = []
  let work
  const elapsed = () => `${((Date.now() - began) / 1000).toFixed(1)}s`
  const report = {
    progress: (message) => console.log(`[${area} +${elapsed()}] ${message}`),
    /** Records a problem unless `ok`; returns `ok`. */
    check: (ok, message) => {
      if (!ok) problems.push(typeof message === "function" ? message() : message)
      return ok
    },
    problem: (message) => {
      problems.push(message)
    },
    problemCount: () => problems.length,
    /** A fresh scratch directory for this script. */
    scratch: () => {
      // No `gait-` prefix: other suites sweep their own `gait-*` scratch directories from the same /tmp.
      work = mkdtempSync(path.join(tmpdir(), `gaitchaos-${area}-`))
      return work
    },
    /** Prints the problems (at most 30) and the summary line, cleans up, and exits 0 or 1. */
    finish: (summary) => {
      const failed = problems.length > 0
      for (const p of problems.slice(0, 30)) console.log(`  problem: ${p}`)
      if (problems.length > 30) console.log(`  … and ${problems.length - 30} more problems`)
      if (work !== undefined) {
        if (failed || process.env.CHAOS_KEEP === "1") console.log(`  scratch directory kept: ${work}`)
        else rmSync(work, { recursive: true, force: true })
      }
      const verdict = failed ? `FAIL (${problems.length} problem${problems.length === 1 ? "" : "s"})` : "PASS"
      console.log(`chaos ${area}: ${verdict} ${summary} [${elapsed()}]`)
      process.exit(failed ? 1 : 0)
    },
    /** For a crash of the script itself: the summary line still comes last. */
    crash: (error) => {
      console.log(String(error?.stack ?? error))
      if (work !== undefined) console.log(`  scratch directory kept: ${work}`)
      console.log(`chaos ${area}: FAIL (script error: ${String(error?.message ?? error).split("\n")[0]}) [${elapsed()}]`)
      process.exit(1)
    }
  }
  return report
}
