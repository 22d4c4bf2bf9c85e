// Concurrent atomic writes into one directory share directory fsyncs ("group commit"), and every
// writer still returns only after a directory fsync that started after its own rename.
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Ref } from "effect"
import { mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { syncDirectory, writeFileAtomic } from "../../src/kernel/files.js"

type Event =
  | { readonly kind: "published"; readonly file: string }
  | { readonly kind: "dir_sync_start" | "dir_sync_end"; readonly round: number }
  | { readonly kind: "returned"; readonly file: string }

/** Node's file system, logging renames and (slowed-down) directory fsyncs. */
const loggingFs = (log: Ref.Ref<Array<Event>>, dir: string) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const rounds = yield* Ref.make(0)
      const push = (e: Event) => Ref.update(log, (events) => [...events, e])
      return {
        ...fs,
        rename: (from: string, to: string) => Effect.tap(fs.rename(from, to), () => push({ kind: "published", file: path.basename(to) })),
        open: (p: string, options?: FileSystem.OpenFileOptions) =>
          Effect.map(fs.open(p, options), (file) => {
            if (p !== dir) return file
            const slowSync = Effect.gen(function* () {
              const round = yield* Ref.updateAndGet(rounds, (n) => n + 1)
              yield* push({ kind: "dir_sync_start", round })
              yield* Effect.sleep("30 millis")
              yield* file.sync
              yield* push({ kind: "dir_sync_end", round })
            })
            return Object.create(file, { sync: { value: slowSync } }) as FileSystem.File
          })
      }
    })
  ).pipe(Layer.provide(NodeFileSystem.layer))

describe("directory fsync group commit", () => {
  it.live("24 concurrent writers share a few directory fsyncs, each started after the writer's rename", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(path.join(tmpdir(), "gait-dirsync-"))
      const log = yield* Ref.make<Array<Event>>([])
      const names = Array.from({ length: 24 }, (_, i) => `trace_${i}.json`)
      yield* Effect.forEach(
        names,
        (name) =>
          Effect.tap(writeFileAtomic(path.join(dir, name), `{"n":"${name}"}\n`), () =>
            Ref.update(log, (events) => [...events, { kind: "returned", file: name } as const])
          ),
        { concurrency: "unbounded", discard: true }
      ).pipe(Effect.provide(loggingFs(log, dir)))

      const events = yield* Ref.get(log)
      const syncs = events.filter((e) => e.kind === "dir_sync_start").length
      expect(syncs).toBeGreaterThanOrEqual(1)
      expect(syncs).toBeLessThan(names.length / 2)
      for (const name of names) {
        const published = events.findIndex((e) => e.kind === "published" && e.file === name)
        const returned = events.findIndex((e) => e.kind === "returned" && e.file === name)
        expect(published).toBeGreaterThanOrEqual(0)
        // Some fsync round started after this rename and finished before this writer returned.
        const covered = events.some((e, i) => {
          if (e.kind !== "dir_sync_start" || i < published) return false
          const end = events.findIndex((x) => x.kind === "dir_sync_end" && x.round === e.round)
          return end >= 0 && end < returned
        })
        expect(covered, name).toBe(true)
      }
      expect(readdirSync(dir).sort()).toEqual([...names].sort())
    })
  )

  it.live("a single writer still gets its own directory fsync", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(path.join(tmpdir(), "gait-dirsync-"))
      const log = yield* Ref.make<Array<Event>>([])
      yield* writeFileAtomic(path.join(dir, "one.json"), "{}\n").pipe(Effect.provide(loggingFs(log, dir)))
      const kinds = (yield* Ref.get(log)).map((e) => e.kind)
      expect(kinds).toEqual(["published", "dir_sync_start", "dir_sync_end"])
    })
  )

  it.live("a caller interrupted while joining (a client hanging up) never leaves the directory without fsyncs", () =>
    Effect.gen(function* () {
      // Effect checks for interruption at its cooperative yield, every 2,048 operations: the victims do
      // n/2 steps first, so some of them reach syncDirectory exactly at that point.
      const hung: Array<number> = []
      for (let n = 3900; n < 4300; n++) {
        const dir = mkdtempSync(path.join(tmpdir(), "gait-dirsync-"))
        const victim = yield* Effect.fork(
          Effect.gen(function* () {
            for (let j = 0; j < n >> 1; j++) yield* Effect.sync(() => j)
            if (n & 1) yield* Effect.asVoid(Effect.map(Effect.sync(() => 1), (x) => x + 1))
            yield* syncDirectory(dir)
          })
        )
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(victim)
        const later = yield* syncDirectory(dir).pipe(Effect.timeout("1 second"), Effect.option)
        if (Option.isNone(later)) hung.push(n)
      }
      expect(hung).toEqual([])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})
