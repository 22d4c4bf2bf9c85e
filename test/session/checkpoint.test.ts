/**
 * Checkpoints, the chain file and compaction over real files (spec session.md §1.4–1.5, §2.4,
 * §2.6, §2.8, §5). gait continues the sequence after a compaction that pruned every event (the
 * reference restarts at 1 and corrupts the journal).
 */
import * as nodeFs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { ArtifactWriteFailed } from "../../src/kernel/errors.js"
import { checkpointDigestOf } from "../../src/session/chain-digest.js"
import { SessionNoNewEvents } from "../../src/session/errors.js"
import { readJournal } from "../../src/session/journal.js"
import { verifyRunpack } from "../../src/session/runpack.js"
import type { SessionChain } from "../../src/session/schema.js"
import { chainPathOf, SessionStore } from "../../src/session/store.js"
import { verifySessionChain } from "../../src/session/verify.js"
import { VERSION } from "../../src/version.js"
import {
  appendInput,
  eventSequences,
  failureOf,
  journalLines,
  readStateFile,
  removeTempDirs,
  runWith,
  SESSION,
  tempDir,
  tempFilesIn
} from "./fixtures/session-env.js"

afterEach(removeTempDirs)

const modeOf = (p: string): number => nodeFs.statSync(p).mode & 0o777
const readChainFile = (p: string): SessionChain => JSON.parse(nodeFs.readFileSync(p, "utf8")) as SessionChain

/** A started journal `<dir>/demo.journal.jsonl` with `n` events. */
const session = (n: number) =>
  Effect.gen(function* () {
    const store = yield* SessionStore
    const dir = tempDir()
    const journal = path.join(dir, "demo.journal.jsonl")
    yield* store.start(journal, SESSION)
    for (let i = 1; i <= n; i++) yield* store.append(journal, appendInput(`tool.${i}`))
    return { store, dir, journal }
  })

describe("chainPathOf (§1.4)", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["sessions/demo.journal.jsonl", "sessions/demo.journal_chain.json"],
    ["/abs/run.jsonl", "/abs/run_chain.json"],
    ["journal", "journal_chain.json"],
    ["dir/file.", "dir/file_chain.json"],
    // Go's filepath.Ext(".jsonl") is ".jsonl": the stem is empty, so the name is session_chain.json.
    ["sessions/.jsonl", "sessions/session_chain.json"]
  ]
  for (const [journal, chain] of cases) {
    it(`${journal} → ${chain}`, () => {
      expect(chainPathOf(journal)).toBe(chain)
    })
  }
})

describe("checkpoint", () => {
  it.live("the first checkpoint covers 1..N, writes the zip, the journal record, the state and the chain", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(3)
      const header = journalLines(journal)[0]?.header
      const out = path.join(dir, "runpacks", "cp_1.zip")
      const { checkpoint, chainPath } = yield* store.checkpoint(journal, { out })

      expect(checkpoint).toMatchObject({
        schema_id: "gait.runpack.session_checkpoint",
        schema_version: "1.0.0",
        producer_version: VERSION,
        session_id: "sess_demo",
        run_id: "run_demo",
        checkpoint_index: 1,
        sequence_start: 1,
        sequence_end: 3,
        runpack_path: out
      })
      expect("prev_checkpoint_digest" in checkpoint).toBe(false)
      expect(checkpoint.checkpoint_digest).toBe(
        checkpointDigestOf({ manifest_digest: checkpoint.manifest_digest, checkpoint_index: 1, sequence_start: 1, sequence_end: 3 })
      )
      expect(checkpoint.relationship?.parent_ref).toEqual({ kind: "session", id: "sess_demo" })
      expect((checkpoint.relationship?.entity_refs ?? []).length).toBeGreaterThanOrEqual(2)

      // The zip is a verifiable runpack of the checkpoint run.
      expect(modeOf(out)).toBe(0o600)
      const verified = verifyRunpack(nodeFs.readFileSync(out), { requireSignature: false })
      if (Either.isLeft(verified)) throw new Error(verified.left.message)
      expect(verified.right).toMatchObject({ run_id: "run_demo_cp_0001", manifest_digest: checkpoint.manifest_digest, signature_status: "missing" })

      // Journal record and state.
      const last = journalLines(journal).at(-1)
      expect(last).toEqual({ record_type: "checkpoint", checkpoint })
      expect(readStateFile(journal)).toMatchObject({
        checkpoint_count: 1,
        last_checkpoint_index: 1,
        last_checkpoint_sequence: 3,
        last_checkpoint_digest: checkpoint.checkpoint_digest,
        event_count: 3,
        last_sequence: 3,
        journal_size_bytes: nodeFs.statSync(journal).size
      })
      expect(yield* store.status(journal)).toMatchObject({ event_count: 3, checkpoint_count: 1, last_sequence: 3 })

      // The chain next to the journal, written atomically, pretty-printed.
      expect(chainPath).toBe(path.join(dir, "demo.journal_chain.json"))
      const text = nodeFs.readFileSync(chainPath, "utf8")
      expect(text.endsWith("}\n")).toBe(true)
      expect(text).toContain('\n  "schema_id": "gait.runpack.session_chain",\n')
      expect(modeOf(chainPath)).toBe(0o600)
      expect(readChainFile(chainPath)).toEqual({
        schema_id: "gait.runpack.session_chain",
        schema_version: "1.0.0",
        created_at: header?.["created_at"],
        producer_version: VERSION,
        session_id: "sess_demo",
        run_id: "run_demo",
        checkpoints: [checkpoint]
      })
      expect(tempFilesIn(dir)).toEqual([])
      expect(tempFilesIn(path.dirname(out))).toEqual([])
      expect(nodeFs.existsSync(`${journal}.lock`)).toBe(false)
    }).pipe(runWith({}))
  )

  it.live("the second checkpoint links the previous digest and covers only the new events", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(2)
      const first = (yield* store.checkpoint(journal, { out: path.join(dir, "cp_1.zip") })).checkpoint
      yield* store.append(journal, appendInput("tool.3"))
      yield* store.append(journal, appendInput("tool.4"))
      const { checkpoint: second, chainPath } = yield* store.checkpoint(journal, { out: path.join(dir, "cp_2.zip") })
      expect(second).toMatchObject({
        checkpoint_index: 2,
        sequence_start: 3,
        sequence_end: 4,
        prev_checkpoint_digest: first.checkpoint_digest
      })
      expect(second.checkpoint_digest).toBe(checkpointDigestOf(second))
      expect(second.checkpoint_digest).not.toBe(first.checkpoint_digest)
      const verified = verifyRunpack(nodeFs.readFileSync(path.join(dir, "cp_2.zip")), { requireSignature: false })
      expect(Either.isRight(verified) && verified.right.run_id).toBe("run_demo_cp_0002")
      expect(readChainFile(chainPath).checkpoints).toEqual([first, second])
      expect(yield* verifySessionChain(chainPath, { requireSignature: false })).toEqual({
        session_id: "sess_demo",
        run_id: "run_demo",
        checkpoints_checked: 2
      })
      expect(yield* store.status(journal)).toMatchObject({ event_count: 4, checkpoint_count: 2, last_sequence: 4 })
    }).pipe(runWith({}))
  )

  it.live("no new events → SessionNoNewEvents; nothing is written", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(0)
      const empty = failureOf(yield* Effect.exit(store.checkpoint(journal, { out: path.join(dir, "cp_0.zip") })), SessionNoNewEvents)
      expect(empty).toMatchObject({ path: journal, last_sequence: 0 })
      expect(empty.message).toBe("no new session events available for checkpoint")

      yield* store.append(journal, appendInput("tool.1"))
      yield* store.checkpoint(journal, { out: path.join(dir, "cp_1.zip") })
      const bytes = nodeFs.readFileSync(journal)
      const chainBytes = nodeFs.readFileSync(chainPathOf(journal))
      const again = failureOf(yield* Effect.exit(store.checkpoint(journal, { out: path.join(dir, "cp_2.zip") })), SessionNoNewEvents)
      expect(again.last_sequence).toBe(1)
      expect(nodeFs.readFileSync(journal)).toEqual(bytes)
      expect(nodeFs.readFileSync(chainPathOf(journal))).toEqual(chainBytes)
      expect(nodeFs.existsSync(path.join(dir, "cp_0.zip"))).toBe(false)
      expect(nodeFs.existsSync(path.join(dir, "cp_2.zip"))).toBe(false)
      expect(nodeFs.existsSync(`${journal}.lock`)).toBe(false)
    }).pipe(runWith({}))
  )

  it.live("--chain-out: written as well as the derived chain, and reported as the chain path", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(1)
      nodeFs.mkdirSync(path.join(dir, "out"))
      const chainOut = path.join(dir, "out", "session_chain.json")
      const { chainPath } = yield* store.checkpoint(journal, { out: path.join(dir, "cp.zip"), chainOut: `  ${chainOut}  ` })
      expect(chainPath).toBe(chainOut)
      expect(nodeFs.readFileSync(chainOut, "utf8")).toBe(nodeFs.readFileSync(chainPathOf(journal), "utf8"))
      expect(modeOf(chainOut)).toBe(0o600)
      expect(tempFilesIn(path.join(dir, "out"))).toEqual([])
      expect((yield* verifySessionChain(chainOut, { requireSignature: false })).checkpoints_checked).toBe(1)
    }).pipe(runWith({}))
  )

  it.live("--chain-out in a missing directory fails after the checkpoint was committed; the next checkpoint heals the chain", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(1)
      const chainOut = path.join(dir, "missing", "chain.json")
      const error = failureOf(
        yield* Effect.exit(store.checkpoint(journal, { out: path.join(dir, "cp_1.zip"), chainOut })),
        ArtifactWriteFailed
      )
      expect(error.path).toBe(chainOut)
      expect(yield* store.status(journal)).toMatchObject({ checkpoint_count: 1 })
      expect(readChainFile(chainPathOf(journal)).checkpoints?.length).toBe(1)
      yield* store.append(journal, appendInput("tool.2"))
      nodeFs.mkdirSync(path.join(dir, "missing"))
      yield* store.checkpoint(journal, { out: path.join(dir, "cp_2.zip"), chainOut })
      expect(readChainFile(chainOut).checkpoints?.map((c) => c.checkpoint_index)).toEqual([1, 2])
    }).pipe(runWith({}))
  )

  it.live("a deleted chain file is rewritten completely from the journal by the next checkpoint", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(1)
      yield* store.checkpoint(journal, { out: path.join(dir, "cp_1.zip") })
      nodeFs.rmSync(chainPathOf(journal))
      yield* store.append(journal, appendInput("tool.2"))
      yield* store.checkpoint(journal, { out: path.join(dir, "cp_2.zip") })
      expect(readChainFile(chainPathOf(journal)).checkpoints?.map((c) => c.checkpoint_index)).toEqual([1, 2])
    }).pipe(runWith({}))
  )

  it.live("safety invariant fields come from the latest event in the range that has both", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(0)
      yield* store.append(journal, appendInput("a", { safetyInvariantVersion: "1", safetyInvariantHash: "AA".repeat(32) }))
      yield* store.append(journal, appendInput("b", { safetyInvariantVersion: "2", safetyInvariantHash: "BB".repeat(32) }))
      yield* store.append(journal, appendInput("c", { safetyInvariantVersion: "3" }))
      const { checkpoint } = yield* store.checkpoint(journal, { out: path.join(dir, "cp.zip") })
      expect([checkpoint.safety_invariant_version, checkpoint.safety_invariant_hash]).toEqual(["2", "bb".repeat(32)])
      yield* store.append(journal, appendInput("d"))
      const { checkpoint: second } = yield* store.checkpoint(journal, { out: path.join(dir, "cp2.zip") })
      expect("safety_invariant_version" in second).toBe(false)
    }).pipe(runWith({}))
  )

  it.live("concurrent checkpoints and appends keep the chain linear", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(1)
      yield* Effect.all(
        [
          store.checkpoint(journal, { out: path.join(dir, "a.zip") }),
          store.append(journal, appendInput("x")),
          store.checkpoint(journal, { out: path.join(dir, "b.zip") }),
          store.append(journal, appendInput("y"))
        ],
        { concurrency: "unbounded", mode: "either" }
      )
      const model = yield* readJournal(journal)
      const checkpoints = model.checkpoints
      expect(checkpoints.map((c) => c.checkpoint_index)).toEqual(checkpoints.map((_, i) => i + 1))
      expect(eventSequences(journal)).toEqual([1, 2, 3])
    }).pipe(runWith({}))
  )
})

describe("compaction (§5)", () => {
  it.live("TestSessionCompactionPreservesCheckpointVerification", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(2)
      yield* store.checkpoint(journal, { out: path.join(dir, "cp_1.zip") })
      yield* store.append(journal, appendInput("tool.3"))
      const before = nodeFs.readFileSync(journal)
      const stateBefore = nodeFs.readFileSync(`${journal}.state.json`)

      const dry = yield* store.compact(journal, { dryRun: true })
      expect(dry).toMatchObject({
        journal_path: journal,
        output_path: journal,
        dry_run: true,
        compacted: true,
        events_before: 3,
        events_after: 1,
        checkpoints: 1,
        last_checkpoint_sequence: 2,
        bytes_before: before.length
      })
      expect(dry.bytes_after).toBeLessThan(dry.bytes_before)
      expect(nodeFs.readFileSync(journal)).toEqual(before)
      expect(nodeFs.readFileSync(`${journal}.state.json`)).toEqual(stateBefore)

      const real = yield* store.compact(journal, { dryRun: false })
      expect(real).toEqual({ ...dry, dry_run: false })
      const lines = journalLines(journal)
      expect(lines.map((l) => l.record_type)).toEqual(["header", "checkpoint", "event"])
      expect(lines[0]?.header?.["events"]).toBeNull()
      expect(lines[2]?.event?.sequence).toBe(3)
      expect(nodeFs.statSync(journal).size).toBe(real.bytes_after)
      expect(modeOf(journal)).toBe(0o600)
      expect(tempFilesIn(dir)).toEqual([])

      expect(yield* store.status(journal)).toMatchObject({ event_count: 1, last_sequence: 3, checkpoint_count: 1 })
      expect(readStateFile(journal)).toMatchObject({ journal_size_bytes: real.bytes_after, last_checkpoint_sequence: 2 })
      const chain = chainPathOf(journal)
      expect(yield* verifySessionChain(chain, { requireSignature: false })).toEqual({ session_id: "sess_demo", run_id: "run_demo", checkpoints_checked: 1 })

      const { checkpoint: second } = yield* store.checkpoint(journal, { out: path.join(dir, "cp_2.zip") })
      expect(second).toMatchObject({ checkpoint_index: 2, sequence_start: 3, sequence_end: 3 })
      expect(yield* verifySessionChain(chain, { requireSignature: false })).toMatchObject({ checkpoints_checked: 2 })
      expect((yield* store.append(journal, appendInput("tool.4"))).sequence).toBe(4)
    }).pipe(runWith({}))
  )

  it.live("a second compaction with nothing to change reports compacted false and writes nothing", () =>
    Effect.gen(function* () {
      const { store, journal } = yield* session(2)
      const first = yield* store.compact(journal, { dryRun: false })
      // Nothing to prune, but the header's events [] → null is a rewrite (the reference's quirk).
      expect(first).toMatchObject({ compacted: true, events_before: 2, events_after: 2 })
      expect(first.bytes_after).toBe(first.bytes_before + 2)
      const bytes = nodeFs.readFileSync(journal)
      const second = yield* store.compact(journal, { dryRun: false })
      expect(second).toMatchObject({ compacted: false, events_before: 2, events_after: 2, bytes_before: bytes.length, bytes_after: bytes.length })
      expect(nodeFs.readFileSync(journal)).toEqual(bytes)
      expect((yield* store.append(journal, appendInput("tool.3"))).sequence).toBe(3)
    }).pipe(runWith({}))
  )

  it.live("after compacting away every event, the next append continues at N+1 (not 1) and the journal reads back", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(3)
      yield* store.checkpoint(journal, { out: path.join(dir, "cp_1.zip") })
      const report = yield* store.compact(journal, { dryRun: false })
      expect(report).toMatchObject({ events_before: 3, events_after: 0, last_checkpoint_sequence: 3 })
      expect(yield* store.status(journal)).toMatchObject({ event_count: 0, last_sequence: 3, checkpoint_count: 1 })

      expect((yield* store.append(journal, appendInput("tool.4"))).sequence).toBe(4)
      const model = yield* readJournal(journal)
      expect(model.events.map((e) => e.sequence)).toEqual([4])

      // A rebuild from the journal alone (state lost) agrees.
      nodeFs.rmSync(`${journal}.state.json`)
      expect(yield* store.status(journal)).toMatchObject({ event_count: 1, last_sequence: 4, checkpoint_count: 1 })
      expect((yield* store.append(journal, appendInput("tool.5"))).sequence).toBe(5)

      const { checkpoint } = yield* store.checkpoint(journal, { out: path.join(dir, "cp_2.zip") })
      expect([checkpoint.sequence_start, checkpoint.sequence_end]).toEqual([4, 5])
      expect(yield* verifySessionChain(chainPathOf(journal), { requireSignature: false })).toMatchObject({ checkpoints_checked: 2 })
    }).pipe(runWith({}))
  )

  it.live("a state lost right after compacting everything is rebuilt with last_sequence from the checkpoint", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(2)
      yield* store.checkpoint(journal, { out: path.join(dir, "cp_1.zip") })
      yield* store.compact(journal, { dryRun: false })
      nodeFs.rmSync(`${journal}.state.json`)
      expect((yield* store.append(journal, appendInput("tool.3"))).sequence).toBe(3)
      expect(eventSequences(journal)).toEqual([3])
    }).pipe(runWith({}))
  )

  it.live("compaction to --out leaves the source journal and its state untouched", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(2)
      yield* store.checkpoint(journal, { out: path.join(dir, "cp_1.zip") })
      yield* store.append(journal, appendInput("tool.3"))
      const source = nodeFs.readFileSync(journal)
      const state = nodeFs.readFileSync(`${journal}.state.json`)
      const out = path.join(dir, "compacted.jsonl")
      const report = yield* store.compact(journal, { out, dryRun: false })
      expect(report).toMatchObject({ journal_path: journal, output_path: out, compacted: true, events_before: 3, events_after: 1 })
      expect(nodeFs.readFileSync(journal)).toEqual(source)
      expect(nodeFs.readFileSync(`${journal}.state.json`)).toEqual(state)
      expect(nodeFs.existsSync(`${out}.state.json`)).toBe(false)
      expect(modeOf(out)).toBe(0o600)
      const compacted = yield* readJournal(out)
      expect(compacted.events.map((e) => e.sequence)).toEqual([3])
      expect(compacted.checkpoints.length).toBe(1)
      // The source keeps working as before.
      expect((yield* store.append(journal, appendInput("tool.4"))).sequence).toBe(4)
      expect(eventSequences(journal)).toEqual([1, 2, 3, 4])
    }).pipe(runWith({}))
  )

  it.live("--out equal to the journal, and a dry run to --out, write nothing extra", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(1)
      const out = path.join(dir, "dry.jsonl")
      const dry = yield* store.compact(journal, { out, dryRun: true })
      expect(dry).toMatchObject({ dry_run: true, compacted: true, output_path: out })
      expect(nodeFs.existsSync(out)).toBe(false)
      const same = yield* store.compact(journal, { out: `${dir}/./demo.journal.jsonl`, dryRun: false })
      expect(same.output_path).toBe(journal)
      expect(readStateFile(journal).journal_size_bytes).toBe(nodeFs.statSync(journal).size)
    }).pipe(runWith({}))
  )

  it.live("--out in a missing directory fails and changes nothing", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(1)
      const source = nodeFs.readFileSync(journal)
      const out = path.join(dir, "missing", "compacted.jsonl")
      const error = failureOf(yield* Effect.exit(store.compact(journal, { out, dryRun: false })), ArtifactWriteFailed)
      expect(error.path).toBe(out)
      expect(nodeFs.readFileSync(journal)).toEqual(source)
      expect(nodeFs.existsSync(`${journal}.lock`)).toBe(false)
    }).pipe(runWith({}))
  )

  it.live("runpack zips are never deleted by compaction", () =>
    Effect.gen(function* () {
      const { store, dir, journal } = yield* session(1)
      const out = path.join(dir, "cp_1.zip")
      yield* store.checkpoint(journal, { out })
      const zip = nodeFs.readFileSync(out)
      yield* store.compact(journal, { dryRun: false })
      expect(nodeFs.readFileSync(out)).toEqual(zip)
    }).pipe(runWith({}))
  )
})
