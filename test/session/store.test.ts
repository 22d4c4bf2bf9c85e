/**
 * `SessionStore` over real files (spec session.md §1.1–1.3, §2.1–2.3, §2.5): start, append and
 * status, the exact on-disk records, in-process concurrency, identities, missing journals and
 * path normalisation.
 */
import * as nodeFs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { SessionIdentityMismatch, SessionJournalInvalid, SessionJournalMissing, SessionPathInvalid } from "../../src/session/errors.js"
import { normalizeJournalPath, readJournal } from "../../src/session/journal.js"
import { SessionStore, type SessionStoreError } from "../../src/session/store.js"
import { VERSION } from "../../src/version.js"
import {
  appendInput,
  eventSequences,
  failureOf,
  journalLines,
  range,
  readStateFile,
  removeTempDirs,
  runWith,
  SESSION,
  tempDir,
  tempFilesIn
} from "./fixtures/session-env.js"

afterEach(removeTempDirs)

const modeOf = (p: string): number => nodeFs.statSync(p).mode & 0o777
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

describe("start", () => {
  it.live("creates directories, the header line and the state index", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const dir = tempDir()
      const journal = path.join(dir, "nested", "sessions", "demo.journal.jsonl")
      const status = yield* store.start(journal, SESSION)
      expect(status).toEqual({
        session_id: "sess_demo",
        run_id: "run_demo",
        created_at: status.created_at,
        started_at: status.created_at,
        event_count: 0,
        checkpoint_count: 0,
        last_sequence: 0
      })
      expect(Object.keys(status)).toEqual(["session_id", "run_id", "created_at", "started_at", "event_count", "checkpoint_count", "last_sequence"])
      expect(status.created_at).toMatch(RFC3339_UTC)

      const text = nodeFs.readFileSync(journal, "utf8")
      const at = status.created_at
      expect(text).toBe(
        `{"record_type":"header","header":{"schema_id":"gait.runpack.session_journal","schema_version":"1.0.0","created_at":"${at}","producer_version":"${VERSION}","session_id":"sess_demo","run_id":"run_demo","started_at":"${at}","events":[]}}\n`
      )
      expect(modeOf(journal)).toBe(0o600)
      expect(modeOf(path.dirname(journal))).toBe(0o750)

      const stateText = nodeFs.readFileSync(`${journal}.state.json`, "utf8")
      expect(stateText.endsWith("}\n")).toBe(true)
      expect(stateText).toContain('\n  "schema_id": "gait.runpack.session_state",\n')
      expect(modeOf(`${journal}.state.json`)).toBe(0o600)
      const state = readStateFile(journal)
      expect(Object.keys(state)).toEqual([
        "schema_id",
        "schema_version",
        "updated_at",
        "producer_version",
        "session_id",
        "run_id",
        "created_at",
        "started_at",
        "event_count",
        "last_sequence",
        "checkpoint_count",
        "last_checkpoint_index",
        "last_checkpoint_sequence",
        "journal_size_bytes"
      ])
      expect(state).toMatchObject({
        schema_id: "gait.runpack.session_state",
        schema_version: "1.0.0",
        producer_version: VERSION,
        event_count: 0,
        last_sequence: 0,
        checkpoint_count: 0,
        journal_size_bytes: Buffer.byteLength(text)
      })
      expect(tempFilesIn(path.dirname(journal))).toEqual([])
    }).pipe(runWith({}))
  )

  it.live("a second start with the same ids is idempotent and leaves the journal untouched", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "demo.journal.jsonl")
      const first = yield* store.start(journal, SESSION)
      yield* store.append(journal, appendInput("tool.write"))
      const bytes = nodeFs.readFileSync(journal)
      const second = yield* store.start(journal, SESSION)
      expect(second).toEqual({ ...first, event_count: 1, last_sequence: 1 })
      expect(nodeFs.readFileSync(journal)).toEqual(bytes)
    }).pipe(runWith({}))
  )

  it.live("start with other ids is SessionIdentityMismatch and changes nothing", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "demo.journal.jsonl")
      yield* store.start(journal, SESSION)
      const bytes = nodeFs.readFileSync(journal)
      const otherSession = failureOf(yield* Effect.exit(store.start(journal, { sessionId: "sess_other", runId: "run_demo" })), SessionIdentityMismatch)
      expect(otherSession).toMatchObject({
        path: journal,
        session_id: "sess_other",
        run_id: "run_demo",
        existing_session_id: "sess_demo",
        existing_run_id: "run_demo"
      })
      expect(otherSession.message).toBe("session journal already initialized with different session/run")
      const otherRun = failureOf(yield* Effect.exit(store.start(journal, { sessionId: "sess_demo", runId: "run_other" })), SessionIdentityMismatch)
      expect(otherRun.existing_run_id).toBe("run_demo")
      expect(nodeFs.readFileSync(journal)).toEqual(bytes)
    }).pipe(runWith({}))
  )

  it.live("an empty journal file (creator died before the header) is started over", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "empty.journal.jsonl")
      nodeFs.writeFileSync(journal, "")
      const status = yield* store.start(journal, SESSION)
      expect(status.event_count).toBe(0)
      expect(journalLines(journal).map((l) => l.record_type)).toEqual(["header"])
    }).pipe(runWith({}))
  )

  it.live("a torn header (creator died mid-write) is started over", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "torn-header.journal.jsonl")
      nodeFs.writeFileSync(journal, '{"record_type":"header","header":{"schema_id":"gait.runp')
      yield* store.start(journal, SESSION)
      const lines = journalLines(journal)
      expect(lines.map((l) => l.record_type)).toEqual(["header"])
      expect(lines[0]?.header?.["session_id"]).toBe("sess_demo")
      expect((yield* store.append(journal, appendInput("tool.write"))).sequence).toBe(1)
    }).pipe(runWith({}))
  )
})

describe("append and status", () => {
  it.live("writes the event exactly as the reference (field order, trimmed ids, relationship)", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "demo.journal.jsonl")
      yield* store.start(journal, SESSION)
      const event = yield* store.append(journal, { toolName: " tool.write ", verdict: "allow", intentId: "intent_1" })
      const line = nodeFs.readFileSync(journal, "utf8").split("\n")[1]
      expect(line).toBe(
        `{"record_type":"event","event":{"schema_id":"gait.runpack.session_event","schema_version":"1.0.0","created_at":"${event.created_at}","producer_version":"${VERSION}","session_id":"sess_demo","run_id":"run_demo","sequence":1,"intent_id":"intent_1","tool_name":"tool.write","verdict":"allow","relationship":{"parent_ref":{"kind":"session","id":"sess_demo"},"entity_refs":[{"kind":"run","id":"run_demo"},{"kind":"tool","id":"tool.write"}],"parent_record_id":"sess_demo","related_entity_ids":["run_demo","tool.write"]}}}`
      )
      expect(event.created_at).toMatch(RFC3339_UTC)
      expect(journalLines(journal)[1]?.event).toEqual(event)
    }).pipe(runWith({}))
  )

  it.live("dedups and sorts lists, lowercases digests, records policy lineage and the agent edge", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "demo.journal.jsonl")
      yield* store.start(journal, SESSION)
      const digest = "AB".repeat(32)
      const event = yield* store.append(journal, {
        toolName: "tool.write",
        verdict: "block",
        traceId: "trace_1",
        intentDigest: ` ${"CD".repeat(32)} `,
        policyDigest: digest,
        policyId: "policy_main",
        policyVersion: "v2",
        matchedRuleIds: ["rule_b", "rule_a", "rule_b", " "],
        reasonCodes: ["z_reason", "a_reason", "z_reason"],
        violations: [" ", ""],
        agentChain: [{ identity: "agent.bot", role: "delegate" }],
        safetyInvariantVersion: "1",
        safetyInvariantHash: "EF".repeat(32)
      })
      expect(event).toMatchObject({
        sequence: 1,
        verdict: "block",
        intent_digest: "cd".repeat(32),
        policy_digest: "ab".repeat(32),
        policy_id: "policy_main",
        policy_version: "v2",
        matched_rule_ids: ["rule_a", "rule_b"],
        reason_codes: ["a_reason", "z_reason"],
        safety_invariant_version: "1",
        safety_invariant_hash: "ef".repeat(32)
      })
      expect("violations" in event).toBe(false)
      expect(event.relationship?.parent_ref).toEqual({ kind: "session", id: "sess_demo" })
      expect(event.relationship?.policy_ref).toEqual({
        policy_id: "policy_main",
        policy_version: "v2",
        policy_digest: "ab".repeat(32),
        matched_rule_ids: ["rule_a", "rule_b"]
      })
      expect(event.relationship?.edges).toEqual([
        { kind: "calls", from: { kind: "agent", id: "agent.bot" }, to: { kind: "tool", id: "tool.write" } },
        { kind: "governed_by", from: { kind: "tool", id: "tool.write" }, to: { kind: "policy", id: "ab".repeat(32) } }
      ])
      expect(journalLines(journal)[1]?.event).toEqual(event)
    }).pipe(runWith({}))
  )

  it.live("sequences continue across appends; status counts and the state index agree", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "demo.journal.jsonl")
      yield* store.start(journal, SESSION)
      for (const tool of ["a", "b", "c"]) yield* store.append(journal, appendInput(tool))
      const status = yield* store.status(journal)
      expect(status).toMatchObject({ event_count: 3, last_sequence: 3, checkpoint_count: 0 })
      expect(eventSequences(journal)).toEqual([1, 2, 3])
      const state = readStateFile(journal)
      expect(state).toMatchObject({ event_count: 3, last_sequence: 3, journal_size_bytes: nodeFs.statSync(journal).size })
      const model = yield* readJournal(journal)
      expect(model.events.map((e) => e.tool_name)).toEqual(["a", "b", "c"])
    }).pipe(runWith({}))
  )

  it.live("16 concurrent fibers get sequences exactly 1..16 in file order", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "concurrent.journal.jsonl")
      yield* store.start(journal, SESSION)
      const events = yield* Effect.all(
        range(1, 16).map((i) => store.append(journal, appendInput(`tool.${i}`))),
        { concurrency: "unbounded" }
      )
      expect(events.map((e) => e.sequence).sort((a, b) => a - b)).toEqual(range(1, 16))
      expect(eventSequences(journal)).toEqual(range(1, 16))
      // File order is assignment order: each event's line is where its sequence says.
      const tools = journalLines(journal).flatMap((l) => (l.event === undefined ? [] : [l.event.tool_name]))
      const bySequence = [...events].sort((a, b) => a.sequence - b.sequence).map((e) => e.tool_name)
      expect(tools).toEqual(bySequence)
      expect(yield* store.status(journal)).toMatchObject({ event_count: 16, last_sequence: 16 })
      expect(nodeFs.existsSync(`${journal}.lock`)).toBe(false)
    }).pipe(runWith({}))
  )

  it.live("concurrent appends under swarm (no append fsync) are just as ordered", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "swarm.journal.jsonl")
      yield* store.start(journal, SESSION)
      yield* Effect.all(
        range(1, 12).map((i) => store.append(journal, appendInput(`tool.${i}`))),
        { concurrency: "unbounded" }
      )
      expect(eventSequences(journal)).toEqual(range(1, 12))
      expect(yield* store.status(journal)).toMatchObject({ event_count: 12, last_sequence: 12 })
    }).pipe(runWith({ GAIT_SESSION_LOCK_PROFILE: "swarm" }))
  )
})

describe("missing journal", () => {
  it.live("append, status, checkpoint and compact fail with SessionJournalMissing and create no journal", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const dir = tempDir()
      const journal = path.join(dir, "missing.journal.jsonl")
      const operations: ReadonlyArray<Effect.Effect<unknown, SessionStoreError>> = [
        store.append(journal, appendInput("tool.write")),
        store.status(journal),
        store.checkpoint(journal, { out: path.join(dir, "cp.zip") }),
        store.compact(journal, { dryRun: false })
      ]
      for (const operation of operations) {
        const error = failureOf(yield* Effect.exit(operation), SessionJournalMissing)
        expect(error.path).toBe(journal)
        expect(error.message).toContain("no such file or directory")
      }
      expect(nodeFs.readdirSync(dir)).toEqual([])
    }).pipe(runWith({}))
  )

  it.live("a journal path that is a directory is not reported as a missing journal", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "dir.journal.jsonl")
      nodeFs.mkdirSync(journal)
      // readJournal reports it as an unreadable journal; the store operations must agree.
      const read = failureOf(yield* Effect.exit(readJournal(journal)), SessionJournalInvalid)
      expect(read.detail).toMatch(/^open session journal: /)
      const operations: ReadonlyArray<Effect.Effect<unknown, SessionStoreError>> = [store.append(journal, appendInput("tool.write")), store.status(journal)]
      for (const operation of operations) {
        const error = failureOf(yield* Effect.exit(operation), SessionJournalInvalid)
        expect(error.path).toBe(journal)
      }
    }).pipe(runWith({}))
  )

  it.live("readJournal on a missing file is SessionJournalMissing", () =>
    Effect.gen(function* () {
      const journal = path.join(tempDir(), "nope.jsonl")
      failureOf(yield* Effect.exit(readJournal(journal)), SessionJournalMissing)
    }).pipe(runWith({}))
  )
})

describe("path normalisation", () => {
  const invalid: ReadonlyArray<readonly [string, string]> = [
    ["", "runpack output path is required"],
    ["   ", "runpack output path is required"],
    [".", "runpack output path is required"],
    ["./", "runpack output path is required"],
    ["a/..", "runpack output path is required"],
    ["/", "runpack output path is required"],
    ["//", "runpack output path is required"],
    ["../x", "relative runpack output path must not traverse parent directories"],
    ["../../x.jsonl", "relative runpack output path must not traverse parent directories"],
    ["a/../../x.jsonl", "relative runpack output path must not traverse parent directories"],
    ["./../x", "relative runpack output path must not traverse parent directories"]
  ]
  for (const [raw, detail] of invalid) {
    it(`normalizeJournalPath(${JSON.stringify(raw)}) → ${detail}`, () => {
      const result = normalizeJournalPath(raw)
      if (Either.isRight(result)) throw new Error(`expected an error, got ${result.right}`)
      expect(result.left).toBeInstanceOf(SessionPathInvalid)
      expect(result.left.detail).toBe(detail)
      expect(result.left.path).toBe(raw)
    })
  }

  const valid: ReadonlyArray<readonly [string, string]> = [
    ["sessions/demo.jsonl", "sessions/demo.jsonl"],
    ["  sessions//demo.jsonl  ", "sessions/demo.jsonl"],
    ["./sessions/./demo.jsonl", "sessions/demo.jsonl"],
    ["x/../y.jsonl", "y.jsonl"],
    ["/tmp/a/../b.jsonl", "/tmp/b.jsonl"],
    ["/../b.jsonl", "/b.jsonl"],
    ["sessions/demo.jsonl/", "sessions/demo.jsonl"]
  ]
  for (const [raw, cleaned] of valid) {
    it(`normalizeJournalPath(${JSON.stringify(raw)}) → ${cleaned}`, () => {
      expect(normalizeJournalPath(raw)).toEqual(Either.right(cleaned))
    })
  }

  it.live("every store operation rejects bad journal paths before touching the disk", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      for (const raw of ["../x", "", "."]) {
        const operations: ReadonlyArray<Effect.Effect<unknown, SessionStoreError>> = [
          store.start(raw, SESSION),
          store.append(raw, appendInput("tool.write")),
          store.status(raw),
          store.checkpoint(raw, { out: "cp.zip" }),
          store.compact(raw, { dryRun: true })
        ]
        for (const operation of operations) {
          const error = failureOf(yield* Effect.exit(operation), SessionPathInvalid)
          expect(error.path).toBe(raw)
        }
      }
      expect(nodeFs.existsSync(path.resolve("..", "x.lock"))).toBe(false)
    }).pipe(runWith({}))
  )

  it.live("checkpoint --out, --chain-out and compact --out are normalised too", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const journal = path.join(tempDir(), "demo.journal.jsonl")
      yield* store.start(journal, SESSION)
      yield* store.append(journal, appendInput("tool.write"))
      const badOut = failureOf(yield* Effect.exit(store.checkpoint(journal, { out: "../cp.zip" })), SessionPathInvalid)
      expect(badOut.detail).toBe("relative runpack output path must not traverse parent directories")
      failureOf(yield* Effect.exit(store.checkpoint(journal, { out: " " })), SessionPathInvalid)
      failureOf(
        yield* Effect.exit(store.checkpoint(journal, { out: path.join(path.dirname(journal), "cp.zip"), chainOut: "../chain.json" })),
        SessionPathInvalid
      )
      failureOf(yield* Effect.exit(store.compact(journal, { out: "../compacted.jsonl", dryRun: false })), SessionPathInvalid)
      // Nothing was checkpointed by the rejected calls.
      expect((yield* store.status(journal)).checkpoint_count).toBe(0)
    }).pipe(runWith({}))
  )

  it.live("an unclean absolute journal path is the same session as its clean form", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const dir = tempDir()
      const journal = path.join(dir, "demo.journal.jsonl")
      yield* store.start(`${dir}//sub/../demo.journal.jsonl`, SESSION)
      const event = yield* store.append(`  ${dir}/./demo.journal.jsonl `, appendInput("tool.write"))
      expect(event.sequence).toBe(1)
      expect(eventSequences(journal)).toEqual([1])
      expect(nodeFs.existsSync(`${journal}.state.json`)).toBe(true)
      expect(nodeFs.existsSync(path.join(dir, "sub"))).toBe(false)
    }).pipe(runWith({}))
  )
})
