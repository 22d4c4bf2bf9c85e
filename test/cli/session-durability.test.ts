/**
 * Session journals under process-level stress (spec session.md §2.5, §3, §4.3, §4.4): appenders
 * killed with SIGKILL at random moments, checkpoints and compactions killed the same way, and 64
 * appends from 64 separate `gait` processes started at once. Afterwards the journal, read both by
 * gait and independently, must be whole: contiguous sequences, every acknowledged append present,
 * a state index that matches, and a checkpoint chain that verifies.
 *
 * `GAIT_KILL_ITERATIONS` (default 200) and `GAIT_KILL_CONCURRENCY` (default 4) tune the kill test.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import {
  type AsyncRun,
  type CheckpointPayload,
  type EventPayload,
  expectContiguous,
  expectNoLeftovers,
  expectStateMatchesJournal,
  gaitIn,
  journalTempFiles,
  jsonOf,
  readJournal,
  spawnGait,
  type StatusPayload
} from "./fixtures/session/session.js"
import { scratch } from "./fixtures/support.js"

const dirs = scratch()
afterAll(dirs.cleanup)

const positiveInt = (raw: string | undefined, fallback: number): number => {
  const n = Number(raw)
  return Number.isInteger(n) && n > 0 ? n : fallback
}
const KILL_ITERATIONS = positiveInt(process.env.GAIT_KILL_ITERATIONS, 200)
const KILL_CONCURRENCY = positiveInt(process.env.GAIT_KILL_CONCURRENCY, 4)

const SESSION = "sess_kill"
const RUN = "run_kill"

const startSession = (dir: string, journal: string): void => {
  const r = gaitIn(dir)(["run", "session", "start", "--journal", journal, "--session-id", SESSION, "--run-id", RUN])
  expect(r.code, r.stdout).toBe(0)
}

const appendArgs = (journal: string, intentId: string): Array<string> => [
  "run",
  "session",
  "append",
  "--journal",
  journal,
  "--tool",
  "tool.write",
  "--verdict",
  "allow",
  "--intent-id",
  intentId,
  "--json"
]

/** A process that ended on its own (not by our SIGKILL) must have succeeded or reported contention. */
const expectCleanOutcome = (run: AsyncRun): void => {
  if (run.signal === "SIGKILL") return
  expect(run.signal, run.stderr).toBeNull()
  if (run.code === 0) return
  const body = jsonOf(run)
  expect({ code: run.code, error_code: body.error_code }, run.stdout).toEqual({ code: 1, error_code: "session_lock_contention" })
}

type HolderState = number | "unreadable" | undefined

/** The pid in `<journal>.lock`, "unreadable" for a lock without parsable metadata, undefined when there is none. */
const holderOf = (lockPath: string): HolderState => {
  let text: string
  try {
    text = readFileSync(lockPath, "utf8")
  } catch {
    return undefined
  }
  const pid = /"pid":(\d+)/.exec(text)?.[1]
  return pid === undefined ? "unreadable" : Number(pid)
}

const ageMs = (file: string): number => {
  try {
    return Date.now() - statSync(file).mtimeMs
  } catch {
    return 0
  }
}

/**
 * Leftovers of processes the harness killed: a lock file (or a breaker) whose holder is dead stays
 * until it is older than stale_after (minutes), by design. The harness does what the contention hint
 * tells an operator to do — remove it — but only when the holder provably is dead: a lock naming a
 * pid the harness SIGKILLed, or a lock / breaker without metadata that is older than a second (a
 * live holder writes its metadata right after creating the file, and holds a breaker for a few
 * syscalls). A lock left by a process that exited 0 is recorded as a problem (it released nothing).
 */
const janitor = (journal: string) => {
  const lockPath = `${journal}.lock`
  const breakerPath = `${lockPath}.breaker`
  const problems: Array<string> = []
  let cleared = 0
  const remove = (file: string) => {
    rmSync(file, { force: true })
    cleared++
  }
  const sweep = (killed: ReadonlySet<number>, everyoneDead: boolean) => {
    const holder = holderOf(lockPath)
    if (typeof holder === "number" && killed.has(holder)) remove(lockPath)
    else if (holder === "unreadable" && (everyoneDead || ageMs(lockPath) > 1_000)) remove(lockPath)
    if (existsSync(breakerPath) && (everyoneDead || ageMs(breakerPath) > 1_000)) remove(breakerPath)
  }
  const killedPids = new Set<number>()
  return {
    problems,
    cleared: () => cleared,
    afterExit: (pid: number, run: AsyncRun): void => {
      if (run.signal === "SIGKILL") killedPids.add(pid)
      else if (run.code === 0 && holderOf(lockPath) === pid) {
        problems.push(`pid ${pid} exited 0 but left its lock behind`)
        remove(lockPath)
      }
      sweep(killedPids, false)
    },
    /** When no gait process is running any more. */
    finish: (): void => sweep(killedPids, true)
  }
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

/** Runs `f` over `items`, `size` at a time. */
const inBatches = async <A>(items: ReadonlyArray<A>, size: number, f: (item: A) => Promise<void>): Promise<void> => {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(f))
}

/** `f(0) … f(total - 1)`, with `concurrency` of them in flight at any time. */
const pool = async (total: number, concurrency: number, f: (n: number) => Promise<void>): Promise<void> => {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < total) await f(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
}

/** Spawns and remembers the child's pid (needed to attribute a leftover lock). */
const spawnTracked = async (
  args: ReadonlyArray<string>,
  options: Parameters<typeof spawnGait>[1]
): Promise<{ readonly pid: number; readonly run: AsyncRun }> => {
  let pid = -1
  const run = await spawnGait(args, { ...options, onSpawn: (p) => (pid = p) })
  return { pid, run }
}

describe("kill -9 at random moments", () => {
  it(`${KILL_ITERATIONS} appends, ${KILL_CONCURRENCY} in flight, SIGKILLed at random moments: the journal stays whole`, async () => {
    const dir = dirs.dir("gait-session-kill-")
    const journal = path.join(dir, "kill.journal.jsonl")
    startSession(dir, journal)
    const cleanup = janitor(journal)

    const acknowledged = new Map<string, number>()
    const acknowledge = (run: AsyncRun): void => {
      const event = jsonOf(run).event as EventPayload
      acknowledged.set(String(event.intent_id), event.sequence)
    }
    const attempted = new Set<string>()

    // Kill delays follow how long an append takes right now (machine load varies): every 8th append
    // is a probe that is never killed, and the others are killed after [0.3, 1.25] × the median
    // duration of the recent appends that completed — mostly late in start-up, inside the locked
    // section or just after it, while a fair share still finish first.
    const completed: Array<number> = []
    const typical = () => median(completed.slice(-8))
    let killed = 0
    let outranTheirKill = 0
    let contention = 0
    const attempt = async (n: number, probe: boolean): Promise<void> => {
      const intentId = `kill-${n}`
      attempted.add(intentId)
      const env = { GAIT_SESSION_LOCK_PROFILE: n % 2 === 0 ? "standard" : "swarm" }
      const { pid, run } = await spawnTracked(appendArgs(journal, intentId), {
        cwd: dir,
        env,
        ...(probe ? {} : { killAfterMs: typical() * (0.3 + 0.95 * Math.random()) })
      })
      expectCleanOutcome(run)
      if (run.signal === "SIGKILL") killed++
      else if (run.code === 0) {
        acknowledge(run)
        completed.push(run.durationMs)
        if (!probe) outranTheirKill++
      } else contention++
      cleanup.afterExit(pid, run)
    }
    // calibration: one probe per slot
    await Promise.all(Array.from({ length: KILL_CONCURRENCY }, (_, i) => attempt(-1 - i, true)))
    expect(completed.length, "calibration appends succeed").toBe(KILL_CONCURRENCY)
    await pool(KILL_ITERATIONS, KILL_CONCURRENCY, (n) => attempt(n, n % 8 === 7))
    cleanup.finish()

    const stats = { iterations: KILL_ITERATIONS, typicalMs: Math.round(typical()), acknowledged: acknowledged.size, outranTheirKill, killed, contention, locksCleared: cleanup.cleared() }
    console.log(`kill -9 appends: ${JSON.stringify(stats)}`)
    expect(cleanup.problems).toEqual([])
    // The run exercised both outcomes (otherwise the kill delays are off).
    expect(killed).toBeGreaterThan(KILL_ITERATIONS / 4)
    expect(outranTheirKill, "appends that finished before their kill timer").toBeGreaterThan(0)

    // gait reads it back (repairing a torn tail if the last kill left one) …
    const gait = gaitIn(dir)
    const statusArgs = ["run", "session", "status", "--journal", journal, "--json"]
    const statusRun = gait(statusArgs)
    expect(statusRun.code, statusRun.stdout).toBe(0)
    const status = jsonOf(statusRun).status as StatusPayload

    // … and so does an independent reader
    const read = readJournal(journal)
    const sequences = read.events.map((e) => e.sequence)
    expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 1))
    expect(status).toMatchObject({ session_id: SESSION, run_id: RUN, event_count: sequences.length, last_sequence: sequences.length, checkpoint_count: 0 })
    const intents = read.events.map((e) => String(e.intent_id))
    expect(new Set(intents).size, "no append was recorded twice").toBe(intents.length)
    for (const id of intents) expect(attempted.has(id), `${id} was attempted`).toBe(true)
    const bySequence = new Map(read.events.map((e) => [String(e.intent_id), e.sequence]))
    for (const [id, sequence] of acknowledged) expect(bySequence.get(id), `acknowledged append ${id}`).toBe(sequence)
    expectStateMatchesJournal(journal)
    expectNoLeftovers(journal, { allowTempFiles: true })
    const orphanTemps = journalTempFiles(journal).length
    if (orphanTemps > 0) console.log(`kill -9 appends: ${orphanTemps} temp file(s) of killed atomic writes remain (a SIGKILLed writer cannot remove them)`)

    // a checkpoint over everything, and the chain verifies
    const cp = gait(["run", "session", "checkpoint", "--journal", journal, "--out", path.join(dir, "cp.zip"), "--json"])
    expect(cp.code, cp.stdout).toBe(0)
    expect(jsonOf(cp).checkpoint).toMatchObject({ checkpoint_index: 1, sequence_start: 1, sequence_end: sequences.length })
    const verify = gait(["verify", "session-chain", "--chain", path.join(dir, "kill.journal_chain.json")])
    expect(verify.code, verify.stdout).toBe(0)
  })

  it("checkpoints and compactions SIGKILLed at random moments leave a journal whose chain still verifies", async () => {
    const iterations = Math.max(6, Math.round(KILL_ITERATIONS / 20))
    const dir = dirs.dir("gait-session-kill-cp-")
    const journal = path.join(dir, "cp.journal.jsonl")
    const chain = path.join(dir, "cp.journal_chain.json")
    startSession(dir, journal)
    const gait = gaitIn(dir)
    const cleanup = janitor(journal)
    let appended = 0
    const append = () => {
      const r = gait(appendArgs(journal, `cp-${++appended}`))
      expect(r.code, r.stdout).toBe(0)
      expect((jsonOf(r).event as EventPayload).sequence).toBe(appended)
    }

    const empty = await spawnGait(["run", "session", "checkpoint", "--journal", journal, "--out", path.join(dir, "rp", "empty.zip")], { cwd: dir })
    expect(empty.code).toBe(6) // no events yet

    // As for appends: every 3rd iteration is a probe that is never killed, and the kill delays follow
    // the median duration of the recent runs that completed.
    const completed: Array<number> = []
    let killed = 0
    for (let i = 0; i <= iterations; i++) {
      append()
      const probe = i % 3 === 0
      const killAfter = () => (probe ? {} : { killAfterMs: median(completed.slice(-4)) * (0.3 + 0.95 * Math.random()) })
      const runs = await Promise.all([
        spawnTracked(["run", "session", "checkpoint", "--journal", journal, "--out", path.join(dir, "rp", `cp-${i}.zip`), "--json"], {
          cwd: dir,
          ...killAfter()
        }),
        spawnTracked(["run", "session", "compact", "--journal", journal, "--json"], { cwd: dir, ...killAfter() })
      ])
      for (const { run } of runs) if (run.code === 0) completed.push(run.durationMs)
      for (const { pid, run } of runs) {
        if (run.signal === "SIGKILL") killed++
        else if (run.code !== 0) {
          // every iteration appended a new event, so the only acceptable failure is waiting on the lock of the killed twin
          expect(jsonOf(run).error_code, run.stdout).toBe("session_lock_contention")
        }
        cleanup.afterExit(pid, run)
      }
      cleanup.finish()
    }
    expect(cleanup.problems).toEqual([])
    console.log(`kill -9 checkpoint/compact: ${JSON.stringify({ iterations, typicalMs: Math.round(median(completed.slice(-4))), killed })}`)
    expect(killed, "some checkpoints or compactions were killed").toBeGreaterThan(0)

    // One more append and checkpoint: the sequence and the chain pick up where they were.
    append()
    const statusRun = gait(["run", "session", "status", "--journal", journal, "--json"])
    expect(statusRun.code, statusRun.stdout).toBe(0)
    expect((jsonOf(statusRun).status as StatusPayload).last_sequence).toBe(appended)
    const cp = gait(["run", "session", "checkpoint", "--journal", journal, "--out", path.join(dir, "rp", "final.zip"), "--json"])
    expect(cp.code, cp.stdout).toBe(0)
    const last = jsonOf(cp).checkpoint as CheckpointPayload
    expect(last.sequence_end).toBe(appended)

    const read = readJournal(journal)
    expect(expectContiguous(read)).toBe(appended)
    expect(read.checkpoints[0]?.sequence_start).toBe(1)
    expectStateMatchesJournal(journal)
    expectNoLeftovers(journal, { allowTempFiles: true })
    const verify = gait(["verify", "session-chain", "--chain", chain, "--json"])
    expect(verify.code, verify.stdout).toBe(0)
    expect(jsonOf(verify).checkpoints_checked).toBe(read.checkpoints.length)
    // every runpack the chain references exists (orphans of killed checkpoints may lie next to them)
    for (const c of read.checkpoints) expect(existsSync(c.runpack_path), c.runpack_path).toBe(true)
    expect(readdirSync(path.join(dir, "rp")).filter((f) => f.endsWith(".zip")).length).toBeGreaterThanOrEqual(read.checkpoints.length)
  })

  it("a start SIGKILLed at a random moment never wedges the journal", async () => {
    const iterations = Math.max(8, Math.round(KILL_ITERATIONS / 20))
    const dir = dirs.dir("gait-session-kill-start-")
    const journals = Array.from({ length: iterations }, (_, i) => path.join(dir, `s${i}`, "j.jsonl"))
    const startArgs = (j: string) => ["run", "session", "start", "--journal", j, "--session-id", SESSION, "--run-id", RUN, "--json"]
    const timings = await Promise.all(Array.from({ length: KILL_CONCURRENCY }, (_, i) => spawnGait(startArgs(path.join(dir, `timing${i}.jsonl`)), { cwd: dir })))
    for (const t of timings) expect(t.code, t.stdout).toBe(0)
    const typicalMs = median(timings.map((t) => t.durationMs))
    await inBatches(journals, KILL_CONCURRENCY, async (j) => {
      const { pid, run } = await spawnTracked(startArgs(j), { cwd: dir, killAfterMs: typicalMs * (0.3 + 0.95 * Math.random()) })
      expectCleanOutcome(run)
      const cleanup = janitor(j)
      cleanup.afterExit(pid, run)
      cleanup.finish()
      expect(cleanup.problems).toEqual([])
    })
    await inBatches(journals, KILL_CONCURRENCY, async (j) => {
      const again = await spawnGait(startArgs(j), { cwd: dir })
      expect(again.code, `${j}: ${again.stdout}`).toBe(0)
      expect(jsonOf(again).status).toMatchObject({ session_id: SESSION, run_id: RUN, event_count: 0, last_sequence: 0 })
      const appended = await spawnGait(appendArgs(j, "after-kill"), { cwd: dir })
      expect(appended.code, appended.stdout).toBe(0)
      expect((jsonOf(appended).event as EventPayload).sequence).toBe(1)
      expect(readJournal(j).events).toHaveLength(1)
      expectStateMatchesJournal(j)
    })
  })
})

describe("concurrent appends from separate processes", () => {
  it("64 gait processes started at once under GAIT_SESSION_LOCK_PROFILE=swarm: no errors, sequences exactly 1..64", async () => {
    const dir = dirs.dir("gait-session-swarm-")
    const journal = path.join(dir, "swarm.journal.jsonl")
    startSession(dir, journal)
    const env = { GAIT_SESSION_LOCK_PROFILE: "swarm", GAIT_SESSION_LOCK_TIMEOUT: "10s" }
    const started = performance.now()
    const runs = await Promise.all(Array.from({ length: 64 }, (_, i) => spawnGait(appendArgs(journal, `swarm-${i}`), { cwd: dir, env, timeoutMs: 60_000 })))
    const elapsed = performance.now() - started
    const succeeded = runs.filter((r) => r.code === 0)
    const failures = runs
      .filter((r) => r.code !== 0)
      .map((r) => {
        if (r.code === null) return `killed by ${String(r.signal)}`
        const body = jsonOf(r)
        const lock = body.lock as { waited_ms?: number; attempts?: number; holder_age_ms?: number } | undefined
        return `exit ${r.code} ${String(body.error_code)} waited=${lock?.waited_ms}ms attempts=${lock?.attempts} holder_age=${lock?.holder_age_ms}ms`
      })
    console.log(`64 concurrent appends: ${Math.round(elapsed)} ms, ${failures.length} errors`)

    // whatever happened, what was acknowledged is whole: unique, gap-free, in file order
    const sequences = succeeded.map((r) => (jsonOf(r).event as EventPayload).sequence).sort((a, b) => a - b)
    expect(sequences).toEqual(Array.from({ length: succeeded.length }, (_, i) => i + 1))
    const read = readJournal(journal)
    expect(read.events.map((e) => e.sequence)).toEqual(sequences)
    expect(new Set(read.events.map((e) => e.intent_id)).size).toBe(read.events.length)
    for (const r of succeeded) {
      const event = jsonOf(r).event as EventPayload
      expect(read.events[event.sequence - 1]?.intent_id).toBe(event.intent_id)
    }
    // and every one of the 64 succeeded within the swarm timeout
    expect(failures).toEqual([])
    const status = gaitIn(dir)(["run", "session", "status", "--journal", journal, "--json"])
    expect(status.code, status.stdout).toBe(0)
    expect(jsonOf(status).status).toMatchObject({ event_count: 64, last_sequence: 64 })
    expectStateMatchesJournal(journal)
    expectNoLeftovers(journal)
  })
})
