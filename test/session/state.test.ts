/**
 * The state index `<journal>.state.json` (spec session.md §2.3, §4.3): trusted only when its
 * `journal_size_bytes` matches the journal, rebuilt from the journal otherwise; `last_sequence`
 * is max(last event, last checkpoint end).
 */
import * as nodeFs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import type { SessionCheckpoint, SessionHeader } from "../../src/session/schema.js"
import { readState, statePathOf, stateFromJournal, statusOf } from "../../src/session/state.js"
import { SessionStore } from "../../src/session/store.js"
import {
  appendInput,
  eventSequences,
  readStateFile,
  removeTempDirs,
  runWith,
  SESSION,
  tempDir,
  writeStateFile
} from "./fixtures/session-env.js"

afterEach(removeTempDirs)

const journalWithEvents = (n: number) =>
  Effect.gen(function* () {
    const store = yield* SessionStore
    const journal = path.join(tempDir(), "demo.journal.jsonl")
    yield* store.start(journal, SESSION)
    for (let i = 1; i <= n; i++) yield* store.append(journal, appendInput(`tool.${i}`))
    return journal
  })

describe("rebuild from the journal", () => {
  it.live("TestSessionStateIndexRebuildsFromJournalDrift: seq 0, count 0, size 1 → the next append gets sequence 2", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(1)
      writeStateFile(journal, { ...readStateFile(journal), last_sequence: 0, event_count: 0, journal_size_bytes: 1 })
      expect((yield* store.append(journal, appendInput("tool.2"))).sequence).toBe(2)
      expect(eventSequences(journal)).toEqual([1, 2])
      expect(readStateFile(journal)).toMatchObject({ last_sequence: 2, event_count: 2, journal_size_bytes: nodeFs.statSync(journal).size })
      expect(yield* store.status(journal)).toMatchObject({ last_sequence: 2, event_count: 2 })
    }).pipe(runWith({}))
  )

  it.live("a state ahead of the journal (bigger counters, wrong size) is rebuilt", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(1)
      const size = nodeFs.statSync(journal).size
      writeStateFile(journal, {
        ...readStateFile(journal),
        last_sequence: 40,
        event_count: 40,
        checkpoint_count: 3,
        last_checkpoint_index: 3,
        last_checkpoint_sequence: 30,
        last_checkpoint_digest: "a".repeat(64),
        journal_size_bytes: size + 1_000
      })
      expect(yield* store.status(journal)).toMatchObject({ event_count: 1, last_sequence: 1, checkpoint_count: 0 })
      const state = readStateFile(journal)
      expect(state).toMatchObject({ last_checkpoint_index: 0, last_checkpoint_sequence: 0, journal_size_bytes: size })
      expect("last_checkpoint_digest" in state).toBe(false)
      expect((yield* store.append(journal, appendInput("tool.2"))).sequence).toBe(2)
      expect(eventSequences(journal)).toEqual([1, 2])
    }).pipe(runWith({}))
  )

  it.live("a crash between the journal append and the state write (state one record behind) is healed", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(2)
      const behind = readStateFile(journal)
      yield* store.append(journal, appendInput("tool.3"))
      writeStateFile(journal, behind)
      expect((yield* store.append(journal, appendInput("tool.4"))).sequence).toBe(4)
      expect(eventSequences(journal)).toEqual([1, 2, 3, 4])
    }).pipe(runWith({}))
  )

  const damaged: ReadonlyArray<readonly [string, (journal: string) => void]> = [
    ["missing", (j) => nodeFs.rmSync(statePathOf(j))],
    ["not JSON", (j) => nodeFs.writeFileSync(statePathOf(j), "{{{")],
    ["empty", (j) => nodeFs.writeFileSync(statePathOf(j), "")],
    ["wrong schema_id", (j) => writeStateFile(j, { ...readStateFile(j), schema_id: "gait.other", last_sequence: 0 })],
    ["wrong schema_version", (j) => writeStateFile(j, { ...readStateFile(j), schema_version: "2.0.0", last_sequence: 0 })],
    ["empty session_id", (j) => writeStateFile(j, { ...readStateFile(j), session_id: "", last_sequence: 0 })],
    ["negative counter", (j) => writeStateFile(j, { ...readStateFile(j), event_count: -1, last_sequence: 0 })],
    ["string counter", (j) => nodeFs.writeFileSync(statePathOf(j), JSON.stringify({ ...readStateFile(j), last_sequence: "3" }))]
  ]
  for (const [name, damage] of damaged) {
    it.live(`a state file that is ${name} is rebuilt (same size otherwise)`, () =>
      Effect.gen(function* () {
        const store = yield* SessionStore
        const journal = yield* journalWithEvents(2)
        damage(journal)
        expect((yield* store.append(journal, appendInput("tool.3"))).sequence).toBe(3)
        expect(eventSequences(journal)).toEqual([1, 2, 3])
        expect(readStateFile(journal)).toMatchObject({ schema_id: "gait.runpack.session_state", schema_version: "1.0.0", last_sequence: 3, event_count: 3 })
      }).pipe(runWith({}))
    )
  }

  it.live("a state path that cannot be written fails the append before anything is appended", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(2)
      nodeFs.rmSync(statePathOf(journal))
      nodeFs.mkdirSync(statePathOf(journal))
      const exit = yield* Effect.exit(store.append(journal, appendInput("tool.3")))
      expect(exit._tag).toBe("Failure")
      expect(eventSequences(journal)).toEqual([1, 2])
      expect(nodeFs.existsSync(`${journal}.lock`)).toBe(false)
    }).pipe(runWith({}))
  )

  it.live("a matching state is trusted without reading the journal (the O(1) path)", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(2)
      // Same size, different counters: the index is believed (the reference's documented trade-off).
      writeStateFile(journal, { ...readStateFile(journal), event_count: 7 })
      expect((yield* store.status(journal)).event_count).toBe(7)
    }).pipe(runWith({}))
  )

  it.live("readState returns None for a missing or invalid file and Some for a good one", () =>
    Effect.gen(function* () {
      const journal = yield* journalWithEvents(1)
      expect(Option.isSome(yield* readState(journal))).toBe(true)
      nodeFs.writeFileSync(statePathOf(journal), "[]")
      expect(yield* readState(journal)).toEqual(Option.none())
      nodeFs.rmSync(statePathOf(journal))
      expect(yield* readState(journal)).toEqual(Option.none())
    }).pipe(runWith({}))
  )
})

describe("stateFromJournal", () => {
  const header: SessionHeader = {
    schema_id: "gait.runpack.session_journal",
    schema_version: "1.0.0",
    created_at: "2026-02-11T00:00:00Z",
    producer_version: "",
    session_id: "s",
    run_id: "r",
    started_at: "2026-02-11T00:00:01Z"
  }
  const checkpoint = (index: number, start: number, end: number): SessionCheckpoint => ({
    schema_id: "gait.runpack.session_checkpoint",
    schema_version: "1.0.0",
    created_at: header.created_at,
    producer_version: "0.0.0-dev",
    session_id: "s",
    run_id: "r",
    checkpoint_index: index,
    sequence_start: start,
    sequence_end: end,
    runpack_path: "cp.zip",
    manifest_digest: "a".repeat(64),
    checkpoint_digest: `${index}`.repeat(64)
  })
  const event = (sequence: number) => ({
    schema_id: "gait.runpack.session_event",
    schema_version: "1.0.0",
    created_at: header.created_at,
    producer_version: "0.0.0-dev",
    session_id: "s",
    run_id: "r",
    sequence
  })

  it("last_sequence is the last checkpoint's end when every event was compacted away", () => {
    const state = stateFromJournal({ header, events: [], checkpoints: [checkpoint(1, 1, 2), checkpoint(2, 3, 5)] }, 10, "2026-03-01T00:00:00Z")
    expect(state).toMatchObject({
      event_count: 0,
      last_sequence: 5,
      checkpoint_count: 2,
      last_checkpoint_index: 2,
      last_checkpoint_sequence: 5,
      last_checkpoint_digest: "2".repeat(64),
      journal_size_bytes: 10,
      producer_version: "0.0.0-dev",
      updated_at: "2026-03-01T00:00:00Z",
      created_at: "2026-02-11T00:00:00Z",
      started_at: "2026-02-11T00:00:01Z"
    })
  })

  it("last_sequence is the last event when events follow the checkpoint", () => {
    const state = stateFromJournal({ header, events: [event(6), event(7)], checkpoints: [checkpoint(1, 1, 5)] }, 10, "now")
    expect([state.event_count, state.last_sequence, state.last_checkpoint_sequence]).toEqual([2, 7, 5])
  })

  it("an empty journal has zero counters and no checkpoint digest", () => {
    const state = stateFromJournal({ header, events: [], checkpoints: [] }, 3, "now", "9.9.9")
    expect(state).toMatchObject({ event_count: 0, last_sequence: 0, checkpoint_count: 0, producer_version: "9.9.9" })
    expect("last_checkpoint_digest" in state).toBe(false)
  })

  it("created_at and started_at fall back to each other, then to now", () => {
    const noCreated = stateFromJournal({ header: { ...header, created_at: "" }, events: [], checkpoints: [] }, 0, "now")
    expect([noCreated.created_at, noCreated.started_at]).toEqual(["2026-02-11T00:00:01Z", "2026-02-11T00:00:01Z"])
    const neither = stateFromJournal({ header: { ...header, created_at: "", started_at: "" }, events: [], checkpoints: [] }, 0, "now")
    expect([neither.created_at, neither.started_at]).toEqual(["now", "now"])
  })

  it("statusOf keeps the seven status fields", () => {
    const state = stateFromJournal({ header, events: [event(1)], checkpoints: [] }, 0, "now")
    expect(statusOf(state)).toEqual({
      session_id: "s",
      run_id: "r",
      created_at: "2026-02-11T00:00:00Z",
      started_at: "2026-02-11T00:00:01Z",
      event_count: 1,
      checkpoint_count: 0,
      last_sequence: 1
    })
  })
})
