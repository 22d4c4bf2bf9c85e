/**
 * Locked line append (ops.md §6.2), the one primitive behind every JSONL log gait shares between
 * processes (telemetry now; the proxy/serve exporters later).
 *
 * A record is one `write` of `<line>\n` on an O_APPEND descriptor, made while holding the sidecar
 * `<path>.lock` (created with O_EXCL, left empty), then fsync. Waiting is an Effect `Schedule`
 * (every 10 ms, up to 30 s). A lock whose mtime is older than 2 minutes is stale; it is only ever
 * removed by a writer holding the breaker `<path>.lock.breaker` (also O_EXCL), after re-checking
 * under the breaker that the lock is still the same file (inode and mtime) it judged stale. Without
 * that, two writers that both saw the stale lock could each remove "it" — the second removing the
 * fresh lock the first had just created — and both would append at once.
 *
 * Creating the lock, writing the record and releasing the lock are synchronous syscalls (node:fs),
 * so the lock is held for one uninterrupted burst instead of across several event-loop turns. On a
 * saturated machine every turn waits for the scheduler: with 300 gait processes starting at once on
 * two cores, a lock held across turns was held for ~200 ms per record, and writers at the back of
 * the queue gave up after 30 s and lost their records (scripts/chaos/telemetry.mjs).
 */
import { type PlatformError, SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import { Clock, Duration, Effect, Option, Ref, Schedule, Schema } from "effect"
import * as nodeFs from "node:fs"
import * as NodePath from "node:path"
import { describePlatformError, isLocalOrAbsolute, syncDirectory } from "./files.js"

const STAGE_TEXT = {
  validate: "invalid append",
  mkdir: "create append directory",
  lock: "acquire append lock",
  open: "open append file",
  write: "append file line",
  sync: "sync append file"
} as const

/** An append failed before, or while, writing its record; no partial line was written by this call. */
export class AppendFailed extends Schema.TaggedError<AppendFailed>()("AppendFailed", {
  path: Schema.String,
  stage: Schema.Literal("validate", "mkdir", "lock", "open", "write", "sync"),
  detail: Schema.String
}) {
  override get message(): string {
    return this.stage === "validate"
      ? `${STAGE_TEXT.validate} ${this.path}: ${this.detail}`
      : `${STAGE_TEXT[this.stage]}: ${this.detail}`
  }
}

/** Another writer held `<path>.lock` (not stale) for the whole wait. */
export class AppendLockTimeout extends Schema.TaggedError<AppendLockTimeout>()("AppendLockTimeout", {
  lock_path: Schema.String,
  waited_ms: Schema.Number,
  timeout_ms: Schema.Number
}) {
  override get message(): string {
    return `append lock timeout: ${this.lock_path} still held after ${this.waited_ms}ms`
  }
}

export interface AppendLockSettings {
  readonly timeout: Duration.DurationInput
  readonly retry: Duration.DurationInput
  readonly staleAfter: Duration.DurationInput
}

export const APPEND_LOCK_DEFAULTS: AppendLockSettings = {
  timeout: Duration.seconds(30),
  retry: Duration.millis(10),
  staleAfter: Duration.minutes(2)
}

export interface AppendOptions {
  /** Permission bits when the file is created (subject to the umask). Default 0o600. */
  readonly mode?: number
  /** Overrides of the lock timing (tests); the defaults are the reference's. */
  readonly lock?: Partial<AppendLockSettings>
}

/** A breaker is held for a few syscalls; one this old belongs to a writer that died inside the break. */
const BREAKER_STALE_MS = 10_000
/** Stale locks broken back to back before an attempt counts as contention (a bound, not a wait). */
const MAX_IMMEDIATE_RETRIES = 3

/** A plain value, not an Error: a waiter fails this way every 10 ms, so it must cost nothing. */
interface LockBusy {
  readonly _tag: "LockBusy"
}
const BUSY: LockBusy = { _tag: "LockBusy" }

/**
 * Staleness is judged on a 2-minute scale, so a waiter looks at the lock's age at its first
 * contention and then once a second; in between a retry is one failed open. (With a hundred waiting
 * processes, a stat on every retry costs more CPU than the holder gets.)
 */
const STALE_CHECK_INTERVAL_MS = 1_000

/** Inode and mtime of a lock file, as far as the platform reports them. */
export interface Identity {
  readonly ino: Option.Option<number>
  readonly mtimeMs: Option.Option<number>
}

const identityOf = (info: FileSystem.File.Info): Identity => ({
  ino: info.ino,
  mtimeMs: Option.map(info.mtime, (d) => d.getTime())
})

const sameOption = (a: Option.Option<number>, b: Option.Option<number>): boolean =>
  Option.isNone(a) ? Option.isNone(b) : Option.isSome(b) && a.value === b.value

const sameFile = (a: Identity, b: Identity): boolean => sameOption(a.ino, b.ino) && sameOption(a.mtimeMs, b.mtimeMs)

const isReason = (e: PlatformError, reason: string): boolean => e._tag === "SystemError" && e.reason === reason

const encoder = new TextEncoder()

const REASON_OF_CODE: Readonly<Record<string, SystemError["reason"]>> = {
  EEXIST: "AlreadyExists",
  ENOENT: "NotFound",
  EACCES: "PermissionDenied",
  EPERM: "PermissionDenied"
}

/** A node:fs exception as the platform error the contention rules are written against. */
const systemError =
  (method: string, path: string) =>
  (e: unknown): PlatformError =>
    new SystemError({
      reason: REASON_OF_CODE[(e as { readonly code?: string }).code ?? ""] ?? "Unknown",
      module: "FileSystem",
      method,
      pathOrDescriptor: path,
      description: e instanceof Error ? e.message : String(e),
      cause: e
    })

/** Creates the empty lock file (O_EXCL, 0600) and returns its identity. */
const createLockSync = (lockPath: string): Identity => {
  const fd = nodeFs.openSync(lockPath, "wx", 0o600)
  try {
    const info = nodeFs.fstatSync(fd)
    return { ino: Option.some(info.ino), mtimeMs: Option.some(info.mtimeMs) }
  } catch (e) {
    // Created but not known as ours: remove it now, or nobody would release it before it is stale.
    nodeFs.rmSync(lockPath, { force: true })
    throw e
  } finally {
    try {
      nodeFs.closeSync(fd)
    } catch {
      // the descriptor is gone either way
    }
  }
}

/**
 * Removes the lock if it is still the file `mine` describes (same inode); a writer whose lock was
 * broken as stale leaves its successor's alone. Errors (the lock is already gone) are ignored.
 * Exported for tests.
 */
export const releaseAppendLockSync = (lockPath: string, mine: Identity): void => {
  try {
    if (Option.isNone(mine.ino) || nodeFs.statSync(lockPath).ino === mine.ino.value) nodeFs.unlinkSync(lockPath)
  } catch {
    // already removed
  }
}

/**
 * The record itself: one write() of the whole payload on an O_APPEND descriptor (the loop only
 * continues after a short write, which a regular local file does not produce), then fsync.
 * Returns whether the file was empty before, i.e. whether its directory entry may be new.
 */
const writeRecordSync = (
  target: string,
  payload: Uint8Array,
  mode: number,
  fail: (stage: "open" | "write" | "sync") => (e: PlatformError) => AppendFailed
): boolean => {
  let fd: number
  try {
    fd = nodeFs.openSync(target, "a", mode)
  } catch (e) {
    throw fail("open")(systemError("open", target)(e))
  }
  try {
    const wasEmpty = nodeFs.fstatSync(fd).size === 0
    try {
      for (let written = 0; written < payload.length; ) written += nodeFs.writeSync(fd, payload, written)
    } catch (e) {
      throw fail("write")(systemError("write", target)(e))
    }
    try {
      nodeFs.fsyncSync(fd)
    } catch (e) {
      throw fail("sync")(systemError("sync", target)(e))
    }
    return wasEmpty
  } finally {
    try {
      nodeFs.closeSync(fd)
    } catch {
      // the record is already written and synced; a failed close does not undo it
    }
  }
}

/**
 * Runs `use` while holding `<path>.lock`. Waiting is interruptible; creating the lock and recording
 * that it is held is not, so an interrupt never leaks a lock. Release removes the lock only if it is
 * still the file this writer created (same inode), so a writer whose lock was broken as stale never
 * removes its successor's.
 */
const withAppendLock = <A, E>(
  fs: FileSystem.FileSystem,
  path: string,
  settings: AppendLockSettings,
  use: Effect.Effect<A, E>
): Effect.Effect<A, E | AppendFailed | AppendLockTimeout> => {
  const lockPath = `${path}.lock`
  const breakerPath = `${lockPath}.breaker`
  const staleAfterMs = Duration.toMillis(settings.staleAfter)
  const timeoutMs = Duration.toMillis(settings.timeout)

  const olderThan = (identity: Identity, limitMs: number) =>
    Effect.map(Clock.currentTimeMillis, (now) =>
      Option.match(identity.mtimeMs, { onNone: () => false, onSome: (mtime) => now - mtime > limitMs })
    )

  /** Removes a breaker left by a writer that died inside the break, if it is still that file. */
  const clearDeadBreaker: Effect.Effect<boolean> = Effect.gen(function* () {
    const seen = yield* Effect.option(fs.stat(breakerPath))
    if (Option.isNone(seen) || !(yield* olderThan(identityOf(seen.value), BREAKER_STALE_MS))) return false
    const again = yield* Effect.option(fs.stat(breakerPath))
    if (Option.isNone(again) || !sameFile(identityOf(again.value), identityOf(seen.value))) return false
    return yield* fs.remove(breakerPath).pipe(
      Effect.as(true),
      Effect.orElseSucceed(() => false)
    )
  })

  /**
   * Removes the lock seen as `observed` if, under the breaker, it is still that file and still stale.
   * `true` when the caller should try again at once (the lock or a dead breaker is gone).
   */
  const breakStale = (observed: Identity): Effect.Effect<boolean> =>
    Effect.scoped(fs.open(breakerPath, { flag: "wx", mode: 0o600 })).pipe(
      Effect.matchEffect({
        onFailure: (e) => (isReason(e, "AlreadyExists") ? clearDeadBreaker : Effect.succeed(false)),
        onSuccess: () =>
          Effect.gen(function* () {
            const current = yield* Effect.option(fs.stat(lockPath))
            if (Option.isNone(current)) return true
            const identity = identityOf(current.value)
            if (!sameFile(identity, observed) || !(yield* olderThan(identity, staleAfterMs))) return false
            return yield* fs.remove(lockPath).pipe(
              Effect.as(true),
              Effect.orElseSucceed(() => false)
            )
          }).pipe(Effect.ensuring(fs.remove(breakerPath).pipe(Effect.ignore)))
      })
    )

  const create = Effect.try({ try: () => createLockSync(lockPath), catch: systemError("open", lockPath) })

  /** One attempt, plus immediate retries after breaking a stale lock. */
  const attempt = (
    held: Ref.Ref<Option.Option<Identity>>,
    lastStaleCheck: Ref.Ref<number>,
    breaks: number
  ): Effect.Effect<void, LockBusy | AppendFailed> =>
    Effect.uninterruptible(Effect.flatMap(create, (mine) => Ref.set(held, Option.some(mine)))).pipe(
      Effect.catchAll((e) =>
        Effect.gen(function* () {
          if (breaks === 0 && isReason(e, "AlreadyExists")) {
            const now = yield* Clock.currentTimeMillis
            if (now - (yield* Ref.get(lastStaleCheck)) < STALE_CHECK_INTERVAL_MS) return yield* Effect.fail(BUSY)
            yield* Ref.set(lastStaleCheck, now)
          }
          // Contention: EEXIST, or any open error while the lock can be stat-ed (or its stat is denied).
          const info = yield* Effect.either(fs.stat(lockPath))
          if (info._tag === "Left") {
            if (isReason(e, "AlreadyExists") || isReason(info.left, "PermissionDenied")) return yield* Effect.fail(BUSY)
            return yield* new AppendFailed({ path: lockPath, stage: "lock", detail: describePlatformError(e) })
          }
          const identity = identityOf(info.right)
          if (breaks < MAX_IMMEDIATE_RETRIES && (yield* olderThan(identity, staleAfterMs)) && (yield* breakStale(identity)))
            return yield* attempt(held, lastStaleCheck, breaks + 1)
          return yield* Effect.fail(BUSY)
        })
      )
    )

  const acquire = (held: Ref.Ref<Option.Option<Identity>>) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const lastStaleCheck = yield* Ref.make(Number.NEGATIVE_INFINITY)
      return yield* attempt(held, lastStaleCheck, 0).pipe(
        Effect.retry({
          schedule: Schedule.spaced(settings.retry).pipe(Schedule.upTo(settings.timeout)),
          while: (e) => e._tag === "LockBusy"
        }),
        Effect.catchTag("LockBusy", () =>
          Effect.flatMap(
            Clock.currentTimeMillis,
            (now) => new AppendLockTimeout({ lock_path: lockPath, waited_ms: now - started, timeout_ms: timeoutMs })
          )
        )
      )
    })

  const release = (mine: Identity) => Effect.sync(() => releaseAppendLockSync(lockPath, mine))

  return Effect.flatMap(Ref.make(Option.none<Identity>()), (held) =>
    Effect.zipRight(acquire(held), use).pipe(
      Effect.ensuring(Effect.flatMap(Ref.get(held), Option.match({ onNone: () => Effect.void, onSome: release })))
    )
  )
}

/**
 * Fibers of one process that append to the same file queue here, in memory, instead of all spinning
 * on the lock file (whose failed attempts would also crowd the holder's write out of libuv's pool).
 * A queue is dropped when nobody uses it, so an exporter writing many files keeps no garbage.
 */
const queues = new Map<string, { readonly semaphore: Effect.Semaphore; users: number }>()
const serialized = <A, E, R>(absolutePath: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const queue = queues.get(absolutePath) ?? { semaphore: Effect.unsafeMakeSemaphore(1), users: 0 }
      queue.users++
      queues.set(absolutePath, queue)
      return queue
    }),
    (queue) => queue.semaphore.withPermits(1)(effect),
    (queue) =>
      Effect.sync(() => {
        queue.users--
        if (queue.users === 0) queues.delete(absolutePath)
      })
  )

/**
 * Appends `line` plus `\n` to `path` as one record, safe against concurrent writers in this and
 * other processes. The parent directory is created (0750) unless it is `.`; the line must not
 * contain a newline itself.
 */
export const appendLineLocked = Effect.fn("kernel.appendLineLocked")(function* (
  path: string,
  line: string,
  options: AppendOptions = {}
) {
  const fs = yield* FileSystem.FileSystem
  const target = NodePath.normalize(path)
  const fail = (stage: AppendFailed["stage"]) => (e: PlatformError | string) =>
    new AppendFailed({ path: target, stage, detail: typeof e === "string" ? e : describePlatformError(e) })
  if (!isLocalOrAbsolute(path)) return yield* fail("validate")("path must be local relative or absolute")
  if (line.includes("\n")) return yield* fail("validate")("line must not contain a newline")
  const dir = NodePath.dirname(target)
  if (dir !== ".") yield* fs.makeDirectory(dir, { recursive: true, mode: 0o750 }).pipe(Effect.mapError(fail("mkdir")))
  const payload = encoder.encode(`${line}\n`)
  const settings: AppendLockSettings = { ...APPEND_LOCK_DEFAULTS, ...options.lock }
  const created = yield* serialized(
    NodePath.resolve(target),
    withAppendLock(
      fs,
      target,
      settings,
      // A started record is finished: an interrupt waits for the write and fsync (milliseconds).
      Effect.uninterruptible(
        Effect.try({
          try: () => writeRecordSync(target, payload, options.mode ?? 0o600, fail),
          catch: (e) => (e instanceof AppendFailed ? e : fail("write")(systemError("write", target)(e)))
        })
      )
    )
  )
  // Only a new directory entry needs the directory's fsync; later records are covered by the file's.
  if (created) yield* syncDirectory(dir)
})
