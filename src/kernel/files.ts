/**
 * File primitives over the platform `FileSystem` service (so tests can inject failures):
 * bounded reads with typed reasons, and atomic writes that leave either the old or the new content,
 * never a partial file.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import type { PlatformError } from "@effect/platform/Error"
import { Deferred, Effect, FiberId, Random } from "effect"
import * as NodePath from "node:path"
import { ArtifactWriteFailed, InputUnreadable } from "./errors.js"

/** `NotFound: ENOENT: no such file or directory, open '…'`: the reason plus the system's own text. */
export const describePlatformError = (e: PlatformError): string =>
  e._tag === "SystemError" ? `${e.reason}${e.description === undefined ? "" : `: ${e.description}`}` : e.message

/** Reads a whole file as UTF-8, refusing directories and files above `limitBytes`. */
export const readBoundedText = Effect.fn("kernel.readBoundedText")(function* (
  kind: string,
  path: string,
  limitBytes: number
) {
  const fs = yield* FileSystem.FileSystem
  const unreadable = (reason: InputUnreadable["reason"], detail: string) =>
    new InputUnreadable({ kind, path, reason, detail: `${path}: ${detail}` })
  const info = yield* fs.stat(path).pipe(
    Effect.mapError((e) =>
      e._tag === "SystemError" && e.reason === "NotFound"
        ? unreadable("not_found", "no such file or directory")
        : e._tag === "SystemError" && e.reason === "PermissionDenied"
          ? unreadable("permission_denied", "permission denied")
          : unreadable("io_error", describePlatformError(e))
    )
  )
  if (info.type === "Directory") return yield* unreadable("is_directory", "is a directory")
  if (Number(info.size) > limitBytes) {
    return yield* new InputUnreadable({
      kind,
      path,
      reason: "too_large",
      detail: `${path}: file is ${info.size} bytes, larger than the ${limitBytes}-byte limit`,
      limit_bytes: limitBytes
    })
  }
  const bytes = yield* fs.readFile(path).pipe(
    Effect.mapError((e) =>
      e._tag === "SystemError" && e.reason === "PermissionDenied"
        ? unreadable("permission_denied", "permission denied")
        : unreadable("io_error", describePlatformError(e))
    )
  )
  if (bytes.length > limitBytes)
    return yield* new InputUnreadable({ kind, path, reason: "too_large", detail: `${path}: file grew above the ${limitBytes}-byte limit while reading`, limit_bytes: limitBytes })
  return new TextDecoder("utf-8").decode(bytes)
})

/** Lexical check of §6.1: a destination must be absolute, or relative without escaping upwards. */
export const isLocalOrAbsolute = (path: string): boolean => {
  if (path.trim() === "") return false
  if (NodePath.isAbsolute(path)) return true
  const cleaned = NodePath.normalize(path)
  return cleaned !== ".." && !cleaned.startsWith(`..${NodePath.sep}`)
}

const randomSuffix = Effect.map(Random.nextIntBetween(0, 0x7fffffff), (n) => n.toString(16).padStart(8, "0"))

export interface AtomicWriteOptions {
  /** Final permission bits, applied explicitly so the umask does not weaken or widen them. Default 0o600. */
  readonly mode?: number
  /**
   * `replace` (default): rename over an existing file. `create`: never overwrite; the result is
   * `"exists"` when the destination is already there (linked, not renamed, so the check is atomic).
   */
  readonly ifExists?: "replace" | "create"
}

/**
 * Atomic write (ADR 0002 of the reference): temp file `.<base>.tmp-<random>` in the destination
 * directory, write, fsync, chmod, then rename (or link for `create`), then best-effort fsync of the
 * directory. On any failure the temp file is removed and the destination is untouched.
 */
export const writeFileAtomic = Effect.fn("kernel.writeFileAtomic")(function* (
  path: string,
  content: Uint8Array | string,
  options: AtomicWriteOptions = {}
) {
  const fs = yield* FileSystem.FileSystem
  const mode = options.mode ?? 0o600
  const fail = (stage: string) => (e: PlatformError | string) =>
    new ArtifactWriteFailed({ path, stage, detail: typeof e === "string" ? e : describePlatformError(e) })
  if (!isLocalOrAbsolute(path)) return yield* fail("validate")("path must be local relative or absolute")
  const dir = NodePath.dirname(path)
  const temp = NodePath.join(dir, `.${NodePath.basename(path)}.tmp-${yield* randomSuffix}`)
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content

  const writeTemp = Effect.scoped(
    Effect.gen(function* () {
      const file = yield* fs.open(temp, { flag: "wx", mode: 0o600 }).pipe(Effect.mapError(fail("create_temp")))
      if (bytes.length > 0) yield* file.writeAll(bytes).pipe(Effect.mapError(fail("write")))
      yield* file.sync.pipe(Effect.mapError(fail("sync")))
    })
  )
  const publish = Effect.gen(function* () {
    yield* fs.chmod(temp, mode).pipe(Effect.mapError(fail("chmod")))
    if (options.ifExists === "create") {
      const linked = yield* fs.link(temp, path).pipe(
        Effect.as("written" as const),
        Effect.catchIf(
          (e) => e._tag === "SystemError" && e.reason === "AlreadyExists",
          () => Effect.succeed("exists" as const)
        ),
        Effect.mapError(fail("link"))
      )
      yield* fs.remove(temp).pipe(Effect.ignore)
      return linked
    }
    yield* fs.rename(temp, path).pipe(Effect.mapError(fail("rename")))
    return "written" as const
  })
  const outcome = yield* Effect.zipRight(writeTemp, publish).pipe(
    Effect.onError(() => fs.remove(temp).pipe(Effect.ignore))
  )
  yield* syncDirectory(dir)
  return outcome
})

const fsyncDirectory = (fs: FileSystem.FileSystem, dir: string) =>
  Effect.scoped(Effect.flatMap(fs.open(dir, { flag: "r" }), (handle) => handle.sync)).pipe(Effect.catchAllCause(() => Effect.void))

/** Callers waiting for the next fsync of a directory, and whether one is running now. */
interface DirectorySyncGroup {
  running: boolean
  waiting: Array<Deferred.Deferred<void>>
}

// Process-wide, like the directories themselves: writers from any fiber share one fsync.
const directorySyncGroups = new Map<string, DirectorySyncGroup>()

/**
 * Best-effort fsync of a directory so a rename (or link) survives power loss; errors are ignored.
 * Concurrent callers share fsyncs ("group commit"): a caller needs an fsync that starts after its
 * rename, so while one runs, everyone who arrives waits for the next, and that one covers them all.
 * A server writing one trace per request then pays far fewer directory fsyncs than requests.
 */
export const syncDirectory = (dir: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    Effect.suspend(() => {
      const key = NodePath.resolve(dir)
      const group = directorySyncGroups.get(key) ?? { running: false, waiting: [] }
      directorySyncGroups.set(key, group)
      const mine = Deferred.unsafeMake<void>(FiberId.none)
      group.waiting.push(mine)
      const rounds: Effect.Effect<void> = Effect.suspend(() => {
        const batch = group.waiting
        if (batch.length === 0) {
          group.running = false
          directorySyncGroups.delete(key)
          return Effect.void
        }
        group.waiting = []
        return fsyncDirectory(fs, dir).pipe(
          Effect.zipRight(Effect.forEach(batch, (d) => Deferred.succeed(d, undefined), { discard: true })),
          Effect.zipRight(rounds)
        )
      })
      const starts = !group.running
      group.running = true
      // Marking the group running and forking its loop must not be split by an interrupt (a client
      // that hangs up): a group marked running without a loop would never sync again.
      return Effect.as(starts ? Effect.forkDaemon(rounds) : Effect.void, mine)
    }).pipe(Effect.uninterruptible, Effect.flatMap(Deferred.await))
  )

/** Creates a directory and its parents with 0750, as the reference does for artifact parents. */
export const ensureDirectory = (dir: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeDirectory(dir, { recursive: true, mode: 0o750 })).pipe(
    Effect.mapError((e) => new ArtifactWriteFailed({ path: dir, stage: "mkdir", detail: describePlatformError(e) }))
  )
