/**
 * The session lock (spec session.md §3): one writer per journal, across fibers and processes.
 *
 * File layer: `<journal>.lock` holds a JSON line of holder metadata (pid, created_at, a random
 * token) and is created atomically with its content (written privately, then hard-linked into
 * place, which fails on an existing lock just like O_EXCL). Waiting is an Effect `Schedule` (retry every `retry`, up to `timeout`);
 * fibers of one process queue on a per-path semaphore first, without a timeout, as in the reference.
 *
 * Stale takeover is safe against two waiters: a lock is only ever removed by a process holding the
 * breaker file `<journal>.lock.breaker` (also O_EXCL), and only after re-reading the lock under the
 * breaker and finding the same token that was judged stale. Without this, two waiters that both saw
 * the stale lock could each delete it — the second deleting the fresh lock the first had just
 * created — and both would proceed. The holder's own release goes through the breaker too, so a
 * holder whose lock was broken as stale never deletes its successor's lock. A lock file without
 * parsable metadata is never stale (its age is unknown); waiting on it ends in a timeout whose
 * diagnostic says the file is unreadable.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Context, Data, Duration, Effect, Layer, Option, Random, Ref, Schedule } from "effect"
import * as NodePath from "node:path"
import { formatRfc3339Nano, parseRfc3339 } from "../kernel/time.js"
import { SessionLockContention, SessionLockFailed } from "./errors.js"
import { type LockSettings, lockSettings } from "./lock-config.js"
import { SESSION_LOCK_SCHEMA, SCHEMA_VERSION } from "./schema.js"

export interface SessionLockApi {
  /**
   * Runs `use` while holding the lock for `key` (a journal path for the file layer). Release is
   * guaranteed when `use` ends, fails or is interrupted.
   */
  readonly withLock: <A, E, R>(
    key: string,
    use: (settings: LockSettings) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | SessionLockContention | SessionLockFailed, R>
}

export class SessionLock extends Context.Tag("gait/SessionLock")<SessionLock, SessionLockApi>() {}

/** A lock attempt met an existing lock; carries what the diagnostic reports about the holder. */
class LockBusy extends Data.TaggedError("LockBusy")<{
  readonly holderPid: number | undefined
  readonly holderAgeMs: number | undefined
  readonly readable: boolean
}> {}

interface Holder {
  readonly pid: number | undefined
  readonly createdAtMs: number | undefined
  readonly token: string | undefined
  readonly readable: boolean
}

const parseHolder = (text: string): Holder => {
  const parsed = Option.getOrUndefined(
    Option.liftThrowable((t: string): unknown => JSON.parse(t))(text)
  ) as { readonly pid?: unknown; readonly created_at?: unknown; readonly token?: unknown } | null | undefined
  if (parsed === null || typeof parsed !== "object") return { pid: undefined, createdAtMs: undefined, token: undefined, readable: false }
  const created = typeof parsed.created_at === "string" ? Option.getOrUndefined(parseRfc3339(parsed.created_at)) : undefined
  return {
    pid: typeof parsed.pid === "number" ? parsed.pid : undefined,
    createdAtMs: created === undefined ? undefined : Number(created / 1_000_000n),
    token: typeof parsed.token === "string" ? parsed.token : undefined,
    readable: created !== undefined
  }
}

const isSystemError = (e: PlatformError, reason: string): boolean => e._tag === "SystemError" && e.reason === reason

/** A breaker older than this belongs to a process that died inside the (microseconds-long) break. */
const BREAKER_STALE_MS = 1_000
/** Longer than BREAKER_STALE_MS, so a release always outlives a dead process's breaker. */
const RELEASE_BREAKER_WAIT = Duration.seconds(3)

export const makeFileLock = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  // One queue per lock path, dropped when nobody uses it (a server sees many session journals).
  const queues = new Map<string, { readonly semaphore: Effect.Semaphore; users: number }>()
  const serialized = <A, E, R>(path: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const queue = queues.get(path) ?? { semaphore: Effect.unsafeMakeSemaphore(1), users: 0 }
        queue.users++
        queues.set(path, queue)
        return queue
      }),
      (queue) => queue.semaphore.withPermits(1)(effect),
      (queue) =>
        Effect.sync(() => {
          queue.users--
          if (queue.users === 0) queues.delete(path)
        })
    )

  const readHolder = (lockPath: string) =>
    fs.readFileString(lockPath).pipe(
      Effect.map(parseHolder),
      Effect.orElseSucceed((): Holder => ({ pid: undefined, createdAtMs: undefined, token: undefined, readable: false }))
    )

  /** Runs `f` while holding the breaker; `None` when another process holds it right now. */
  const withBreaker = <A>(lockPath: string, f: Effect.Effect<A>) => {
    const breaker = `${lockPath}.breaker`
    return Effect.scoped(fs.open(breaker, { flag: "wx", mode: 0o600 })).pipe(
      Effect.matchEffect({
        onFailure: (e) =>
          isSystemError(e, "AlreadyExists")
            ? Effect.gen(function* () {
                const info = yield* Effect.option(fs.stat(breaker))
                const now = yield* Clock.currentTimeMillis
                const mtime = Option.flatMap(info, (i) => i.mtime)
                if (Option.isSome(mtime) && now - mtime.value.getTime() > BREAKER_STALE_MS) {
                  yield* fs.remove(breaker).pipe(Effect.ignore)
                }
                return Option.none<A>()
              })
            : Effect.succeed(Option.none<A>()),
        onSuccess: () => Effect.map(Effect.ensuring(f, fs.remove(breaker).pipe(Effect.ignore)), Option.some)
      })
    )
  }

  const acquire = (lockPath: string, settings: LockSettings, token: string, attempts: Ref.Ref<number>, held: Ref.Ref<boolean>) => {
    const content = Effect.map(Clock.currentTimeNanos, (now) =>
      `${JSON.stringify({ created_at: formatRfc3339Nano(now), pid: process.pid, schema_id: SESSION_LOCK_SCHEMA, schema_version: SCHEMA_VERSION, token })}\n`
    )
    // The metadata is written to a private file first and linked into place: link() is atomic and
    // fails on an existing lock exactly like O_EXCL, so no waiter ever reads a half-written lock.
    const pending = `${lockPath}.${token}`
    const create = Effect.gen(function* () {
      const text = yield* content
      yield* fs.writeFileString(pending, text, { flag: "wx", mode: 0o600 })
      yield* fs.link(pending, lockPath).pipe(Effect.ensuring(fs.remove(pending).pipe(Effect.ignore)))
      yield* Ref.set(held, true)
    }).pipe(Effect.uninterruptible)

    const attempt: Effect.Effect<void, LockBusy | SessionLockFailed> = Effect.gen(function* () {
      yield* Ref.update(attempts, (n) => n + 1)
      for (;;) {
        const created = yield* Effect.either(create)
        if (created._tag === "Right") return
        const error = created.left
        if (!isSystemError(error, "AlreadyExists")) {
          const exists = yield* fs.exists(lockPath).pipe(Effect.orElseSucceed(() => false))
          if (!exists) return yield* new SessionLockFailed({ path: lockPath, detail: error.message })
        }
        const holder = yield* readHolder(lockPath)
        const now = yield* Clock.currentTimeMillis
        const age = holder.createdAtMs === undefined ? undefined : now - holder.createdAtMs
        if (age === undefined || age <= settings.staleAfterMs) {
          return yield* new LockBusy({ holderPid: holder.pid, holderAgeMs: age, readable: holder.readable })
        }
        // Stale: remove it under the breaker, only if it is still the lock we judged stale.
        const broken = yield* withBreaker(
          lockPath,
          Effect.gen(function* () {
            const again = yield* readHolder(lockPath)
            if (again.token === holder.token && again.createdAtMs === holder.createdAtMs) {
              yield* fs.remove(lockPath).pipe(Effect.ignore)
            }
          })
        )
        if (Option.isNone(broken)) return yield* new LockBusy({ holderPid: holder.pid, holderAgeMs: age, readable: true })
      }
    })

    return attempt.pipe(
      Effect.retry({
        // Backoff from `retry` growing to at most 2×retry, jittered, so dozens of waiting processes do
        // not poll in lockstep and starve the holder of CPU; the total wait stays within timeout + 2.4×retry.
        schedule: Schedule.exponential(Duration.millis(settings.retryMs), 1.5).pipe(
          Schedule.union(Schedule.spaced(Duration.millis(settings.retryMs * 2))),
          Schedule.jittered,
          Schedule.upTo(Duration.millis(settings.timeoutMs))
        ),
        while: (e) => e._tag === "LockBusy"
      })
    )
  }

  const removeIfOurs = (lockPath: string, token: string) =>
    Effect.gen(function* () {
      const holder = yield* readHolder(lockPath)
      if (holder.token === token) yield* fs.remove(lockPath).pipe(Effect.ignore)
    })

  const release = (lockPath: string, token: string) =>
    withBreaker(lockPath, removeIfOurs(lockPath, token)).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.fail("breaker busy" as const), onSome: () => Effect.void })),
      Effect.retry(Schedule.spaced(Duration.millis(1)).pipe(Schedule.upTo(RELEASE_BREAKER_WAIT))),
      // Never leave our own lock behind: if the breaker stayed busy, remove it without the breaker
      // (still only when it carries our token).
      Effect.catchAll(() => removeIfOurs(lockPath, token))
    )

  const withLock: SessionLockApi["withLock"] = (key, use) => {
    const lockPath = `${key}.lock`
    return Effect.gen(function* () {
      const settings = yield* lockSettings
      yield* fs
        .makeDirectory(NodePath.dirname(lockPath), { recursive: true, mode: 0o750 })
        .pipe(Effect.mapError((e) => new SessionLockFailed({ path: lockPath, detail: `prepare session lock directory: ${e.message}` })))
      const token = `${process.pid}-${(yield* Random.nextIntBetween(0, 0x7fffffff)).toString(16)}-${(yield* Clock.currentTimeNanos).toString(36)}`
      const attempts = yield* Ref.make(0)
      const held = yield* Ref.make(false)
      const started = yield* Clock.currentTimeMillis
      const diagnostic = (busy: LockBusy) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          return new SessionLockContention({
            lock: {
              path: lockPath,
              ...(busy.holderPid === undefined ? {} : { holder_pid: busy.holderPid }),
              ...(busy.holderAgeMs === undefined ? {} : { holder_age_ms: busy.holderAgeMs }),
              holder_readable: busy.readable,
              waited_ms: now - started,
              attempts: yield* Ref.get(attempts),
              timeout_ms: settings.timeoutMs,
              retry_ms: settings.retryMs,
              stale_after_ms: settings.staleAfterMs,
              profile: settings.profile
            }
          })
        })
      // `held` is set inside the uninterruptible create, so an interruption at any later point still
      // releases the lock through `ensuring`.
      return yield* acquire(lockPath, settings, token, attempts, held).pipe(
        Effect.catchTag("LockBusy", (busy) => Effect.flatMap(diagnostic(busy), Effect.fail)),
        Effect.zipRight(use(settings)),
        Effect.ensuring(Effect.flatMap(Ref.get(held), (h) => (h ? release(lockPath, token) : Effect.void)))
      )
    }).pipe((effect) => serialized(lockPath, effect), Effect.withSpan("SessionLock.withLock"))
  }

  return { withLock } satisfies SessionLockApi
})

/** Cross-process lock files (the CLI and a single serve instance). */
export const layerFile: Layer.Layer<SessionLock, never, FileSystem.FileSystem> = Layer.effect(SessionLock, makeFileLock)

/**
 * In-process only: fibers queue per key. For tests and for stores whose backend has its own
 * locking; never for journals shared between processes.
 */
export const layerMemory: Layer.Layer<SessionLock> = Layer.sync(SessionLock, () => {
  const semaphores = new Map<string, Effect.Semaphore>()
  return {
    withLock: (key, use) =>
      Effect.flatMap(lockSettings, (settings) => {
        let semaphore = semaphores.get(key)
        if (semaphore === undefined) {
          semaphore = Effect.unsafeMakeSemaphore(1)
          semaphores.set(key, semaphore)
        }
        return semaphore.withPermits(1)(use(settings))
      })
  }
})
