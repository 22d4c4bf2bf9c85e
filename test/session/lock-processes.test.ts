/**
 * The session lock across real processes (spec session.md §3.1, §2.5): separate node processes race
 * for a stale lock and must take turns (the breaker file makes the takeover single-winner), and
 * many processes appending to one journal get sequences 1..N without gaps or duplicates.
 *
 * The child is test/session/fixtures/session-worker.ts, bundled once with esbuild. Children start,
 * build their layers and report ready; only then does every child get its command, so they really
 * arrive at the lock together instead of being spread out by node's start-up time.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as nodeFs from "node:fs"
import * as path from "node:path"
import { createInterface } from "node:readline"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { build } from "esbuild"
import { Clock, Effect } from "effect"
import { SessionLockContention } from "../../src/session/errors.js"
import { SessionStore } from "../../src/session/store.js"
import {
  eventSequences,
  failureOf,
  journalLines,
  range,
  removeTempDirs,
  runWith,
  SESSION,
  tempDir,
  writeForeignLock
} from "./fixtures/session-env.js"

let bundle = ""

beforeAll(async () => {
  const dir = tempDir("gait-session-worker-")
  bundle = path.join(dir, "session-worker.cjs")
  await build({
    entryPoints: [path.join(__dirname, "fixtures", "session-worker.ts")],
    outfile: bundle,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    logLevel: "warning"
  })
})

afterAll(removeTempDirs)

interface Reply {
  readonly ok?: boolean
  readonly ready?: boolean
  readonly pid?: number
  readonly sequences?: ReadonlyArray<number>
  readonly tag?: string
  readonly detail?: string
}

class Worker {
  private readonly replies: Array<Reply> = []
  private readonly waiters: Array<(reply: Reply) => void> = []
  private stderr = ""
  private readonly exited: Promise<number | null>
  readonly pid: number

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.pid = child.pid ?? -1
    createInterface({ input: child.stdout }).on("line", (line) => {
      const reply = JSON.parse(line) as Reply
      const waiter = this.waiters.shift()
      if (waiter === undefined) this.replies.push(reply)
      else waiter(reply)
    })
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString()
    })
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)))
  }

  next(timeoutMs = 40_000): Promise<Reply> {
    const queued = this.replies.shift()
    if (queued !== undefined) return Promise.resolve(queued)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${this.child.pid} did not reply; stderr: ${this.stderr}`)), timeoutMs)
      this.waiters.push((reply) => {
        clearTimeout(timer)
        resolve(reply)
      })
    })
  }

  send(command: unknown): void {
    this.child.stdin.write(`${JSON.stringify(command)}\n`)
  }

  close(): Promise<number | null> {
    this.child.stdin.end()
    return this.exited
  }
}

/** Starts `n` workers on one journal and waits until every one of them is ready. */
const startWorkers = async (n: number, journal: string, env: Readonly<Record<string, string>>): Promise<Array<Worker>> => {
  const workers = Array.from(
    { length: n },
    () => new Worker(spawn(process.execPath, [bundle, journal], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] }))
  )
  const ready = await Promise.all(workers.map((w) => w.next()))
  for (const r of ready) expect(r.ready).toBe(true)
  return workers
}

const stopWorkers = async (workers: ReadonlyArray<Worker>): Promise<void> => {
  const codes = await Promise.all(workers.map((w) => w.close()))
  expect(codes.every((c) => c === 0)).toBe(true)
}

interface Mark {
  readonly what: "enter" | "exit"
  readonly pid: number
  readonly at: bigint
}

const readMarks = (log: string): Array<Mark> =>
  nodeFs
    .readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((line) => {
      const [what, pid, at] = line.split(" ")
      if ((what !== "enter" && what !== "exit") || pid === undefined || at === undefined) throw new Error(`bad log line: ${line}`)
      return { what, pid: Number(pid), at: BigInt(at) }
    })

/** Every critical section is `enter p` directly followed by `exit p`, and the hrtime intervals are disjoint. */
const expectDisjointSections = (marks: ReadonlyArray<Mark>, expectedSections: number): void => {
  expect(marks.length).toBe(2 * expectedSections)
  const sections: Array<{ readonly pid: number; readonly enter: bigint; readonly exit: bigint }> = []
  for (let i = 0; i < marks.length; i += 2) {
    const enter = marks[i]
    const exit = marks[i + 1]
    if (enter === undefined || exit === undefined) throw new Error("odd number of marks")
    expect([enter.what, exit.what, exit.pid]).toEqual(["enter", "exit", enter.pid])
    expect(exit.at > enter.at).toBe(true)
    sections.push({ pid: enter.pid, enter: enter.at, exit: exit.at })
  }
  // hrtime is CLOCK_MONOTONIC, shared by all processes on Linux: no section may start before the previous one ended.
  const byStart = [...sections].sort((a, b) => (a.enter < b.enter ? -1 : a.enter > b.enter ? 1 : 0))
  for (let i = 1; i < byStart.length; i++) {
    const prev = byStart[i - 1]
    const cur = byStart[i]
    if (prev === undefined || cur === undefined) continue
    expect(cur.enter > prev.exit, `section of pid ${cur.pid} overlaps the one of pid ${prev.pid}`).toBe(true)
  }
}

describe("lock wait bounds (before any child process runs)", () => {
  const env = {
    GAIT_SESSION_LOCK_PROFILE: "swarm",
    GAIT_SESSION_LOCK_TIMEOUT: "200ms",
    GAIT_SESSION_LOCK_RETRY: "20ms",
    GAIT_SESSION_LOCK_STALE_AFTER: "2m"
  }

  it.live(
    "a fresh foreign lock: SessionLockContention after ≥ timeout and < timeout + 2×retry + 100ms",
    () =>
      Effect.gen(function* () {
        const store = yield* SessionStore
        const journal = path.join(tempDir(), "bounds.journal.jsonl")
        yield* store.start(journal, SESSION)
        writeForeignLock(journal, { pid: 424_242, createdAt: new Date(), token: "foreign" })
        const started = yield* Clock.currentTimeMillis
        const exit = yield* Effect.exit(store.append(journal, { toolName: "tool.write", verdict: "allow" }))
        const elapsed = (yield* Clock.currentTimeMillis) - started
        const error = failureOf(exit, SessionLockContention)
        expect(elapsed).toBeGreaterThanOrEqual(200)
        expect(elapsed).toBeLessThan(200 + 2 * 20 + 100)
        expect(error.lock.waited_ms).toBeGreaterThanOrEqual(200)
        expect(error.lock.waited_ms).toBeLessThanOrEqual(elapsed)
        expect(error.lock).toMatchObject({ holder_pid: 424_242, timeout_ms: 200, retry_ms: 20, stale_after_ms: 120_000, profile: "swarm" })
        expect(error.lock.attempts).toBeGreaterThanOrEqual(2)
      }).pipe(runWith(env)),
    // A wall-clock bound: retried so that a load spike from outside this file does not fail the suite.
    { retry: 2 }
  )
})

describe("stale takeover with concurrent processes", () => {
  it("8 processes racing for a stale lock take turns, over several rounds", async () => {
    const dir = tempDir()
    const journal = path.join(dir, "race.journal.jsonl")
    const log = path.join(dir, "critical.log")
    const workers = await startWorkers(8, journal, {
      GAIT_SESSION_LOCK_TIMEOUT: "30s",
      GAIT_SESSION_LOCK_RETRY: "2ms",
      GAIT_SESSION_LOCK_STALE_AFTER: "10s"
    })
    const rounds = 4
    try {
      for (let round = 1; round <= rounds; round++) {
        // A lock left behind by a crashed process a minute ago.
        writeForeignLock(journal, { pid: 999_999, createdAt: new Date(Date.now() - 60_000), token: `crashed-${round}` })
        for (const w of workers) w.send({ op: "lock", log, holdMs: 5 })
        const replies = await Promise.all(workers.map((w) => w.next()))
        for (const r of replies) expect(r).toEqual({ ok: true, sequences: [] })
        expect(nodeFs.existsSync(`${journal}.lock`)).toBe(false)
      }
    } finally {
      await stopWorkers(workers)
    }
    const marks = readMarks(log)
    expectDisjointSections(marks, 8 * rounds)
    // Every worker got the lock once per round.
    const perPid = new Map<number, number>()
    for (const m of marks) if (m.what === "enter") perPid.set(m.pid, (perPid.get(m.pid) ?? 0) + 1)
    expect([...perPid.values()]).toEqual(Array.from({ length: 8 }, () => rounds))
    expect(nodeFs.existsSync(`${journal}.lock`)).toBe(false)
    expect(nodeFs.existsSync(`${journal}.lock.breaker`)).toBe(false)
  })
})

describe("concurrent appends from many processes", () => {
  it("20 processes × 3 appends → sequences 1..60 in file order, no gaps, no duplicates", async () => {
    const dir = tempDir()
    const journal = path.join(dir, "sessions", "swarm.journal.jsonl")
    await Effect.runPromise(Effect.flatMap(SessionStore, (s) => s.start(journal, SESSION)).pipe(runWith({})))
    const workers = await startWorkers(20, journal, {
      // Swarm's own 20ms retry; a long timeout because 20 node processes share 2 cores here.
      GAIT_SESSION_LOCK_PROFILE: "swarm",
      GAIT_SESSION_LOCK_TIMEOUT: "30s"
    })
    let replies: Array<Reply> = []
    try {
      for (const w of workers) w.send({ op: "append", count: 3 })
      replies = await Promise.all(workers.map((w) => w.next()))
    } finally {
      await stopWorkers(workers)
    }
    for (const r of replies) expect(r.ok, r.detail).toBe(true)
    const assigned = replies.flatMap((r) => r.sequences ?? [])
    expect([...assigned].sort((a, b) => a - b)).toEqual(range(1, 60))
    // Each worker's own appends are increasing.
    for (const r of replies) {
      const own = r.sequences ?? []
      expect(own).toEqual([...own].sort((a, b) => a - b))
      expect(new Set(own).size).toBe(3)
    }
    expect(eventSequences(journal)).toEqual(range(1, 60))
    // The journal's events say which process wrote them; each sequence belongs to the process that reported it.
    const writerOf = new Map(
      journalLines(journal).flatMap((l) => (l.event === undefined ? [] : [[l.event.sequence, l.event.intent_id] as const]))
    )
    for (const [i, r] of replies.entries()) {
      for (const sequence of r.sequences ?? []) expect(writerOf.get(sequence)).toBe(`pid_${workers[i]?.pid}`)
    }
    const status = await Effect.runPromise(Effect.flatMap(SessionStore, (s) => s.status(journal)).pipe(runWith({})))
    expect(status).toMatchObject({ event_count: 60, last_sequence: 60, checkpoint_count: 0 })
    expect(new Set(writerOf.values()).size).toBe(20)
    expect(nodeFs.existsSync(`${journal}.lock`)).toBe(false)
  })
})
