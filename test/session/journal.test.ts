/**
 * The JSONL journal (spec session.md §2.1–2.2, §4.3): the reader's validation rules as a pure
 * function, and crash damage on real files — a torn final record is truncated away by the next
 * locked operation (gait's deliberate fix; the reference stays wedged), corruption anywhere else
 * is an error that truncates nothing, and a hand-edited final record without its newline keeps
 * the journal parseable.
 */
import * as nodeFs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { checkpointDigestOf } from "../../src/session/chain-digest.js"
import { SessionJournalInvalid } from "../../src/session/errors.js"
import { type JournalScan, parseJournal, readJournal, recordLine } from "../../src/session/journal.js"
import type { SessionCheckpoint, SessionEvent, SessionHeader } from "../../src/session/schema.js"
import { SessionStore, type SessionStoreError } from "../../src/session/store.js"
import {
  appendInput,
  eventSequences,
  failureOf,
  journalLines,
  readStateFile,
  removeTempDirs,
  runWith,
  SESSION,
  tempDir
} from "./fixtures/session-env.js"

afterEach(removeTempDirs)

const AT = "2026-02-11T00:00:00Z"
const header: SessionHeader = {
  schema_id: "gait.runpack.session_journal",
  schema_version: "1.0.0",
  created_at: AT,
  producer_version: "0.0.0-dev",
  session_id: "sess_demo",
  run_id: "run_demo",
  started_at: AT,
  events: []
}
const event = (sequence: number, extra: Partial<SessionEvent> = {}): SessionEvent => ({
  schema_id: "gait.runpack.session_event",
  schema_version: "1.0.0",
  created_at: AT,
  producer_version: "0.0.0-dev",
  session_id: "sess_demo",
  run_id: "run_demo",
  sequence,
  tool_name: "tool.write",
  verdict: "allow",
  ...extra
})
const checkpoint = (index: number, start: number, end: number, prev?: string, extra: Partial<SessionCheckpoint> = {}): SessionCheckpoint => {
  const base = {
    manifest_digest: String(index).repeat(64).slice(0, 64),
    ...(prev === undefined ? {} : { prev_checkpoint_digest: prev }),
    checkpoint_index: index,
    sequence_start: start,
    sequence_end: end
  }
  return {
    schema_id: "gait.runpack.session_checkpoint",
    schema_version: "1.0.0",
    created_at: AT,
    producer_version: "0.0.0-dev",
    session_id: "sess_demo",
    run_id: "run_demo",
    runpack_path: `cp_${index}.zip`,
    checkpoint_digest: checkpointDigestOf(base),
    ...base,
    ...extra
  }
}

const bytesOf = (...lines: ReadonlyArray<string>): Uint8Array => new TextEncoder().encode(lines.join(""))
const parse = (...lines: ReadonlyArray<string>) => parseJournal("j.jsonl", bytesOf(...lines))
const scanOf = (...lines: ReadonlyArray<string>): JournalScan => {
  const result = parse(...lines)
  if (Either.isLeft(result)) throw new Error(`unexpected error: ${result.left.detail}`)
  return result.right
}
const errorOf = (...lines: ReadonlyArray<string>): SessionJournalInvalid => {
  const result = parse(...lines)
  if (Either.isRight(result)) throw new Error("expected SessionJournalInvalid")
  return result.left
}

const H = recordLine("header", header)
const E = (sequence: number, extra: Partial<SessionEvent> = {}) => recordLine("event", event(sequence, extra))
const C = (cp: SessionCheckpoint) => recordLine("checkpoint", cp)

describe("parseJournal (§2.2)", () => {
  it("a valid journal: header, events, checkpoints", () => {
    const cp1 = checkpoint(1, 1, 2)
    const scan = scanOf(H, E(1), E(2), C(cp1), E(3))
    expect(scan.header?.session_id).toBe("sess_demo")
    expect(scan.events.map((e) => e.sequence)).toEqual([1, 2, 3])
    expect(scan.checkpoints).toEqual([cp1])
    expect(scan.tornTail).toBe(false)
    expect(scan.missingFinalNewline).toBe(false)
    expect(scan.validBytes).toBe(scan.sizeBytes)
  })

  it("recordLine writes the envelope with only the matching payload, compact, with a newline", () => {
    expect(recordLine("event", { sequence: 1 })).toBe('{"record_type":"event","event":{"sequence":1}}\n')
  })

  it("an empty file has no header but is not an error for the scanner", () => {
    const scan = scanOf()
    expect(scan.header).toBeUndefined()
    expect(scan.validBytes).toBe(0)
  })

  it("blank lines and CRLF endings are accepted; line numbers count blank lines", () => {
    const crlf = (line: string) => line.replace(/\n$/, "\r\n")
    const scan = scanOf(crlf(H), "\n", "   \n", crlf(E(1)))
    expect(scan.events.map((e) => e.sequence)).toEqual([1])
    const error = errorOf(H, "\n", "\n", "{bad json}\n")
    expect(error.line).toBe(4)
    expect(error.detail).toContain("session journal parse line 4")
  })

  it("a compacted journal: checkpoints before events, retained events continue after sequence_end", () => {
    const cp1 = checkpoint(1, 1, 2)
    const cp2 = checkpoint(2, 3, 5, cp1.checkpoint_digest)
    const scan = scanOf(recordLine("header", { ...header, events: null }), C(cp1), C(cp2), E(6), E(7))
    expect(scan.events.map((e) => e.sequence)).toEqual([6, 7])
    expect(scan.checkpoints.map((c) => c.checkpoint_index)).toEqual([1, 2])
  })

  it("empty schema_id/schema_version in the header are defaulted; unknown fields ignored", () => {
    const scan = scanOf(recordLine("header", { ...header, schema_id: "", schema_version: "", extra: true }))
    expect(scan.header).toMatchObject({ schema_id: "gait.runpack.session_journal", schema_version: "1.0.0" })
  })

  const errors: ReadonlyArray<readonly [string, ReadonlyArray<string>, string, number | undefined]> = [
    ["invalid JSON in a complete line", [H, "{not json\n"], "session journal parse line 2", 2],
    ["a JSON value that is not a record", [H, "[1,2]\n"], "session journal parse line 2: not a journal record", 2],
    ["event before the header", [E(1)], "session journal event encountered before header", 1],
    ["checkpoint before the header", [C(checkpoint(1, 1, 1))], "session journal checkpoint encountered before header", 1],
    ["unsupported record_type", [H, '{"record_type":"note"}\n'], 'session journal line 2 has unsupported record_type "note"', 2],
    ["duplicate header", [H, H], "session journal contains duplicate header", 2],
    ["header without payload", ['{"record_type":"header"}\n'], "session journal line 1 missing header payload", 1],
    ["event without payload", [H, '{"record_type":"event"}\n'], "session journal line 2 missing event payload", 2],
    ["checkpoint without payload", [H, '{"record_type":"checkpoint"}\n'], "session journal line 2 missing checkpoint payload", 2],
    ["header without ids", [recordLine("header", { ...header, run_id: " " })], "session journal header missing session_id or run_id", 1],
    ["sequence gap", [H, E(1), E(3)], "session event sequence mismatch line 3: got 3 want 2", 3],
    ["sequence not starting at 1", [H, E(2)], "session event sequence mismatch line 2: got 2 want 1", 2],
    ["duplicate sequence", [H, E(1), E(1)], "session event sequence mismatch line 3: got 1 want 2", 3],
    ["a string sequence", [H, recordLine("event", { ...event(1), sequence: "1" })], "session journal parse line 2: invalid event", 2],
    ["event of another session", [H, E(1, { session_id: "sess_other" })], "session event identity mismatch at line 2", 2],
    ["checkpoint of another run", [H, E(1), C(checkpoint(1, 1, 1, undefined, { run_id: "run_other" }))], "session checkpoint identity mismatch at line 3", 3],
    ["checkpoint index not 1", [H, E(1), C(checkpoint(2, 1, 1))], "session checkpoint index mismatch at line 3", 3],
    ["checkpoint range end before start", [H, E(1), C(checkpoint(1, 2, 1))], "session checkpoint sequence range invalid at line 3", 3],
    ["checkpoint range starting at 0", [H, E(1), C(checkpoint(1, 0, 1))], "session checkpoint sequence range invalid at line 3", 3],
    [
      "overlapping checkpoint ranges",
      [H, E(1), E(2), C(checkpoint(1, 1, 2)), C(checkpoint(2, 2, 2, checkpoint(1, 1, 2).checkpoint_digest))],
      "session checkpoint sequence overlap at line 5",
      5
    ],
    [
      "broken prev digest linkage",
      [H, E(1), C(checkpoint(1, 1, 1)), E(2), C(checkpoint(2, 2, 2, "0".repeat(64)))],
      "session checkpoint digest linkage mismatch at line 5",
      5
    ],
    [
      "recomputed checkpoint digest differs",
      [H, E(1), C({ ...checkpoint(1, 1, 1), checkpoint_digest: "f".repeat(64) })],
      "session checkpoint digest invalid at line 3",
      3
    ]
  ]
  for (const [name, lines, detail, line] of errors) {
    it(`error: ${name}`, () => {
      const error = errorOf(...lines)
      expect(error).toBeInstanceOf(SessionJournalInvalid)
      expect(error.detail.startsWith(detail)).toBe(true)
      expect(error.line).toBe(line)
      expect(error.path).toBe("j.jsonl")
    })
  }

  it("prev digest and checkpoint digest compare case-insensitively", () => {
    const cp1 = checkpoint(1, 1, 1)
    const cp2 = checkpoint(2, 2, 2, cp1.checkpoint_digest)
    // The digest is recomputed over the prev digest as written, so only the stored digests change case.
    const upper1 = { ...cp1, checkpoint_digest: cp1.checkpoint_digest.toUpperCase() }
    const upper2 = { ...cp2, checkpoint_digest: cp2.checkpoint_digest.toUpperCase() }
    const scan = scanOf(H, E(1), C(upper1), E(2), C(upper2))
    expect(scan.checkpoints.length).toBe(2)
  })

  it("a final segment without newline that does not parse is a torn tail, not an error", () => {
    const full = bytesOf(H, E(1))
    const torn = E(2).slice(0, 40)
    const scan = scanOf(H, E(1), torn)
    expect(scan.tornTail).toBe(true)
    expect(scan.validBytes).toBe(full.length)
    expect(scan.sizeBytes).toBe(full.length + torn.length)
    expect(scan.events.map((e) => e.sequence)).toEqual([1])
  })

  it("the same bytes followed by a newline are corruption, not a torn tail", () => {
    expect(errorOf(H, E(1), `${E(2).slice(0, 40)}\n`).line).toBe(3)
  })

  it("a final complete record without newline is valid and flagged", () => {
    const scan = scanOf(H, E(1).trimEnd())
    expect(scan.events.map((e) => e.sequence)).toEqual([1])
    expect(scan.missingFinalNewline).toBe(true)
    expect(scan.tornTail).toBe(false)
    expect(scan.validBytes).toBe(scan.sizeBytes)
  })

  it("a torn multi-byte character is a torn tail too", () => {
    const line = E(2, { tool_name: "tööl" })
    const bytes = new TextEncoder().encode(H + line)
    const cut = bytes.indexOf(0xc3, H.length) + 1
    const result = parseJournal("j.jsonl", bytes.subarray(0, cut))
    expect(Either.isRight(result) && result.right.tornTail).toBe(true)
  })

  it("a line longer than 8 MiB is an error", () => {
    const huge = `{"record_type":"event","pad":"${"x".repeat(8 * 1024 * 1024)}"}\n`
    const error = errorOf(H, huge)
    expect(error.detail).toBe("read session journal: line too long")
    expect(error.line).toBe(2)
  })
})

/** A started journal with `n` events, in a fresh temp dir. */
const journalWithEvents = (n: number) =>
  Effect.gen(function* () {
    const store = yield* SessionStore
    const journal = path.join(tempDir(), "demo.journal.jsonl")
    yield* store.start(journal, SESSION)
    for (let i = 1; i <= n; i++) yield* store.append(journal, appendInput(`tool.${i}`))
    return journal
  })

/** The first half of what the next event line would be: what a crash in the middle of `write` leaves. */
const tornRecord = (journal: string): string => {
  const last = journalLines(journal).at(-1)?.event
  const line = recordLine("event", { ...event((last?.sequence ?? 0) + 1), tool_name: "torn" })
  return line.slice(0, Math.floor(line.length / 2))
}

describe("torn final record (repaired under the lock)", () => {
  it.live("the next append truncates the torn bytes and continues the sequence", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(2)
      const intact = nodeFs.readFileSync(journal)
      nodeFs.appendFileSync(journal, tornRecord(journal))
      const appended = yield* store.append(journal, appendInput("after.crash"))
      expect(appended.sequence).toBe(3)
      const after = nodeFs.readFileSync(journal)
      // The intact prefix is unchanged and is directly followed by the new record: the torn bytes are gone.
      expect(after.subarray(0, intact.length)).toEqual(intact)
      expect(after.subarray(intact.length).toString()).toBe(recordLine("event", appended))
      expect(eventSequences(journal)).toEqual([1, 2, 3])
      expect((yield* readJournal(journal)).events.map((e) => e.tool_name)).toEqual(["tool.1", "tool.2", "after.crash"])
      expect(readStateFile(journal)).toMatchObject({ last_sequence: 3, event_count: 3, journal_size_bytes: after.length })
    }).pipe(runWith({}))
  )

  it.live("status repairs it too, and the state then matches the repaired journal", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(1)
      const intact = nodeFs.readFileSync(journal)
      nodeFs.appendFileSync(journal, tornRecord(journal))
      expect(yield* store.status(journal)).toMatchObject({ event_count: 1, last_sequence: 1 })
      expect(nodeFs.readFileSync(journal)).toEqual(intact)
      expect(readStateFile(journal).journal_size_bytes).toBe(intact.length)
      expect((yield* store.append(journal, appendInput("next"))).sequence).toBe(2)
      expect(eventSequences(journal)).toEqual([1, 2])
    }).pipe(runWith({}))
  )

  it.live("checkpoint repairs it before reading the events", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(2)
      nodeFs.appendFileSync(journal, tornRecord(journal))
      const dir = path.dirname(journal)
      const result = yield* store.checkpoint(journal, { out: path.join(dir, "cp.zip") })
      expect([result.checkpoint.sequence_start, result.checkpoint.sequence_end]).toEqual([1, 2])
      expect(journalLines(journal).map((l) => l.record_type)).toEqual(["header", "event", "event", "checkpoint"])
      expect((yield* store.append(journal, appendInput("next"))).sequence).toBe(3)
    }).pipe(runWith({}))
  )

  it.live("compaction drops a torn tail as well", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(2)
      nodeFs.appendFileSync(journal, tornRecord(journal))
      const report = yield* store.compact(journal, { dryRun: false })
      expect(report.events_after).toBe(2)
      expect(eventSequences(journal)).toEqual([1, 2])
      expect((yield* readJournal(journal)).events.length).toBe(2)
    }).pipe(runWith({}))
  )
})

describe("corruption that is not a torn tail", () => {
  it.live("a corrupt middle line is SessionJournalInvalid with its line number; nothing is truncated", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(3)
      const lines = nodeFs.readFileSync(journal, "utf8").split("\n")
      lines[2] = '{"record_type":"event","event":{"sequ'
      nodeFs.writeFileSync(journal, lines.join("\n"))
      const damaged = nodeFs.readFileSync(journal)
      const operations: ReadonlyArray<Effect.Effect<unknown, SessionStoreError>> = [
        store.append(journal, appendInput("x")),
        store.status(journal),
        store.compact(journal, { dryRun: false })
      ]
      for (const operation of operations) {
        const error = failureOf(yield* Effect.exit(operation), SessionJournalInvalid)
        expect(error.line).toBe(3)
        expect(error.detail).toContain("session journal parse line 3")
        expect(error.path).toBe(journal)
      }
      expect(nodeFs.readFileSync(journal)).toEqual(damaged)
    }).pipe(runWith({}))
  )

  it.live("a corrupt final line that has its newline is corruption too (not truncated)", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(2)
      nodeFs.appendFileSync(journal, `${tornRecord(journal)}\n`)
      const damaged = nodeFs.readFileSync(journal)
      const error = failureOf(yield* Effect.exit(store.append(journal, appendInput("x"))), SessionJournalInvalid)
      expect(error.line).toBe(4)
      expect(nodeFs.readFileSync(journal)).toEqual(damaged)
    }).pipe(runWith({}))
  )

  it.live("a journal without a header (events only) is SessionJournalInvalid", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(1)
      const withoutHeader = nodeFs.readFileSync(journal, "utf8").split("\n").slice(1).join("\n")
      nodeFs.writeFileSync(journal, withoutHeader)
      const error = failureOf(yield* Effect.exit(store.append(journal, appendInput("x"))), SessionJournalInvalid)
      expect(error.detail).toBe("session journal event encountered before header")
    }).pipe(runWith({}))
  )

  it.live("start on an existing non-empty journal that is malformed reports the parse error", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "malformed.jsonl")
      nodeFs.writeFileSync(journal, "this is not a journal\n")
      const error = failureOf(yield* Effect.exit(store.start(journal, SESSION)), SessionJournalInvalid)
      expect(error.detail).toContain("parse line 1")
      expect(nodeFs.readFileSync(journal, "utf8")).toBe("this is not a journal\n")
    }).pipe(runWith({}))
  )
})

describe("final record without newline (hand-edited journal)", () => {
  const stripFinalNewline = (journal: string): void => {
    const text = nodeFs.readFileSync(journal, "utf8")
    expect(text.endsWith("\n")).toBe(true)
    nodeFs.writeFileSync(journal, text.slice(0, -1))
  }

  it.live("the next append adds the newline first and the journal still parses", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(2)
      stripFinalNewline(journal)
      expect((yield* store.append(journal, appendInput("next"))).sequence).toBe(3)
      expect(nodeFs.readFileSync(journal, "utf8").endsWith("}\n")).toBe(true)
      expect(eventSequences(journal)).toEqual([1, 2, 3])
      expect((yield* readJournal(journal)).events.length).toBe(3)
      expect((yield* store.append(journal, appendInput("again"))).sequence).toBe(4)
      expect(eventSequences(journal)).toEqual([1, 2, 3, 4])
    }).pipe(runWith({}))
  )

  it.live("status first, then append: the journal still parses", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(2)
      stripFinalNewline(journal)
      expect(yield* store.status(journal)).toMatchObject({ event_count: 2, last_sequence: 2 })
      yield* store.append(journal, appendInput("next"))
      // Each record must be on its own line: reading the journal must not fail.
      const model = yield* readJournal(journal)
      expect(model.events.map((e) => e.sequence)).toEqual([1, 2, 3])
    }).pipe(runWith({}))
  )

  it.live("start (idempotent) first, then append: the journal still parses", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(1)
      stripFinalNewline(journal)
      yield* store.start(journal, SESSION)
      yield* store.append(journal, appendInput("next"))
      const model = yield* readJournal(journal)
      expect(model.events.map((e) => e.sequence)).toEqual([1, 2])
    }).pipe(runWith({}))
  )

  it.live("checkpoint appends its record on a line of its own", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(2)
      stripFinalNewline(journal)
      yield* store.checkpoint(journal, { out: path.join(path.dirname(journal), "cp.zip") })
      const model = yield* readJournal(journal)
      expect(model.checkpoints.length).toBe(1)
      expect(journalLines(journal).map((l) => l.record_type)).toEqual(["header", "event", "event", "checkpoint"])
      expect((yield* store.append(journal, appendInput("next"))).sequence).toBe(3)
    }).pipe(runWith({}))
  )

  it.live("a header-only journal without newline: the first append still works", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = yield* journalWithEvents(0)
      stripFinalNewline(journal)
      expect((yield* store.append(journal, appendInput("first"))).sequence).toBe(1)
      expect(journalLines(journal).map((l) => l.record_type)).toEqual(["header", "event"])
    }).pipe(runWith({}))
  )
})
