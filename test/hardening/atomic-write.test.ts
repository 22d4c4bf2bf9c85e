/**
 * Acceptance gate 2, atomic-write integrity under simulated failure (ops.md §6.1, ADR 0002 of the
 * reference). Failures are injected through the `FileSystem` layer (./fault-fs.ts) into the real
 * Node filesystem: a failing fsync, a failing rename, a short write that leaves a really partial
 * temp file. Whatever fails, the destination holds either its old or its new bytes, never a mix, and
 * no temp file is left behind. The same holds through real consumers: the session state index
 * (`<journal>.state.json`) and a signed trace written to a chosen path.
 */
import * as nodeFs from "node:fs"
import * as fsp from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, FastCheck, Fiber, Layer, Ref } from "effect"
import * as Gate from "../../src/gate/gate.js"
import * as Traces from "../../src/gate/traces.js"
import { ArtifactWriteFailed } from "../../src/kernel/errors.js"
import { writeFileAtomic } from "../../src/kernel/files.js"
import { verifySignedDocument } from "../../src/kernel/signing.js"
import * as Keys from "../../src/keys/keys.js"
import * as SessionLock from "../../src/session/lock.js"
import { statePathOf } from "../../src/session/state.js"
import * as SessionStore from "../../src/session/store.js"
import { verifySessionChain } from "../../src/session/verify.js"
import { EXAMPLES } from "../helpers/cli.js"
import { type Call, type FaultKind, Faults, layer as faultyFs } from "./fault-fs.js"

const dirs: Array<string> = []
const tempDir = (): string => {
  const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "gait-acc-atomic-"))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) nodeFs.rmSync(dir, { recursive: true, force: true })
})

const tempFilesIn = (dir: string): Array<string> => nodeFs.readdirSync(dir).filter((name) => name.includes(".tmp-"))

const STAGE_OF: Readonly<Record<FaultKind, string>> = { sync: "sync", rename: "rename", short_write: "write" }

const expectFailedAt = (exit: Either.Either<unknown, unknown>, stage: string): ArtifactWriteFailed => {
  if (Either.isRight(exit)) throw new Error(`expected ArtifactWriteFailed at ${stage}, got success`)
  expect(exit.left).toBeInstanceOf(ArtifactWriteFailed)
  const error = exit.left as ArtifactWriteFailed
  expect(error.stage).toBe(stage)
  return error
}

/** Deterministic content of a given length (text, so a mix of two versions is easy to spot). */
const contentOf = (label: string, length: number): string => {
  const unit = `${label}:0123456789abcdef\n`
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length)
}

describe("writeFileAtomic under injected failures", () => {
  it.effect("generated cases: old or new content, never partial; the fault's stage is reported; no temp file remains", () =>
    Effect.gen(function* () {
      const faults = yield* Faults
      const cases = FastCheck.sample(
        FastCheck.record({
          old: FastCheck.option(FastCheck.integer({ min: 0, max: 200_000 }), { nil: undefined }),
          next: FastCheck.integer({ min: 0, max: 200_000 }),
          fault: FastCheck.constantFrom<FaultKind | "none">("none", "sync", "rename", "short_write")
        }),
        { numRuns: 60, seed: 20261127 }
      )
      for (const [i, c] of cases.entries()) {
        const dir = tempDir()
        const target = path.join(dir, "artifact.json")
        const oldText = c.old === undefined ? undefined : contentOf("old", c.old)
        if (oldText !== undefined) nodeFs.writeFileSync(target, oldText)
        const newText = contentOf("new", c.next)
        yield* faults.set(c.fault === "none" ? undefined : { kind: c.fault, match: "artifact.json", times: 1 })
        const result = yield* Effect.either(writeFileAtomic(target, newText))
        const label = `case ${i}: ${JSON.stringify(c)}`
        if (c.fault === "none") {
          expect(Either.isRight(result), label).toBe(true)
          expect(nodeFs.readFileSync(target, "utf8") === newText, `${label}: new content`).toBe(true)
        } else if (c.fault === "short_write" && c.next === 0) {
          // nothing to write, so no write call to fail: the write succeeds
          expect(Either.isRight(result), label).toBe(true)
        } else {
          expectFailedAt(result, STAGE_OF[c.fault])
          if (oldText === undefined) expect(nodeFs.existsSync(target), `${label}: no file appears`).toBe(false)
          else expect(nodeFs.readFileSync(target, "utf8") === oldText, `${label}: old content kept`).toBe(true)
        }
        expect(tempFilesIn(dir), `${label}: temp files`).toEqual([])
        yield* faults.set(undefined)
      }
    }).pipe(Effect.provide(faultyFs))
  )

  it.effect("a short write really leaves a partial temp file behind the scenes, which is removed, never renamed", () =>
    Effect.gen(function* () {
      const faults = yield* Faults
      const dir = tempDir()
      const target = path.join(dir, "state.json")
      nodeFs.writeFileSync(target, "old state\n")
      yield* faults.set({ kind: "short_write", match: "state.json", times: 1 })
      expectFailedAt(yield* Effect.either(writeFileAtomic(target, contentOf("new", 100_000))), "write")
      const calls = yield* faults.calls
      const write = calls.find((c) => c.op === "write")
      expect(write?.failed).toBe(true)
      expect(calls.some((c) => c.op === "rename")).toBe(false)
      expect(calls.filter((c) => c.op === "remove").map((c) => c.path)).toEqual([write?.path])
      expect(nodeFs.readFileSync(target, "utf8")).toBe("old state\n")
      expect(nodeFs.readdirSync(dir)).toEqual(["state.json"])
    }).pipe(Effect.provide(faultyFs))
  )

  it.effect("durability order: temp file in the destination directory, written, fsynced, then renamed, then the directory fsynced", () =>
    Effect.gen(function* () {
      const faults = yield* Faults
      const dir = tempDir()
      const target = path.join(dir, "trace.json")
      yield* writeFileAtomic(target, "payload\n")
      const calls = yield* faults.calls
      const opened = calls.find((c) => c.op === "open")
      const temp = opened?.path ?? ""
      expect(path.dirname(temp)).toBe(dir)
      expect(path.basename(temp)).toMatch(/^\.trace\.json\.tmp-/)
      const on = (op: Call["op"], p: string) => calls.findIndex((c) => c.op === op && c.path === p)
      const rename = calls.findIndex((c) => c.op === "rename" && c.path === temp && c.to === target)
      expect(on("write", temp), "the temp file is written").toBeGreaterThan(on("open", temp))
      expect(on("sync", temp), "the temp file is fsynced after the write").toBeGreaterThan(on("write", temp))
      expect(rename, "the rename comes after the fsync of the temp file").toBeGreaterThan(on("sync", temp))
      expect(on("sync", dir), "the directory is fsynced after the rename").toBeGreaterThan(rename)
    }).pipe(Effect.provide(faultyFs))
  )

  it.live("a reader racing 40 replacing writes of 256 KiB only ever sees one complete version", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "index.json")
      const versions = ["a", "b", "c", "d"].map((l) => contentOf(l, 256 * 1024))
      nodeFs.writeFileSync(target, versions[0] as string)
      const done = yield* Ref.make(false)
      const seen = yield* Ref.make({ reads: 0, bad: [] as Array<number> })
      const reader = yield* Effect.fork(
        Effect.gen(function* () {
          while (!(yield* Ref.get(done))) {
            const text = yield* Effect.promise(() => fsp.readFile(target, "utf8"))
            const ok = versions.includes(text)
            yield* Ref.update(seen, (s) => ({ reads: s.reads + 1, bad: ok ? s.bad : [...s.bad, text.length] }))
          }
        })
      )
      for (let i = 0; i < 40; i++) yield* writeFileAtomic(target, versions[i % versions.length] as string)
      yield* Ref.set(done, true)
      yield* Fiber.join(reader)
      const result = yield* Ref.get(seen)
      expect(result.reads).toBeGreaterThan(0)
      expect(result.bad, "lengths of torn reads").toEqual([])
      expect(tempFilesIn(dir)).toEqual([])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

// --- real consumers ------------------------------------------------------------------------------

const sessionLayer = SessionStore.layerFile.pipe(Layer.provideMerge(SessionLock.layerFile), Layer.provideMerge(faultyFs))

const journalSequences = (journal: string): Array<number> =>
  nodeFs
    .readFileSync(journal, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { readonly record_type: string; readonly event?: { readonly sequence: number } })
    .filter((r) => r.record_type === "event")
    .map((r) => r.event?.sequence ?? -1)

describe("consumer: the session state index", () => {
  it.effect("a failing fsync, rename or short write of the index keeps the previous index; the next operation rebuilds it from the journal", () =>
    Effect.gen(function* () {
      const faults = yield* Faults
      const store = yield* SessionStore.SessionStore
      const dir = tempDir()
      const journal = path.join(dir, "s.journal.jsonl")
      const state = statePathOf(journal)
      yield* store.start(journal, { sessionId: "sess_acc", runId: "run_acc" })
      for (let i = 0; i < 2; i++) yield* store.append(journal, { toolName: "tool.write", verdict: "allow" })
      const before = nodeFs.readFileSync(state, "utf8")
      expect((JSON.parse(before) as { readonly last_sequence: number }).last_sequence).toBe(2)

      for (const kind of ["sync", "rename", "short_write"] as const) {
        yield* faults.set({ kind, match: "state.json", times: 1 })
        const result = yield* Effect.either(store.append(journal, { toolName: "tool.write", verdict: "allow" }))
        const error = expectFailedAt(result, STAGE_OF[kind])
        expect(error.path).toBe(state)
        expect(nodeFs.readFileSync(state, "utf8"), `${kind}: the index is the previous one, byte for byte`).toBe(before)
        expect(tempFilesIn(dir), kind).toEqual([])
        expect(nodeFs.existsSync(`${journal}.lock`), `${kind}: the lock is released`).toBe(false)
      }
      yield* faults.set(undefined)

      // The journal is the source of truth: an event whose index update failed may be in it (the
      // first failure above), and a stale index (its size no longer matches) is rebuilt, not trusted.
      const journaled = journalSequences(journal)
      const last = journaled.length
      expect(last).toBeGreaterThanOrEqual(2)
      expect(journaled).toEqual(Array.from({ length: last }, (_, i) => i + 1))
      const status = yield* store.status(journal)
      expect(status.last_sequence).toBe(last)
      expect(status.event_count).toBe(last)
      const next = yield* store.append(journal, { toolName: "tool.write", verdict: "allow" })
      expect(next.sequence).toBe(last + 1)
      expect(journalSequences(journal)).toEqual(Array.from({ length: last + 1 }, (_, i) => i + 1))
      const index = JSON.parse(nodeFs.readFileSync(state, "utf8")) as { readonly last_sequence: number; readonly journal_size_bytes: number }
      expect(index.last_sequence).toBe(last + 1)
      expect(index.journal_size_bytes).toBe(nodeFs.statSync(journal).size)
      expect(tempFilesIn(dir)).toEqual([])
    }).pipe(Effect.provide(sessionLayer))
  )

  it.effect("a failing write of the chain file keeps the previous chain, which still verifies; the next checkpoint heals it", () =>
    Effect.gen(function* () {
      const faults = yield* Faults
      const store = yield* SessionStore.SessionStore
      const dir = tempDir()
      const journal = path.join(dir, "c.journal.jsonl")
      yield* store.start(journal, { sessionId: "sess_chain", runId: "run_chain" })
      yield* store.append(journal, { toolName: "tool.write", verdict: "allow" })
      const first = yield* store.checkpoint(journal, { out: path.join(dir, "cp1.zip") })
      const chainBefore = nodeFs.readFileSync(first.chainPath, "utf8")
      yield* store.append(journal, { toolName: "tool.write", verdict: "block" })
      yield* faults.set({ kind: "rename", match: "_chain.json", times: 1 })
      expectFailedAt(yield* Effect.either(store.checkpoint(journal, { out: path.join(dir, "cp2.zip") })), "rename")
      expect(nodeFs.readFileSync(first.chainPath, "utf8")).toBe(chainBefore)
      expect(tempFilesIn(dir)).toEqual([])
      const kept = yield* verifySessionChain(first.chainPath, { requireSignature: false })
      expect(kept).toEqual({ session_id: "sess_chain", run_id: "run_chain", checkpoints_checked: 1 })
      // The checkpoint itself was committed to the journal before the chain file write failed (the
      // chain is derived from the journal after the lock is released); the next checkpoint rewrites
      // the chain from the journal, so it heals: three checkpoints, linked, all verifying.
      // (Known hazard, not covered here: retrying with the same --out overwrites checkpoint 2's runpack.)
      yield* faults.set(undefined)
      yield* store.append(journal, { toolName: "tool.write", verdict: "allow" })
      yield* store.checkpoint(journal, { out: path.join(dir, "cp3.zip") })
      const both = yield* verifySessionChain(first.chainPath, { requireSignature: false })
      expect(both.checkpoints_checked).toBe(3)
      expect(both.linkage_errors ?? []).toEqual([])
      expect(both.checkpoint_errors ?? []).toEqual([])
    }).pipe(Effect.provide(sessionLayer))
  )
})

const traceLayer = Layer.mergeAll(Gate.layer, Traces.layer.pipe(Layer.provide(Keys.layerDev))).pipe(Layer.provideMerge(faultyFs))

describe("consumer: a signed trace", () => {
  it.effect("replacing a trace at a chosen path: a failing fsync or rename keeps the old signed trace intact and verifiable", () =>
    Effect.gen(function* () {
      const faults = yield* Faults
      const gate = yield* Gate.Gate
      const traces = yield* Traces.Traces
      const dir = tempDir()
      const target = path.join(dir, "decision.trace.json")
      const policy = yield* gate.loadPolicy(path.join(EXAMPLES, "policy.yaml"))
      const intent = yield* gate.loadIntent(path.join(EXAMPLES, "intents", "delete_prod.json"))
      const decision = yield* gate.decide({ policy, intent, simulate: false, now: 0n })
      const emit = traces.emit({ decision, intent, destination: { _tag: "Path", path: target } })
      const first = yield* emit
      const before = nodeFs.readFileSync(target, "utf8")
      for (const kind of ["sync", "rename", "short_write"] as const) {
        yield* faults.set({ kind, match: "decision.trace.json", times: 1 })
        const exit = yield* Effect.exit(emit)
        expect(Exit.isFailure(exit), kind).toBe(true)
        expect(nodeFs.readFileSync(target, "utf8"), `${kind}: the old trace, byte for byte`).toBe(before)
        expect(tempFilesIn(dir), kind).toEqual([])
      }
      yield* faults.set(undefined)
      const onDisk = JSON.parse(before) as Record<string, unknown>
      expect(onDisk.event_id).toBe(first.record.event_id)
      expect(first.record.signature?.key_id).toBeDefined()
      // the record on disk is a whole, signed document
      expect(typeof (onDisk.signature as { readonly sig?: unknown } | undefined)?.sig).toBe("string")
      const second = yield* emit
      expect(JSON.parse(nodeFs.readFileSync(target, "utf8")).event_id).toBe(second.record.event_id)
      expect(second.record.event_id).not.toBe(first.record.event_id)
    }).pipe(Effect.provide(traceLayer))
  )

  it.effect("the trace on disk verifies against the key that signed it", () =>
    Effect.gen(function* () {
      const gate = yield* Gate.Gate
      const traces = yield* Traces.Traces
      const keys = yield* Keys.Keys
      const dir = tempDir()
      const policy = yield* gate.loadPolicy(path.join(EXAMPLES, "policy.yaml"))
      const intent = yield* gate.loadIntent(path.join(EXAMPLES, "intents", "delete_prod.json"))
      const decision = yield* gate.decide({ policy, intent, simulate: false, now: 0n })
      const faults = yield* Faults
      yield* faults.set({ kind: "sync", match: "trace_", times: 1 })
      // directory destinations are created with a no-clobber link: a failed fsync leaves nothing at all
      const failed = yield* Effect.either(traces.emit({ decision, intent, destination: { _tag: "Directory", dir } }))
      expectFailedAt(failed, "sync")
      expect(nodeFs.readdirSync(dir)).toEqual([])
      const emitted = yield* traces.emit({ decision, intent, destination: { _tag: "Directory", dir } })
      const onDisk = JSON.parse(nodeFs.readFileSync(emitted.path, "utf8")) as Record<string, unknown>
      expect(verifySignedDocument(onDisk, keys.publicKey)._tag).toBe("Right")
      expect(nodeFs.readdirSync(dir)).toEqual([path.basename(emitted.path)])
    }).pipe(Effect.provide(Layer.mergeAll(Gate.layer, Traces.layer).pipe(Layer.provideMerge(Layer.merge(faultyFs, Keys.layerDev)))))
  )
})
