/**
 * Acceptance gate 3, lock contention (session.md §3, ADR 0003 of the reference). A real process
 * holds the session lock (./lock-holder.ts, the shipped `SessionLock` file layer); the real CLI meets
 * it. Pinned: the typed diagnostic (lock path, holder pid and age, waited ms, attempts, timeout,
 * retry, stale-after, profile, the env vars to tune it), the classification (exit 1,
 * state_contention, retryable), that a waiter gets the lock once it is released, and that the lock of
 * a crashed holder is taken over once it is older than stale-after, by exactly one waiter at a time.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { bundleLockHolder, type Holder, spawnGait, startHolder } from "./procs.js"
import type { LockDiagnosticBody } from "../cli/fixtures/session/session.js"

const dirs: Array<string> = []
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gait-acc-lock-"))
  dirs.push(dir)
  return dir
}
const holders: Array<Holder> = []
let bundle = ""

beforeAll(async () => {
  bundle = await bundleLockHolder(tempDir())
})
afterAll(async () => {
  await Promise.all(holders.map((h) => h.kill()))
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const J = "sessions/acc.journal.jsonl"
const LOCK = `${J}.lock`

const startSession = async (dir: string): Promise<void> => {
  const r = await spawnGait(["run", "session", "start", "--journal", J, "--session-id", "sess_lock", "--run-id", "run_lock", "--json"], { cwd: dir })
  expect(r.code, r.stdout).toBe(0)
}

const appendArgs = (intent: string, json = true) => [
  "run",
  "session",
  "append",
  "--journal",
  J,
  "--tool",
  "tool.write",
  "--verdict",
  "allow",
  "--intent-id",
  intent,
  ...(json ? ["--json"] : [])
]

const hold = async (dir: string, holdMs = 0): Promise<Holder> => {
  const holder = await startHolder(bundle, J, dir, holdMs)
  holders.push(holder)
  return holder
}

const eventCount = (dir: string): number =>
  readFileSync(path.join(dir, J), "utf8")
    .split("\n")
    .filter((l) => l.includes('"record_type":"event"')).length

describe("session lock contention between real processes", () => {
  it("a live holder: the CLI times out with the typed, classified lock diagnostic and changes nothing", async () => {
    const dir = tempDir()
    await startSession(dir)
    const heldSince = Date.now()
    const holder = await hold(dir)
    const lockBefore = readFileSync(path.join(dir, LOCK), "utf8")
    const r = await spawnGait(appendArgs("blocked"), { cwd: dir, env: { GAIT_SESSION_LOCK_TIMEOUT: "400ms", GAIT_SESSION_LOCK_RETRY: "25ms" } })
    expect(r.code, r.stdout + r.stderr).toBe(1)
    const body = r.json()
    expect(body).toMatchObject({ ok: false, error_code: "session_lock_contention", error_category: "state_contention", retryable: true })
    const lock = body.lock as LockDiagnosticBody
    expect(lock.path).toBe(LOCK)
    expect(lock.holder_pid).toBe(holder.pid)
    expect(lock.holder_readable).toBe(true)
    expect(lock.holder_age_ms ?? -1).toBeGreaterThanOrEqual(0)
    expect(lock.holder_age_ms ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(Date.now() - heldSince + 1_000)
    expect(lock.waited_ms).toBeGreaterThanOrEqual(400)
    expect(lock.waited_ms).toBeLessThan(400 + 5_000)
    expect(lock.attempts).toBeGreaterThanOrEqual(2)
    expect({ timeout: lock.timeout_ms, retry: lock.retry_ms, stale: lock.stale_after_ms, profile: lock.profile }).toEqual({
      timeout: 400,
      retry: 25,
      stale: 300_000,
      profile: "standard"
    })
    expect(String(body.error)).toContain(`path=${LOCK}`)
    expect(String(body.error)).toContain(`holder_pid=${holder.pid}`)
    expect(body.hint).toBe(
      `another process holds ${LOCK}; retry, or raise GAIT_SESSION_LOCK_TIMEOUT (now 400ms) or use GAIT_SESSION_LOCK_PROFILE=swarm for many concurrent writers`
    )
    // the holder's lock is untouched and no event was appended
    expect(readFileSync(path.join(dir, LOCK), "utf8")).toBe(lockBefore)
    expect(eventCount(dir)).toBe(0)

    // text mode: one error line with the same classification, and the hint
    const text = await spawnGait(appendArgs("blocked", false), { cwd: dir, env: { GAIT_SESSION_LOCK_TIMEOUT: "200ms" } })
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^run session append error: session state contention: lock timeout \(path=.*\)\nhint: another process holds /)

    // the swarm profile reports its own settings; its hint does not suggest swarm again
    const swarm = await spawnGait(appendArgs("blocked"), { cwd: dir, env: { GAIT_SESSION_LOCK_PROFILE: "swarm", GAIT_SESSION_LOCK_TIMEOUT: "300ms" } })
    expect(swarm.code).toBe(1)
    const swarmLock = swarm.json().lock as LockDiagnosticBody
    expect({ profile: swarmLock.profile, timeout: swarmLock.timeout_ms, retry: swarmLock.retry_ms, stale: swarmLock.stale_after_ms }).toEqual({
      profile: "swarm",
      timeout: 300,
      retry: 20,
      stale: 600_000
    })
    expect(String(swarm.json().hint)).not.toContain("GAIT_SESSION_LOCK_PROFILE=swarm")

    holder.release()
    await holder.released
    const after = await spawnGait(appendArgs("after"), { cwd: dir })
    expect(after.code, after.stdout).toBe(0)
    expect((after.json().event as { readonly sequence: number }).sequence).toBe(1)
  })

  it("a waiter within its timeout gets the lock as soon as the holder releases it", async () => {
    const dir = tempDir()
    await startSession(dir)
    const holder = await hold(dir, 700)
    const r = await spawnGait(appendArgs("waits"), { cwd: dir, env: { GAIT_SESSION_LOCK_TIMEOUT: "20s" } })
    await holder.released
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect((r.json().event as { readonly sequence: number }).sequence).toBe(1)
  })

  it("a crashed holder's lock: fresh, it is respected; older than stale-after, one waiter at a time takes it over", async () => {
    const dir = tempDir()
    await startSession(dir)
    const holder = await hold(dir)
    await holder.kill()
    const deadLock = readFileSync(path.join(dir, LOCK), "utf8")
    expect(JSON.parse(deadLock)).toMatchObject({ pid: holder.pid, schema_id: "gait.runpack.session_lock" })

    // default stale-after (5 minutes): the dead holder's lock is still fresh
    const fresh = await spawnGait(appendArgs("fresh"), { cwd: dir, env: { GAIT_SESSION_LOCK_TIMEOUT: "300ms" } })
    expect(fresh.code).toBe(1)
    const lock = fresh.json().lock as LockDiagnosticBody
    expect(lock.holder_pid).toBe(holder.pid)
    expect(lock.stale_after_ms).toBe(300_000)
    expect(readFileSync(path.join(dir, LOCK), "utf8")).toBe(deadLock)

    // once the lock is older than GAIT_SESSION_LOCK_STALE_AFTER, 6 racing processes all get through,
    // each with its own sequence, and no lock or breaker file is left behind
    await new Promise((done) => setTimeout(done, 1_200))
    const racers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        spawnGait(appendArgs(`stale_${i}`), { cwd: dir, env: { GAIT_SESSION_LOCK_STALE_AFTER: "1s", GAIT_SESSION_LOCK_TIMEOUT: "30s" } })
      )
    )
    for (const r of racers) expect(r.code, r.stdout + r.stderr).toBe(0)
    const sequences = racers.map((r) => (r.json().event as { readonly sequence: number }).sequence).sort((a, b) => a - b)
    expect(sequences).toEqual([1, 2, 3, 4, 5, 6])
    expect(eventCount(dir)).toBe(6)
    const left = readdirSync(path.join(dir, "sessions")).filter((f) => f.includes(".lock"))
    expect(left).toEqual([])
  })
})
