// Gate.loadPolicy reuses a policy while its file is unchanged (one stat per call instead of a read),
// and never serves a stale policy: an edit — also one that keeps the size, and also one made within
// moments of the last read — is seen by the next call.
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Ref } from "effect"
import { mkdtempSync, renameSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Gate, GateLive } from "../../src/index.js"

/** The Node file system, counting whole-file reads. */
const countingFs = (reads: Ref.Ref<number>) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (fs) => ({
      ...fs,
      readFile: (p: string) => Effect.zipRight(Ref.update(reads, (n) => n + 1), fs.readFile(p))
    }))
  ).pipe(Layer.provide(NodeFileSystem.layer))

const policyText = (verdict: "allow" | "block") => `default_verdict: ${verdict}\n`
const TEN_SECONDS_AGO = () => new Date(Date.now() - 10_000)

const withGate = <A, E>(program: (reads: Ref.Ref<number>) => Effect.Effect<A, E, Gate>) =>
  Effect.flatMap(Ref.make(0), (reads) => program(reads).pipe(Effect.provide(GateLive.pipe(Layer.provide(countingFs(reads))))))

describe("Gate.loadPolicy file snapshot", () => {
  it.live("an unchanged, settled policy file is read once and then only stat'ed", () =>
    withGate((reads) =>
      Effect.gen(function* () {
        const file = path.join(mkdtempSync(path.join(tmpdir(), "gait-snap-")), "policy.yaml")
        writeFileSync(file, policyText("block"))
        utimesSync(file, TEN_SECONDS_AGO(), TEN_SECONDS_AGO())
        const gate = yield* Gate
        const first = yield* gate.loadPolicy(file)
        for (let i = 0; i < 5; i++) expect((yield* gate.loadPolicy(file)).digest).toBe(first.digest)
        expect(yield* Ref.get(reads)).toBe(1)
      })
    )
  )

  it.live("an edit of the same size is seen at once (new mtime), and a replaced file too (new inode)", () =>
    withGate((reads) =>
      Effect.gen(function* () {
        const dir = mkdtempSync(path.join(tmpdir(), "gait-snap-"))
        const file = path.join(dir, "policy.yaml")
        writeFileSync(file, policyText("allow"))
        utimesSync(file, TEN_SECONDS_AGO(), TEN_SECONDS_AGO())
        const gate = yield* Gate
        const allow = yield* gate.loadPolicy(file)
        expect(allow.policy.defaultVerdict).toBe("allow")

        writeFileSync(file, policyText("block")) // same length, written in place
        expect((yield* gate.loadPolicy(file)).policy.defaultVerdict).toBe("block")

        const replacement = path.join(dir, "next.yaml")
        writeFileSync(replacement, policyText("allow"))
        utimesSync(replacement, TEN_SECONDS_AGO(), TEN_SECONDS_AGO())
        renameSync(replacement, file)
        expect((yield* gate.loadPolicy(file)).policy.defaultVerdict).toBe("allow")
        expect(yield* Ref.get(reads)).toBe(3)
      })
    )
  )

  it.live("a file modified moments before it was read is read again every time until it settles", () =>
    withGate((reads) =>
      Effect.gen(function* () {
        const file = path.join(mkdtempSync(path.join(tmpdir(), "gait-snap-")), "policy.yaml")
        writeFileSync(file, policyText("allow"))
        const gate = yield* Gate
        for (let i = 0; i < 3; i++) yield* gate.loadPolicy(file)
        expect(yield* Ref.get(reads)).toBe(3)
        // Same size, same mtime as before (as a write within the same timestamp tick would leave it):
        // still seen, because the earlier reads happened too soon after the file's mtime to be trusted.
        const { mtime } = yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.stat(file)).pipe(Effect.provide(NodeFileSystem.layer))
        writeFileSync(file, policyText("block"))
        const at = mtime._tag === "Some" ? mtime.value : new Date()
        utimesSync(file, at, at)
        expect((yield* gate.loadPolicy(file)).policy.defaultVerdict).toBe("block")
      })
    )
  )

  it.live("a missing file is still the typed not-found error, also after it was cached", () =>
    withGate(() =>
      Effect.gen(function* () {
        const file = path.join(mkdtempSync(path.join(tmpdir(), "gait-snap-")), "policy.yaml")
        writeFileSync(file, policyText("block"))
        utimesSync(file, TEN_SECONDS_AGO(), TEN_SECONDS_AGO())
        const gate = yield* Gate
        yield* gate.loadPolicy(file)
        renameSync(file, `${file}.gone`)
        const error = yield* Effect.flip(gate.loadPolicy(file))
        expect(error._tag).toBe("InputUnreadable")
      })
    )
  )
})
