/**
 * The file lock in one process (spec session.md §3): contention with a foreign lock file and its
 * typed diagnostic, the lower bound of the wait, stale takeover through the breaker, unreadable
 * lock files, and release on success, failure, defect and interruption.
 */
import * as nodeFs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Clock, Effect, Exit, Fiber, Layer } from "effect"
import { ArtifactWriteFailed } from "../../src/kernel/errors.js"
import { SessionLockContention, SessionLockFailed } from "../../src/session/errors.js"
import { layerFile as lockLayerFile, SessionLock } from "../../src/session/lock.js"
import { layerFile as storeLayerFile, SessionStore, type SessionStoreError } from "../../src/session/store.js"
import {
  appendInput,
  eventSequences,
  FAST_LOCK_ENV,
  failureOf,
  removeTempDirs,
  runWith,
  SESSION,
  tempDir,
  withLockEnv,
  writeForeignLock
} from "./fixtures/session-env.js"

afterEach(removeTempDirs)

const FOREIGN_PID = 424_242

/** A started journal in a fresh temp dir. */
const startedJournal = Effect.gen(function* () {
  const journal = path.join(tempDir(), "sessions", "demo.journal.jsonl")
  yield* (yield* SessionStore).start(journal, SESSION)
  return journal
})

const lockArtifacts = (journal: string) => ({
  lock: nodeFs.existsSync(`${journal}.lock`),
  breaker: nodeFs.existsSync(`${journal}.lock.breaker`)
})

/** The file layers over a file system whose journal appends (`open` with flag "a") hang or fail. */
const layersWithJournalAppend = (behaviour: "hang" | "fail") => {
  const fileSystem = Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (real) =>
      FileSystem.FileSystem.of({
        ...real,
        open: (p, options) =>
          p.endsWith(".jsonl") && options?.flag === "a"
            ? behaviour === "hang"
              ? Effect.never
              : Effect.fail(new SystemError({ reason: "Unknown", module: "FileSystem", method: "open", description: "injected open failure" }))
            : real.open(p, options)
      })
    )
  ).pipe(Layer.provide(NodeFileSystem.layer))
  return storeLayerFile.pipe(Layer.provideMerge(lockLayerFile), Layer.provideMerge(fileSystem))
}

/** Waits (live clock) until `predicate` holds, for at most ~2s. */
const eventually = (predicate: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 400; i++) {
      if (predicate()) return
      yield* Effect.sleep("5 millis")
    }
    throw new Error("condition not reached")
  })

describe("contention with a fresh foreign lock", () => {
  const env = {
    GAIT_SESSION_LOCK_PROFILE: "swarm",
    GAIT_SESSION_LOCK_TIMEOUT: "200ms",
    GAIT_SESSION_LOCK_RETRY: "20ms",
    GAIT_SESSION_LOCK_STALE_AFTER: "2m"
  }

  // The upper bound of the wait (timeout + 2×retry + 100ms) is asserted in lock-processes.test.ts,
  // before its child processes start, so no process of this suite competes for the CPU meanwhile.
  it.live("fails with a typed SessionLockContention carrying every diagnostic field", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      const lockPath = writeForeignLock(journal, { pid: FOREIGN_PID, createdAt: new Date(Date.now() - 1_000), token: "foreign" })
      const before = nodeFs.readFileSync(lockPath)
      const started = yield* Clock.currentTimeMillis
      const exit = yield* Effect.exit(store.append(journal, appendInput("tool.write")))
      const elapsed = (yield* Clock.currentTimeMillis) - started
      const error = failureOf(exit, SessionLockContention)

      expect(elapsed).toBeGreaterThanOrEqual(200)
      const { waited_ms, holder_age_ms, attempts, ...rest } = error.lock
      expect(rest).toEqual({
        path: lockPath,
        holder_pid: FOREIGN_PID,
        holder_readable: true,
        timeout_ms: 200,
        retry_ms: 20,
        stale_after_ms: 120_000,
        profile: "swarm"
      })
      expect(waited_ms).toBeGreaterThanOrEqual(200)
      expect(waited_ms).toBeLessThanOrEqual(elapsed)
      expect(attempts).toBeGreaterThanOrEqual(2)
      // One attempt per retry interval at most (plus the first one).
      expect(attempts).toBeLessThanOrEqual(Math.ceil(elapsed / 20) + 1)
      expect(holder_age_ms).toBeGreaterThanOrEqual(1_000)
      expect(holder_age_ms).toBeLessThan(120_000)
      expect(error.message).toContain("lock timeout")
      expect(error.message).toContain(`path=${lockPath}`)
      expect(error.message).toContain("profile=swarm")
      expect(error.message).toContain(`holder_pid=${FOREIGN_PID}`)

      // The foreign lock is untouched and nothing was appended.
      expect(nodeFs.readFileSync(lockPath)).toEqual(before)
      expect(lockArtifacts(journal).breaker).toBe(false)
      expect(eventSequences(journal)).toEqual([])
    }).pipe(runWith(env))
  )

  it.live("the default profile waits the full 2s and reports standard settings", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      writeForeignLock(journal, { pid: FOREIGN_PID, createdAt: new Date() })
      const started = yield* Clock.currentTimeMillis
      const error = failureOf(yield* Effect.exit(store.status(journal)), SessionLockContention)
      expect((yield* Clock.currentTimeMillis) - started).toBeGreaterThanOrEqual(2_000)
      expect(error.lock).toMatchObject({ profile: "standard", timeout_ms: 2_000, retry_ms: 50, stale_after_ms: 300_000, holder_pid: FOREIGN_PID })
      expect(error.message).toContain("lock timeout")
    }).pipe(runWith({}))
  )

  it.live("every store operation takes the lock (start, append, status, checkpoint, compact)", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      const dir = path.dirname(journal)
      writeForeignLock(journal, { pid: FOREIGN_PID, createdAt: new Date() })
      const operations: ReadonlyArray<Effect.Effect<unknown, SessionStoreError>> = [
        store.start(journal, SESSION),
        store.append(journal, appendInput("tool.write")),
        store.status(journal),
        store.checkpoint(journal, { out: path.join(dir, "cp.zip") }),
        store.compact(journal, { dryRun: true })
      ]
      for (const operation of operations) failureOf(yield* Effect.exit(operation), SessionLockContention)
      expect(nodeFs.existsSync(path.join(dir, "cp.zip"))).toBe(false)
    }).pipe(runWith({ GAIT_SESSION_LOCK_TIMEOUT: "40ms", GAIT_SESSION_LOCK_RETRY: "10ms" }))
  )
})

describe("stale and unreadable lock files", () => {
  it.live("a lock older than stale-after is taken over; the append succeeds and no lock remains", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      writeForeignLock(journal, { pid: FOREIGN_PID, createdAt: new Date(Date.now() - 60_000), token: "old" })
      const event = yield* store.append(journal, appendInput("tool.write"))
      expect(event.sequence).toBe(1)
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
      expect(eventSequences(journal)).toEqual([1])
    }).pipe(runWith({ ...FAST_LOCK_ENV, GAIT_SESSION_LOCK_STALE_AFTER: "1s" }))
  )

  it.live("a lock without a token (as the reference writes it) is taken over too", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      writeForeignLock(journal, { pid: FOREIGN_PID, createdAt: new Date(Date.now() - 10 * 60_000) })
      // Default profile: stale after 5 minutes; this one is 10 minutes old.
      const status = yield* store.status(journal)
      expect(status.event_count).toBe(0)
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
    }).pipe(runWith({}))
  )

  it.live("a lock younger than stale-after is not taken over", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      writeForeignLock(journal, { pid: FOREIGN_PID, createdAt: new Date(Date.now() - 60_000) })
      const error = failureOf(yield* Effect.exit(store.status(journal)), SessionLockContention)
      expect(error.lock.stale_after_ms).toBe(120_000)
      expect(error.lock.holder_age_ms).toBeGreaterThanOrEqual(60_000)
      expect(lockArtifacts(journal).lock).toBe(true)
    }).pipe(runWith({ ...FAST_LOCK_ENV, GAIT_SESSION_LOCK_STALE_AFTER: "2m" }))
  )

  it.live("a garbage lock file is never stale: timeout with holder_readable false", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      const lockPath = `${journal}.lock`
      nodeFs.writeFileSync(lockPath, "not json")
      // Its mtime is ancient: staleness is never judged from the file's mtime.
      const ancient = new Date(Date.now() - 24 * 3_600_000)
      nodeFs.utimesSync(lockPath, ancient, ancient)
      const error = failureOf(yield* Effect.exit(store.append(journal, appendInput("tool.write"))), SessionLockContention)
      expect(error.lock.holder_readable).toBe(false)
      expect(error.lock.holder_pid).toBeUndefined()
      expect(error.lock.holder_age_ms).toBeUndefined()
      expect(error.lock.waited_ms).toBeGreaterThanOrEqual(200)
      expect(error.lock.attempts).toBeGreaterThanOrEqual(2)
      expect(error.message).toContain("holder=unreadable-lock-file")
      expect(nodeFs.readFileSync(lockPath, "utf8")).toBe("not json")
      expect(eventSequences(journal)).toEqual([])
    }).pipe(runWith({ ...FAST_LOCK_ENV, GAIT_SESSION_LOCK_STALE_AFTER: "1s" }))
  )

  it.live("an empty lock file, and one with a bad created_at, are never stale either", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      const lockPath = `${journal}.lock`
      nodeFs.writeFileSync(lockPath, "")
      const empty = failureOf(yield* Effect.exit(store.status(journal)), SessionLockContention)
      expect(empty.lock.holder_readable).toBe(false)
      nodeFs.writeFileSync(lockPath, `${JSON.stringify({ created_at: "yesterday", pid: FOREIGN_PID })}\n`)
      const badTime = failureOf(yield* Effect.exit(store.status(journal)), SessionLockContention)
      expect(badTime.lock.holder_readable).toBe(false)
      expect(badTime.lock.holder_pid).toBe(FOREIGN_PID)
      expect(badTime.lock.holder_age_ms).toBeUndefined()
      expect(nodeFs.existsSync(lockPath)).toBe(true)
    }).pipe(runWith({ GAIT_SESSION_LOCK_TIMEOUT: "60ms", GAIT_SESSION_LOCK_RETRY: "20ms", GAIT_SESSION_LOCK_STALE_AFTER: "1ms" }))
  )

  it.live("a foreign breaker file held right now delays a stale takeover until the timeout", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      writeForeignLock(journal, { pid: FOREIGN_PID, createdAt: new Date(Date.now() - 60_000) })
      nodeFs.writeFileSync(`${journal}.lock.breaker`, "")
      const error = failureOf(yield* Effect.exit(store.status(journal)), SessionLockContention)
      expect(error.lock.holder_pid).toBe(FOREIGN_PID)
      expect(lockArtifacts(journal)).toEqual({ lock: true, breaker: true })
    }).pipe(runWith({ ...FAST_LOCK_ENV, GAIT_SESSION_LOCK_STALE_AFTER: "1s" }))
  )

  it.live("a breaker left behind by a crashed breaker (older than 10s) is cleared, then the stale lock is taken over", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      writeForeignLock(journal, { pid: FOREIGN_PID, createdAt: new Date(Date.now() - 60_000) })
      const breaker = `${journal}.lock.breaker`
      nodeFs.writeFileSync(breaker, "")
      const old = new Date(Date.now() - 60_000)
      nodeFs.utimesSync(breaker, old, old)
      const event = yield* store.append(journal, appendInput("tool.write"))
      expect(event.sequence).toBe(1)
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
    }).pipe(runWith({ ...FAST_LOCK_ENV, GAIT_SESSION_LOCK_STALE_AFTER: "1s" }))
  )
})

describe("release", () => {
  it.live("after a successful operation the lock file is gone, and the holder metadata was written", () =>
    Effect.gen(function* () {
      const lock = yield* SessionLock
      const journal = path.join(tempDir(), "meta.journal.jsonl")
      const seen = yield* lock.withLock(journal, () => Effect.sync(() => nodeFs.readFileSync(`${journal}.lock`, "utf8")))
      const meta = JSON.parse(seen) as Record<string, unknown>
      expect(meta).toMatchObject({ pid: process.pid, schema_id: "gait.runpack.session_lock", schema_version: "1.0.0" })
      expect(typeof meta["token"]).toBe("string")
      expect(Date.now() - Date.parse(String(meta["created_at"]))).toBeLessThan(60_000)
      expect(seen.endsWith("\n")).toBe(true)
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
    }).pipe(runWith({}))
  )

  it.live("the lock file is created with mode 0600", () =>
    Effect.gen(function* () {
      const lock = yield* SessionLock
      const journal = path.join(tempDir(), "mode.journal.jsonl")
      const mode = yield* lock.withLock(journal, () => Effect.sync(() => nodeFs.statSync(`${journal}.lock`).mode & 0o777))
      expect(mode).toBe(0o600)
    }).pipe(runWith({}))
  )

  it.live("after a store operation (start, append, status, checkpoint, compact) no lock artefact remains", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
      yield* store.append(journal, appendInput("tool.write"))
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
      yield* store.status(journal)
      yield* store.checkpoint(journal, { out: path.join(path.dirname(journal), "cp.zip") })
      yield* store.compact(journal, { dryRun: false })
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
    }).pipe(runWith({}))
  )

  it.live("after a failing operation (typed failure and defect) the lock is released", () =>
    Effect.gen(function* () {
      const lock = yield* SessionLock
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "fail.journal.jsonl")
      const failed = yield* Effect.exit(lock.withLock(journal, () => Effect.fail("boom" as const)))
      expect(failed).toEqual(Exit.fail("boom"))
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
      const died = yield* Effect.exit(lock.withLock(journal, () => Effect.die(new Error("defect"))))
      expect(Exit.isFailure(died)).toBe(true)
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
      // A store operation failing inside the lock (no journal yet).
      yield* Effect.exit(store.append(journal, appendInput("tool.write")))
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
      // And the lock is usable again afterwards.
      expect(yield* lock.withLock(journal, () => Effect.succeed(1))).toBe(1)
    }).pipe(runWith(FAST_LOCK_ENV))
  )

  it.live("interrupting a holder releases the lock", () =>
    Effect.gen(function* () {
      const lock = yield* SessionLock
      const journal = path.join(tempDir(), "interrupt.journal.jsonl")
      const fiber = yield* Effect.fork(lock.withLock(journal, () => Effect.never))
      yield* eventually(() => nodeFs.existsSync(`${journal}.lock`))
      yield* Fiber.interrupt(fiber)
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
      expect(yield* lock.withLock(journal, () => Effect.succeed("again"))).toBe("again")
    }).pipe(runWith(FAST_LOCK_ENV))
  )

  it.live("interrupting a store append that holds the lock (stuck in its journal write) releases the lock", () =>
    Effect.gen(function* () {
      const journal = yield* startedJournal.pipe(runWith({}))
      const exit = yield* Effect.gen(function* () {
        const store = yield* SessionStore
        const fiber = yield* Effect.fork(store.append(journal, appendInput("tool.write")))
        yield* eventually(() => nodeFs.existsSync(`${journal}.lock`))
        yield* Effect.sleep("20 millis")
        expect(nodeFs.existsSync(`${journal}.lock`)).toBe(true)
        return yield* Fiber.interrupt(fiber)
      }).pipe(Effect.provide(layersWithJournalAppend("hang")), withLockEnv(FAST_LOCK_ENV))
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
      expect(eventSequences(journal)).toEqual([])
    })
  )

  it.live("a store append whose journal write fails releases the lock and appends nothing", () =>
    Effect.gen(function* () {
      const journal = yield* startedJournal.pipe(runWith({}))
      const exit = yield* Effect.exit(
        Effect.flatMap(SessionStore, (store) => store.append(journal, appendInput("tool.write"))).pipe(
          Effect.provide(layersWithJournalAppend("fail")),
          withLockEnv(FAST_LOCK_ENV)
        )
      )
      const error = failureOf(exit, ArtifactWriteFailed)
      expect(error).toMatchObject({ path: journal, stage: "write" })
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
      expect(eventSequences(journal)).toEqual([])
    })
  )

  it.live("interrupting a store append that waits on a foreign lock leaves that lock alone and creates none", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* startedJournal
      const lockPath = writeForeignLock(journal, { pid: FOREIGN_PID, createdAt: new Date(), token: "foreign" })
      const before = nodeFs.readFileSync(lockPath)
      const fiber = yield* Effect.fork(store.append(journal, appendInput("tool.write")))
      yield* Effect.sleep("60 millis")
      yield* Fiber.interrupt(fiber)
      expect(nodeFs.readFileSync(lockPath)).toEqual(before)
      expect(lockArtifacts(journal).breaker).toBe(false)
      nodeFs.rmSync(lockPath)
      // Nothing of the interrupted waiter lingers: the next append goes through with sequence 1.
      expect((yield* store.append(journal, appendInput("tool.write"))).sequence).toBe(1)
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
      expect(eventSequences(journal)).toEqual([1])
    }).pipe(runWith({ GAIT_SESSION_LOCK_TIMEOUT: "5s", GAIT_SESSION_LOCK_RETRY: "10ms" }))
  )

  it.live("interrupting a fiber queued behind an in-process holder does not leak the queue", () =>
    Effect.gen(function* () {
      const lock = yield* SessionLock
      const journal = path.join(tempDir(), "queue.journal.jsonl")
      const holder = yield* Effect.fork(lock.withLock(journal, () => Effect.never))
      yield* eventually(() => nodeFs.existsSync(`${journal}.lock`))
      const queued = yield* Effect.fork(lock.withLock(journal, () => Effect.succeed("queued")))
      yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(queued)
      yield* Fiber.interrupt(holder)
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
      expect(yield* lock.withLock(journal, () => Effect.succeed("next"))).toBe("next")
    }).pipe(runWith(FAST_LOCK_ENV))
  )

  it.live("fibers of one process queue without a timeout: the wait for the in-process mutex is not lock contention", () =>
    Effect.gen(function* () {
      const lock = yield* SessionLock
      const journal = path.join(tempDir(), "mutex.journal.jsonl")
      // The holder keeps the lock for 3× the timeout; the second fiber still succeeds.
      const holder = yield* Effect.fork(lock.withLock(journal, () => Effect.sleep("150 millis")))
      yield* eventually(() => nodeFs.existsSync(`${journal}.lock`))
      expect(yield* lock.withLock(journal, () => Effect.succeed("second"))).toBe("second")
      yield* Fiber.join(holder)
      expect(lockArtifacts(journal)).toEqual({ lock: false, breaker: false })
    }).pipe(runWith({ GAIT_SESSION_LOCK_TIMEOUT: "50ms", GAIT_SESSION_LOCK_RETRY: "10ms" }))
  )

  it.live("a holder whose lock was broken as stale does not delete its successor's lock on release", () =>
    Effect.gen(function* () {
      const lock = yield* SessionLock
      const journal = path.join(tempDir(), "successor.journal.jsonl")
      const lockPath = `${journal}.lock`
      // While the operation runs, another process judges the lock stale and replaces it with its own.
      yield* lock.withLock(journal, () =>
        Effect.sync(() => {
          nodeFs.rmSync(lockPath)
          writeForeignLock(journal, { pid: FOREIGN_PID, createdAt: new Date(), token: "successor" })
        })
      )
      const remaining = JSON.parse(nodeFs.readFileSync(lockPath, "utf8")) as { readonly token?: string }
      expect(remaining.token).toBe("successor")
      expect(lockArtifacts(journal).breaker).toBe(false)
    }).pipe(runWith(FAST_LOCK_ENV))
  )

  it.live("different journals do not block each other", () =>
    Effect.gen(function* () {
      const lock = yield* SessionLock
      const dir = tempDir()
      const a = path.join(dir, "a.jsonl")
      const b = path.join(dir, "b.jsonl")
      const inner = yield* lock.withLock(a, () => lock.withLock(b, () => Effect.succeed("both")))
      expect(inner).toBe("both")
    }).pipe(runWith(FAST_LOCK_ENV))
  )

  it.live("a lock directory that cannot be created is SessionLockFailed, not contention", () =>
    Effect.gen(function* () {
      const lock = yield* SessionLock
      const dir = tempDir()
      const file = path.join(dir, "plain-file")
      nodeFs.writeFileSync(file, "")
      const error = failureOf(
        yield* Effect.exit(lock.withLock(path.join(file, "j.jsonl"), () => Effect.void)),
        SessionLockFailed
      )
      expect(error.detail).toContain("prepare session lock directory")
      expect(error.path).toBe(path.join(file, "j.jsonl.lock"))
    }).pipe(runWith(FAST_LOCK_ENV))
  )
})
