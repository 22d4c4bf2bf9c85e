/**
 * A `FileSystem` layer for failure injection: the real Node filesystem, with faults switched on and
 * off on demand through the `Faults` service while a program runs. Every call that matters for an
 * atomic write (open, write, sync, chmod, rename, link, remove) is recorded in order.
 *
 * Faults:
 * - `sync`: `File.sync` fails (the fsync of the temp file).
 * - `rename`: `FileSystem.rename` fails.
 * - `short_write`: `File.writeAll` writes the first half of the bytes for real, then fails as a full
 *   disk would (the temp file really is partial when the error is raised).
 * A fault applies to paths whose base name contains `match` (so `state.json` also hits the temp file
 * `.x.state.json.tmp-…`), and to the next `times` matching calls.
 */
import * as path from "node:path"
import { SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Context, Effect, Layer, Ref } from "effect"

export type FaultKind = "sync" | "rename" | "short_write"

export interface Fault {
  readonly kind: FaultKind
  readonly match: string
  readonly times: number
}

export interface Call {
  readonly op: "open" | "write" | "sync" | "chmod" | "rename" | "link" | "remove"
  readonly path: string
  readonly to?: string
  readonly failed: boolean
}

export interface FaultsApi {
  readonly set: (fault: Fault | undefined) => Effect.Effect<void>
  readonly calls: Effect.Effect<ReadonlyArray<Call>>
  readonly clearCalls: Effect.Effect<void>
}

export class Faults extends Context.Tag("gait-test/Faults")<Faults, FaultsApi>() {}

const injected = (method: string, description: string): SystemError =>
  new SystemError({ reason: method === "writeAll" ? "WriteZero" : "Unknown", module: "FileSystem", method, description })

interface State {
  readonly fault: Fault | undefined
  readonly calls: ReadonlyArray<Call>
}

const make = Effect.gen(function* () {
  const real = yield* FileSystem.FileSystem
  const state = yield* Ref.make<State>({ fault: undefined, calls: [] })

  const record = (call: Call) => Ref.update(state, (s) => ({ ...s, calls: [...s.calls, call] }))

  /** Whether the current fault of `kind` hits `p`; consumes one of its `times` when it does. */
  const hits = (kind: FaultKind, p: string) =>
    Ref.modify(state, (s): [boolean, State] => {
      const f = s.fault
      if (f === undefined || f.kind !== kind || f.times <= 0 || !path.basename(p).includes(f.match)) return [false, s]
      return [true, { ...s, fault: f.times === 1 ? undefined : { ...f, times: f.times - 1 } }]
    })

  const wrapFile = (file: FileSystem.File, p: string): FileSystem.File =>
    new Proxy(file, {
      get(target, property) {
        if (property === "sync") {
          return Effect.flatMap(hits("sync", p), (fail) =>
            Effect.zipRight(
              record({ op: "sync", path: p, failed: fail }),
              fail ? Effect.fail(injected("sync", "injected fsync failure (EIO)")) : target.sync
            )
          )
        }
        if (property === "writeAll") {
          return (bytes: Uint8Array) =>
            Effect.flatMap(hits("short_write", p), (fail) =>
              Effect.zipRight(
                record({ op: "write", path: p, failed: fail }),
                fail
                  ? Effect.zipRight(
                      target.write(bytes.subarray(0, Math.floor(bytes.length / 2))),
                      Effect.fail(injected("writeAll", "injected short write: no space left on device (ENOSPC)"))
                    )
                  : target.writeAll(bytes)
              )
            )
        }
        const value: unknown = Reflect.get(target, property, target)
        return typeof value === "function" ? value.bind(target) : value
      }
    })

  const fs = FileSystem.FileSystem.of({
    ...real,
    open: (p, options) =>
      Effect.zipRight(
        record({ op: "open", path: p, failed: false }),
        Effect.map(real.open(p, options), (file) => wrapFile(file, p))
      ),
    chmod: (p, mode) => Effect.zipRight(record({ op: "chmod", path: p, failed: false }), real.chmod(p, mode)),
    rename: (from, to) =>
      Effect.flatMap(hits("rename", to), (fail) =>
        Effect.zipRight(
          record({ op: "rename", path: from, to, failed: fail }),
          fail ? Effect.fail(injected("rename", "injected rename failure (EIO)")) : real.rename(from, to)
        )
      ),
    link: (from, to) => Effect.zipRight(record({ op: "link", path: from, to, failed: false }), real.link(from, to)),
    remove: (p, options) => Effect.zipRight(record({ op: "remove", path: p, failed: false }), real.remove(p, options))
  })

  const faults: FaultsApi = {
    set: (fault) => Ref.update(state, (s) => ({ ...s, fault })),
    calls: Effect.map(Ref.get(state), (s) => s.calls),
    clearCalls: Ref.update(state, (s) => ({ ...s, calls: [] }))
  }
  return Context.make(FileSystem.FileSystem, fs).pipe(Context.add(Faults, faults))
})

/** `FileSystem` (faulty) and `Faults` (its switch), over the real Node filesystem. */
export const layer: Layer.Layer<FileSystem.FileSystem | Faults> = Layer.effectContext(make).pipe(Layer.provide(NodeFileSystem.layer))
