/**
 * `gait run session start|append|status|checkpoint|compact` and `gait verify session-chain` as real
 * processes on real files (spec session.md §1, §3, §6.2, §9 cmd/gait): the user flow of the issue,
 * lock contention as a classified error, torn-tail repair, bad input (exit code, one error line or
 * envelope, nothing partial left behind) and signed chains. Concurrency and kill -9 are in
 * session-durability.test.ts.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { unzipSync, zipSync } from "fflate"
import { afterAll, describe, expect, it } from "vitest"
import type { CliResult } from "../helpers/cli.js"
import {
  COMPACTION_KEYS,
  type ChainFile,
  type CheckpointPayload,
  checkpointDigest,
  type EventPayload,
  expectContiguous,
  expectNoLeftovers,
  expectStateMatchesJournal,
  gaitIn,
  HEX64,
  LOCK_KEYS_WITH_HOLDER,
  type LockDiagnosticBody,
  okSession,
  okText,
  RFC3339_UTC,
  readJournal,
  readState,
  STATUS_KEYS,
  type StatusPayload,
  type SessionError,
  sessionEnvelope,
  sessionTextError,
  tempFiles,
  writeForeignLock
} from "./fixtures/session/session.js"
import { filesIn, jsonLine, PACKAGE_VERSION, scratch } from "./fixtures/support.js"

const dirs = scratch()
afterAll(dirs.cleanup)

const J = "sessions/demo.journal.jsonl"
const CHAIN = "sessions/demo.journal_chain.json"
const SESSION = "sess_demo"
const RUN = "run_demo"
const SESSION_EXPLAIN = "Manage append-only long-running session journals and emit verifiable checkpoint runpacks with chain linkage."

type Gait = ReturnType<typeof gaitIn>

/** A session with `events` appended, in a fresh working directory. */
const newSession = (events = 0, journal = J): { readonly dir: string; readonly gait: Gait } => {
  const dir = dirs.dir("gait-session-")
  const gait = gaitIn(dir)
  expect(gait(["run", "session", "start", "--journal", journal, "--session-id", SESSION, "--run-id", RUN]).code).toBe(0)
  for (let i = 1; i <= events; i++) {
    const r = gait(["run", "session", "append", "--journal", journal, "--tool", "tool.write", "--verdict", "allow", "--intent-id", `intent_${i}`])
    expect(r.code, r.stdout).toBe(0)
  }
  return { dir, gait }
}

/** Every file under `dir` with its bytes, to prove a failed command changed nothing. */
const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(
    filesIn(dir).map((name) => {
      const full = path.join(dir, name)
      return [name, statSync(full).isDirectory() ? "<dir>" : readFileSync(full).toString("base64")]
    })
  )

const bodyOf = <A>(body: Record<string, unknown>, key: string): A => body[key] as A

// ------------------------------------------------------------------------------------------------

describe("session user flow (start → append ×3 → checkpoint → compact → verify → append → checkpoint → verify)", () => {
  it("keeps sequences, checkpoints and chain verification intact, with the documented JSON and text outputs", () => {
    const dir = dirs.dir("gait-session-flow-")
    const gait = gaitIn(dir)
    const abs = path.join(dir, J)

    // start (JSON)
    const startArgs = ["run", "session", "start", "--journal", J, "--session-id", SESSION, "--run-id", RUN, "--json"]
    const start = okSession(gait(startArgs), startArgs, ["journal", "operation", "status"])
    expect(start.operation).toBe("start")
    expect(start.journal).toBe(J)
    const status0 = bodyOf<StatusPayload>(start, "status")
    expect(Object.keys(status0)).toEqual(STATUS_KEYS)
    expect(status0).toMatchObject({ session_id: SESSION, run_id: RUN, event_count: 0, checkpoint_count: 0, last_sequence: 0 })
    expect(status0.created_at).toMatch(RFC3339_UTC)
    expect(status0.started_at).toBe(status0.created_at)
    const header = readJournal(abs).header
    expect(header).toMatchObject({
      schema_id: "gait.runpack.session_journal",
      schema_version: "1.0.0",
      producer_version: PACKAGE_VERSION,
      session_id: SESSION,
      run_id: RUN,
      events: []
    })
    expect(filesIn(dir)).toEqual(["sessions", "sessions/demo.journal.jsonl", "sessions/demo.journal.jsonl.state.json"])
    const headerBytes = readFileSync(abs)

    // start again (text): idempotent, journal untouched
    okText(gait(["run", "session", "start", "--journal", J, "--session-id", SESSION, "--run-id", RUN]), [
      `session start: session_id=${SESSION} run_id=${RUN} events=0 checkpoints=0 last_sequence=0`,
      `journal: ${J}`
    ])
    expect(readFileSync(abs)).toEqual(headerBytes)

    // three appends: JSON, JSON, text
    const policyDigest = "AB".repeat(32)
    const append1Args = [
      "run",
      "session",
      "append",
      "--journal",
      J,
      "--tool",
      " tool.write ",
      "--verdict",
      "allow",
      "--intent-id",
      "intent_1",
      "--trace-id",
      "trace_1",
      "--policy-digest",
      policyDigest,
      "--reason-codes",
      " rule_b,rule_a, rule_b,,rule_c ",
      "--violations",
      "z_violation,y_violation,z_violation",
      "--json"
    ]
    const append1 = okSession(gait(append1Args), append1Args, ["event", "journal", "operation"])
    expect(append1).toMatchObject({ operation: "append", journal: J })
    const event1 = bodyOf<EventPayload>(append1, "event")
    expect(event1).toMatchObject({
      schema_id: "gait.runpack.session_event",
      schema_version: "1.0.0",
      producer_version: PACKAGE_VERSION,
      session_id: SESSION,
      run_id: RUN,
      sequence: 1,
      intent_id: "intent_1",
      tool_name: "tool.write",
      trace_id: "trace_1",
      policy_digest: policyDigest.toLowerCase(),
      verdict: "allow",
      reason_codes: ["rule_a", "rule_b", "rule_c"],
      violations: ["y_violation", "z_violation"]
    })
    expect(event1.created_at).toMatch(RFC3339_UTC)
    expect(event1.relationship).toMatchObject({ parent_ref: { kind: "session", id: SESSION }, parent_record_id: SESSION })

    const append2Args = ["run", "session", "append", "--journal", J, "--tool", "tool.read", "--verdict", " BLOCK ", "--intent-id", "intent_2", "--reason-codes", "x,x", "--json"]
    const event2 = bodyOf<EventPayload>(okSession(gait(append2Args), append2Args, ["event", "journal", "operation"]), "event")
    expect(event2).toMatchObject({ sequence: 2, verdict: "block", reason_codes: ["x"], intent_id: "intent_2" })
    expect(event2).not.toHaveProperty("violations")

    okText(gait(["run", "session", "append", "--journal", J, "--tool", "tool\twrite\u0007", "--verdict", "Require_Approval", "--intent-id", "intent_3"]), [
      "session append: sequence=3 tool=redacted verdict=require_approval",
      `journal: ${J}`
    ])

    // status, both modes
    const statusArgs = ["run", "session", "status", "--journal", J, "--json"]
    const status3 = bodyOf<StatusPayload>(okSession(gait(statusArgs), statusArgs, ["journal", "operation", "status"]), "status")
    expect(status3).toEqual({ ...status0, event_count: 3, last_sequence: 3 })
    okText(gait(["run", "session", "status", "--journal", J]), [
      `session status: session_id=${SESSION} run_id=${RUN} events=3 checkpoints=0 last_sequence=3`,
      `journal: ${J}`
    ])

    // checkpoint 1 covers 1..3
    const cp1Args = ["run", "session", "checkpoint", "--journal", J, "--out", "runpacks/cp_0001.zip", "--json"]
    const cp1Body = okSession(gait(cp1Args), cp1Args, ["chain_path", "checkpoint", "journal", "operation"])
    expect(cp1Body).toMatchObject({ operation: "checkpoint", journal: J, chain_path: CHAIN })
    const cp1 = bodyOf<CheckpointPayload>(cp1Body, "checkpoint")
    expect(cp1).toMatchObject({
      schema_id: "gait.runpack.session_checkpoint",
      schema_version: "1.0.0",
      producer_version: PACKAGE_VERSION,
      session_id: SESSION,
      run_id: RUN,
      checkpoint_index: 1,
      sequence_start: 1,
      sequence_end: 3,
      runpack_path: "runpacks/cp_0001.zip"
    })
    expect(cp1).not.toHaveProperty("prev_checkpoint_digest")
    expect(cp1.manifest_digest).toMatch(HEX64)
    expect(cp1.checkpoint_digest).toBe(checkpointDigest(cp1))
    expect(existsSync(path.join(dir, "runpacks/cp_0001.zip"))).toBe(true)
    const zip = unzipSync(readFileSync(path.join(dir, "runpacks/cp_0001.zip")))
    const manifest = JSON.parse(new TextDecoder().decode(zip["manifest.json"])) as { run_id: string; manifest_digest: string }
    expect(manifest.run_id).toBe(`${RUN}_cp_0001`)
    expect(manifest.manifest_digest).toBe(cp1.manifest_digest)
    const intents = new TextDecoder()
      .decode(zip["intents.jsonl"])
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => (JSON.parse(l) as { intent_id: string }).intent_id)
    expect(intents).toEqual(["intent_1", "intent_2", "intent_3"])
    const chain1 = JSON.parse(readFileSync(path.join(dir, CHAIN), "utf8")) as ChainFile
    expect(chain1).toMatchObject({ schema_id: "gait.runpack.session_chain", schema_version: "1.0.0", session_id: SESSION, run_id: RUN })
    expect(chain1.checkpoints).toEqual([cp1])
    expect(readState(abs)).toMatchObject({ checkpoint_count: 1, last_checkpoint_sequence: 3, last_checkpoint_digest: cp1.checkpoint_digest })

    // compact: dry run (text) writes nothing; the real run prunes events 1..3
    const beforeCompact = readFileSync(abs)
    const dry = gait(["run", "session", "compact", "--journal", J, "--dry-run"])
    okText(dry, [
      new RegExp(`^session compact: compacted=true dry_run=true events=3->0 checkpoints=1 bytes=${beforeCompact.length}->\\d+$`),
      `journal: ${J}`,
      `output: ${J}`
    ])
    expect(readFileSync(abs)).toEqual(beforeCompact)
    const compactArgs = ["run", "session", "compact", "--journal", J, "--json"]
    const compaction = bodyOf<Record<string, unknown>>(okSession(gait(compactArgs), compactArgs, ["compaction", "journal", "operation"]), "compaction")
    expect(Object.keys(compaction)).toEqual(COMPACTION_KEYS)
    expect(compaction).toEqual({
      journal_path: J,
      output_path: J,
      dry_run: false,
      compacted: true,
      events_before: 3,
      events_after: 0,
      checkpoints: 1,
      last_checkpoint_sequence: 3,
      bytes_before: beforeCompact.length,
      bytes_after: statSync(abs).size
    })
    const compacted = readJournal(abs)
    expect(compacted.records.map((r) => r.record_type)).toEqual(["header", "checkpoint"])
    expect(compacted.checkpoints).toEqual([cp1])
    expectStateMatchesJournal(abs)

    // verify (text and JSON)
    okText(gait(["verify", "session-chain", "--chain", CHAIN]), [`verify session-chain: ok (${CHAIN})`, `session=${SESSION} run=${RUN} checkpoints=1`])
    const verifyArgs = ["verify", "session-chain", "--chain", CHAIN, "--json"]
    const verified = okSession(gait(verifyArgs), verifyArgs, ["chain_path", "checkpoints_checked", "run_id", "session_id"])
    expect(verified).toMatchObject({ chain_path: CHAIN, checkpoints_checked: 1, session_id: SESSION, run_id: RUN })

    // every event was compacted away: the sequence continues at 4
    okText(gait(["run", "session", "status", "--journal", J]), [
      `session status: session_id=${SESSION} run_id=${RUN} events=0 checkpoints=1 last_sequence=3`,
      `journal: ${J}`
    ])
    const append4Args = ["run", "session", "append", "--journal", J, "--tool", "tool.write", "--verdict", "dry_run", "--intent-id", "intent_4", "--json"]
    expect(bodyOf<EventPayload>(okSession(gait(append4Args), append4Args, ["event", "journal", "operation"]), "event")).toMatchObject({
      sequence: 4,
      verdict: "dry_run"
    })

    // checkpoint 2 (text, with --chain-out) links to checkpoint 1
    okText(gait(["run", "session", "checkpoint", "--journal", J, "--out", "runpacks/cp_0002.zip", "--chain-out", "sessions/copy_chain.json"]), [
      "session checkpoint: index=2 runpack=redacted range=4..4",
      "session chain: sessions/copy_chain.json"
    ])
    const chain2 = JSON.parse(readFileSync(path.join(dir, CHAIN), "utf8")) as ChainFile
    expect(readFileSync(path.join(dir, "sessions/copy_chain.json"), "utf8")).toBe(readFileSync(path.join(dir, CHAIN), "utf8"))
    expect(chain2.checkpoints).toHaveLength(2)
    const cp2 = chain2.checkpoints[1] as CheckpointPayload
    expect(cp2).toMatchObject({ checkpoint_index: 2, sequence_start: 4, sequence_end: 4, prev_checkpoint_digest: cp1.checkpoint_digest })
    expect(cp2.checkpoint_digest).toBe(checkpointDigest(cp2))
    expect(chain2.checkpoints[0]).toEqual(cp1)

    okText(gait(["verify", "session-chain", "--chain", CHAIN]), [`verify session-chain: ok (${CHAIN})`, `session=${SESSION} run=${RUN} checkpoints=2`])
    const positionalArgs = ["verify", "session-chain", "sessions/copy_chain.json", "--json"]
    expect(okSession(gait(positionalArgs), positionalArgs, ["chain_path", "checkpoints_checked", "run_id", "session_id"]).checkpoints_checked).toBe(2)

    // the journal tells the same story, and nothing transient is left behind
    const final = readJournal(abs)
    expect(final.records.map((r) => r.record_type)).toEqual(["header", "checkpoint", "event", "checkpoint"])
    expect(expectContiguous(final)).toBe(4)
    expectStateMatchesJournal(abs)
    expectNoLeftovers(abs)
    expect(filesIn(dir)).toEqual([
      "runpacks",
      "runpacks/cp_0001.zip",
      "runpacks/cp_0002.zip",
      "sessions",
      "sessions/copy_chain.json",
      "sessions/demo.journal.jsonl",
      "sessions/demo.journal.jsonl.state.json",
      "sessions/demo.journal_chain.json"
    ])
  })

  it("sanitizes user data in text lines and accepts absolute paths", () => {
    const dir = dirs.dir("gait-session-text-")
    const gait = gaitIn(dir)
    const journal = path.join(dir, "a b", "s.jsonl")
    okText(gait(["run", "session", "start", "--journal", journal, "--session-id", "sess\tone\u0007", "--run-id", "run\r\n two"]), [
      "session start: session_id=sess one run_id=run two events=0 checkpoints=0 last_sequence=0",
      `journal: ${journal}`
    ])
    okText(gait(["run", "session", "append", "--journal", journal, "--tool", "t", "--verdict", "allow"]), [
      "session append: sequence=1 tool=redacted verdict=allow",
      `journal: ${journal}`
    ])
    okText(gait(["run", "session", "checkpoint", "--journal", journal, "--out", path.join(dir, "cp.zip")]), [
      "session checkpoint: index=1 runpack=redacted range=1..1",
      `session chain: ${path.join(dir, "a b", "s_chain.json")}`
    ])
    okText(gait(["run", "session", "compact", "--journal", journal, "--out", path.join(dir, "compacted.jsonl")]), [
      /^session compact: compacted=true dry_run=false events=1->0 checkpoints=1 bytes=\d+->\d+$/,
      `journal: ${journal}`,
      `output: ${path.join(dir, "compacted.jsonl")}`
    ])
    // --out elsewhere leaves the source journal as it was
    expect(readJournal(journal).events).toHaveLength(1)
    expect(readJournal(path.join(dir, "compacted.jsonl")).events).toHaveLength(0)
    okText(gait(["run", "session", "start", "--explain"]), [SESSION_EXPLAIN])
  })
})

// ------------------------------------------------------------------------------------------------

describe("torn final journal line", () => {
  const tear = (journal: string) => writeFileSync(journal, '{"record_type":"event","event":{"schema_id":"gait.runpack.sess', { flag: "a" })

  it("is repaired by the next append, which gets the next sequence and prints exactly one JSON line", () => {
    const { dir, gait } = newSession(2)
    const abs = path.join(dir, J)
    const intact = readFileSync(abs)
    tear(abs)
    const args = ["run", "session", "append", "--journal", J, "--tool", "t", "--verdict", "allow", "--intent-id", "after_tear", "--json"]
    const result = gait(args)
    expect(result.code, result.stdout).toBe(0)
    // The repair may be reported on stderr, but stdout stays one JSON line (spec §0.4).
    const body = jsonLine(result, args)
    expect(bodyOf<EventPayload>(body, "event")).toMatchObject({ sequence: 3, intent_id: "after_tear" })
    const read = readJournal(abs)
    expect(readFileSync(abs).subarray(0, intact.length)).toEqual(intact)
    expect(read.events.map((e) => e.sequence)).toEqual([1, 2, 3])
    expectStateMatchesJournal(abs)
    expectNoLeftovers(abs)
  })

  it("is repaired by status, whose text output stays the two documented lines", () => {
    const { dir, gait } = newSession(1)
    const abs = path.join(dir, J)
    tear(abs)
    const result = gait(["run", "session", "status", "--journal", J])
    expect(result.code, result.stdout).toBe(0)
    expect(result.stdout).toBe(`session status: session_id=${SESSION} run_id=${RUN} events=1 checkpoints=0 last_sequence=1\njournal: ${J}\n`)
    expect(readJournal(abs).tornTail).toBe(false)
    expectStateMatchesJournal(abs)
  })

  it("is repaired by checkpoint and compact (which read the whole journal)", () => {
    const { dir, gait } = newSession(2)
    const abs = path.join(dir, J)
    tear(abs)
    const cp = gait(["run", "session", "checkpoint", "--journal", J, "--out", "cp.zip", "--json"])
    expect(cp.code, cp.stdout).toBe(0)
    tear(abs)
    const compact = gait(["run", "session", "compact", "--journal", J, "--json"])
    expect(compact.code, compact.stdout).toBe(0)
    const read = readJournal(abs)
    expect(read.records.map((r) => r.record_type)).toEqual(["header", "checkpoint"])
    expect(expectContiguous(read)).toBe(2)
    expect(gait(["verify", "session-chain", "--chain", CHAIN]).code).toBe(0)
  })

  it("a corrupt line that is not the last one is an error, not a repair", () => {
    const { dir, gait } = newSession(2)
    const abs = path.join(dir, J)
    const lines = readFileSync(abs, "utf8").split("\n")
    lines.splice(2, 0, '{"record_type":"event","event":{"sequence":')
    writeFileSync(abs, lines.join("\n"))
    const before = snapshot(dir)
    const args = ["run", "session", "append", "--journal", J, "--tool", "t", "--verdict", "allow", "--json"]
    const body = sessionEnvelope(gait(args), args, { exitCode: 6, error: /^session journal parse line 3: /, errorCode: "session_journal_invalid" })
    expect(body.line).toBe(3)
    expect(snapshot(dir)).toEqual(before)
  })
})

// ------------------------------------------------------------------------------------------------

describe("lock contention through the CLI", () => {
  const appendArgs = (journal: string) => ["run", "session", "append", "--journal", journal, "--tool", "t", "--verdict", "allow", "--json"]

  const contention = (result: CliResult, args: ReadonlyArray<string>): { body: Record<string, unknown>; lock: LockDiagnosticBody } => {
    const body = sessionEnvelope(result, args, {
      exitCode: 1,
      error: /^session state contention: lock timeout \(path=.* waited=\d+ms attempts=\d+ timeout=\d+ms retry=\d+ms profile=(standard|swarm)( holder_pid=\d+| holder=unreadable-lock-file)?\)$/,
      errorCode: "session_lock_contention",
      category: "state_contention",
      retryable: true
    })
    return { body, lock: bodyOf<LockDiagnosticBody>(body, "lock") }
  }

  it("a fresh foreign lock times out with the classified envelope (exit 1, retryable, tuning hint, lock diagnostic)", () => {
    const { dir, gait } = newSession(1)
    const abs = path.join(dir, J)
    const lockPath = writeForeignLock(abs, new Date(), 4242)
    const lockBytes = readFileSync(lockPath)
    const before = readFileSync(abs)
    const args = appendArgs(abs)
    const started = performance.now()
    const result = gait(args, { GAIT_SESSION_LOCK_TIMEOUT: "200ms" })
    const elapsed = performance.now() - started
    const { body, lock } = contention(result, args)
    expect(elapsed).toBeGreaterThanOrEqual(200)
    expect(body.error).toContain(`path=${lockPath} `)
    expect(body.error).toContain("timeout=200ms retry=50ms profile=standard holder_pid=4242)")
    expect(body.hint).toMatch(/GAIT_SESSION_LOCK_TIMEOUT/)
    expect(body.hint).toMatch(/GAIT_SESSION_LOCK_PROFILE=swarm/)
    expect(Object.keys(lock)).toEqual(LOCK_KEYS_WITH_HOLDER)
    expect(lock).toMatchObject({
      path: lockPath,
      holder_pid: 4242,
      holder_readable: true,
      timeout_ms: 200,
      retry_ms: 50,
      stale_after_ms: 300_000,
      profile: "standard"
    })
    expect(lock.waited_ms).toBeGreaterThanOrEqual(200)
    expect(lock.waited_ms).toBeLessThan(200 + 50 + 1_000)
    expect(lock.attempts).toBeGreaterThanOrEqual(2)
    expect(lock.holder_age_ms).toBeGreaterThanOrEqual(0)
    expect(lock.holder_age_ms).toBeLessThan(30_000)
    // gait never removes a lock it does not own, and wrote nothing
    expect(readFileSync(lockPath)).toEqual(lockBytes)
    expect(readFileSync(abs)).toEqual(before)

    // text mode: the same message and the tuning hint
    const text = gait(["run", "session", "status", "--journal", abs], { GAIT_SESSION_LOCK_TIMEOUT: "200ms" })
    sessionTextError(text, "run session status", { exitCode: 1, error: /^session state contention: lock timeout \(/ })
    expect(text.stdout).toMatch(/\nhint: .*GAIT_SESSION_LOCK_TIMEOUT.*GAIT_SESSION_LOCK_PROFILE=swarm/)
  })

  it("reports the swarm profile's settings and honours GAIT_SESSION_LOCK_RETRY", () => {
    const { dir, gait } = newSession(0)
    const abs = path.join(dir, J)
    writeForeignLock(abs, new Date(), 777)
    const args = appendArgs(abs)
    const { body, lock } = contention(gait(args, { GAIT_SESSION_LOCK_PROFILE: " SWARM ", GAIT_SESSION_LOCK_TIMEOUT: "200ms" }), args)
    expect(lock).toMatchObject({ profile: "swarm", timeout_ms: 200, retry_ms: 20, stale_after_ms: 600_000, holder_pid: 777 })
    expect(lock.attempts).toBeGreaterThanOrEqual(2)
    const retry = contention(gait(args, { GAIT_SESSION_LOCK_TIMEOUT: "300ms", GAIT_SESSION_LOCK_RETRY: "100ms" }), args).lock
    expect(retry).toMatchObject({ profile: "standard", timeout_ms: 300, retry_ms: 100 })
    expect(retry.attempts).toBeGreaterThanOrEqual(2)
    expect(retry.attempts).toBeLessThanOrEqual(5)
    // already on the swarm profile: the hint still names the timeout, but does not suggest switching to swarm
    expect(body.hint).toMatch(/GAIT_SESSION_LOCK_TIMEOUT/)
    expect(body.hint).not.toMatch(/use GAIT_SESSION_LOCK_PROFILE=swarm/)
  })

  it("a stale lock is taken over (created_at 10 minutes ago, or older than GAIT_SESSION_LOCK_STALE_AFTER)", () => {
    const { dir, gait } = newSession(0)
    const abs = path.join(dir, J)
    writeForeignLock(abs, new Date(Date.now() - 10 * 60_000))
    const args = appendArgs(abs)
    const first = okSession(gait(args, { GAIT_SESSION_LOCK_STALE_AFTER: "1s", GAIT_SESSION_LOCK_TIMEOUT: "2s" }), args, ["event", "journal", "operation"])
    expect(bodyOf<EventPayload>(first, "event").sequence).toBe(1)
    expectNoLeftovers(abs)

    // 10 minutes is stale under the standard 5m default as well
    writeForeignLock(abs, new Date(Date.now() - 10 * 60_000))
    expect(bodyOf<EventPayload>(okSession(gait(args), args, ["event", "journal", "operation"]), "event").sequence).toBe(2)

    // 5 s old: fresh by default, stale with GAIT_SESSION_LOCK_STALE_AFTER=1s
    writeForeignLock(abs, new Date(Date.now() - 5_000))
    const fresh = contention(gait(args, { GAIT_SESSION_LOCK_TIMEOUT: "200ms" }), args).lock
    expect(fresh.holder_age_ms).toBeGreaterThanOrEqual(5_000)
    expect(bodyOf<EventPayload>(okSession(gait(args, { GAIT_SESSION_LOCK_STALE_AFTER: "1s" }), args, ["event", "journal", "operation"]), "event").sequence).toBe(3)
    expectNoLeftovers(abs)
    expect(readJournal(abs).events.map((e) => e.sequence)).toEqual([1, 2, 3])
  })

  it("a breaker file left by a process killed while breaking a lock does not make the next holder leave its lock behind", () => {
    const { dir, gait } = newSession(0)
    const abs = path.join(dir, J)
    // `<journal>.lock.breaker` is held for a few syscalls while a lock is removed; a SIGKILL there leaves it.
    writeFileSync(`${abs}.lock.breaker`, "")
    const args = appendArgs(abs)
    const first = gait(args)
    expect(first.code, first.stdout).toBe(0)
    expect(existsSync(`${abs}.lock`), "the successful append released its lock").toBe(false)
    const second = gait(args, { GAIT_SESSION_LOCK_TIMEOUT: "500ms" })
    expect(second.code, second.stdout).toBe(0)
    expect(readJournal(abs).events.map((e) => e.sequence)).toEqual([1, 2])
  })

  it("a garbage lock file is never stale: it times out and the envelope says holder_readable false", () => {
    const { dir, gait } = newSession(0)
    const abs = path.join(dir, J)
    const lockPath = `${abs}.lock`
    writeFileSync(lockPath, "not a lock\n")
    const hourAgo = new Date(Date.now() - 3_600_000)
    utimesSync(lockPath, hourAgo, hourAgo)
    const args = appendArgs(abs)
    const { body, lock } = contention(gait(args, { GAIT_SESSION_LOCK_TIMEOUT: "200ms", GAIT_SESSION_LOCK_STALE_AFTER: "1s" }), args)
    expect(body.error).toContain("holder=unreadable-lock-file")
    expect(lock.holder_readable).toBe(false)
    expect(lock).not.toHaveProperty("holder_pid")
    expect(lock).not.toHaveProperty("holder_age_ms")
    expect(lock).toMatchObject({ path: lockPath, timeout_ms: 200, retry_ms: 50, stale_after_ms: 1_000, profile: "standard" })
    expect(body.hint).toMatch(/remove it/)
    expect(readFileSync(lockPath, "utf8")).toBe("not a lock\n")
    expect(readJournal(abs).events).toHaveLength(0)
  })
})

// ------------------------------------------------------------------------------------------------

describe("bad input: exit code, one error line or envelope, nothing partial left behind", () => {
  interface Case {
    readonly name: string
    readonly args: ReadonlyArray<string>
    readonly label: string
    readonly expected: SessionError
  }

  const usage = (detail: string | RegExp): SessionError => ({ exitCode: 6, error: detail, errorCode: "invalid_input" })
  const usageCases: ReadonlyArray<Case> = [
    {
      name: "start without --run-id",
      label: "run session start",
      args: ["run", "session", "start", "--journal", J, "--session-id", "s"],
      expected: usage("--journal, --session-id, and --run-id are required")
    },
    {
      name: "start with a blank --session-id",
      label: "run session start",
      args: ["run", "session", "start", "--journal", "fresh.jsonl", "--session-id", "   ", "--run-id", "r"],
      expected: usage("--journal, --session-id, and --run-id are required")
    },
    {
      name: "append without --verdict",
      label: "run session append",
      args: ["run", "session", "append", "--journal", J, "--tool", "t"],
      expected: usage("--journal, --tool, and --verdict are required")
    },
    {
      name: "append with a blank --tool",
      label: "run session append",
      args: ["run", "session", "append", "--journal", J, "--tool", " ", "--verdict", "allow"],
      expected: usage("--journal, --tool, and --verdict are required")
    },
    {
      name: "append with an empty --journal",
      label: "run session append",
      args: ["run", "session", "append", "--journal", "", "--tool", "t", "--verdict", "allow"],
      expected: usage("--journal, --tool, and --verdict are required")
    },
    {
      name: "append with an unknown verdict",
      label: "run session append",
      args: ["run", "session", "append", "--journal", J, "--tool", "t", "--verdict", "maybe"],
      expected: usage("unsupported --verdict value (expected allow|block|dry_run|require_approval)")
    },
    {
      name: "append with a positional argument",
      label: "run session append",
      args: ["run", "session", "append", "--journal", J, "--tool", "t", "--verdict", "allow", "extra"],
      expected: usage(/extra/)
    },
    { name: "status without --journal", label: "run session status", args: ["run", "session", "status"], expected: usage("--journal is required") },
    {
      name: "checkpoint without --out",
      label: "run session checkpoint",
      args: ["run", "session", "checkpoint", "--journal", J],
      expected: usage("--journal and --out are required")
    },
    { name: "compact without --journal", label: "run session compact", args: ["run", "session", "compact", "--dry-run"], expected: usage("--journal is required") },
    {
      name: "a journal path that climbs out of the working tree",
      label: "run session status",
      args: ["run", "session", "status", "--journal", "../elsewhere.jsonl"],
      expected: { exitCode: 6, error: "relative runpack output path must not traverse parent directories", errorCode: "session_path_invalid" }
    },
    { name: "session without a subcommand", label: "run session", args: ["run", "session"], expected: usage(/requires a subcommand: start, append, status, checkpoint, compact/) },
    { name: "verify without a chain", label: "verify session-chain", args: ["verify", "session-chain"], expected: usage("expected --chain <session_chain.json>") },
    {
      name: "verify with --chain and a positional chain",
      label: "verify session-chain",
      args: ["verify", "session-chain", "--chain", CHAIN, "other.json"],
      expected: usage("expected --chain <session_chain.json>")
    },
    {
      name: "verify with an unknown profile",
      label: "verify session-chain",
      args: ["verify", "session-chain", "--chain", CHAIN, "--profile", "paranoid"],
      expected: usage('unsupported --profile value "paranoid" (expected standard or strict)')
    },
    {
      name: "verify --profile strict without a key",
      label: "verify session-chain",
      args: ["verify", "session-chain", "--chain", CHAIN, "--profile", "strict"],
      expected: usage("strict verify profile requires --public-key/--public-key-env or private key source")
    },
    {
      name: "verify a chain that does not exist",
      label: "verify session-chain",
      args: ["verify", "session-chain", "--chain", "sessions/none_chain.json"],
      expected: { exitCode: 6, error: /^read session chain: /, errorCode: "session_chain_invalid" }
    },
    {
      name: "verify a journal passed as the chain",
      label: "verify session-chain",
      args: ["verify", "session-chain", "--chain", J],
      expected: { exitCode: 6, error: /^parse session chain: /, errorCode: "session_chain_invalid" }
    }
  ]

  // One session for every usage case: none of them may change a byte of it.
  let shared: { readonly dir: string; readonly gait: Gait } | undefined
  const sharedSession = () => {
    shared ??= newSession(1)
    return shared
  }

  for (const c of usageCases) {
    it(`${c.name}: exit ${c.expected.exitCode} (JSON and text)`, () => {
      const { dir, gait } = sharedSession()
      const before = snapshot(dir)
      const jsonArgs = [...c.args, "--json"]
      sessionEnvelope(gait(jsonArgs), jsonArgs, c.expected)
      sessionTextError(gait(c.args), c.label, c.expected)
      expect(snapshot(dir)).toEqual(before)
    })
  }

  it("an unknown session subcommand exits 6 and names the session subcommands", () => {
    const { dir, gait } = newSession(0)
    const before = snapshot(dir)
    const args = ["run", "session", "bogus", "--journal", J, "--json"]
    const body = sessionEnvelope(gait(args), args, { exitCode: 6, error: /./, errorCode: "invalid_input" })
    expect(body.error).toMatch(/start.*append.*status.*checkpoint.*compact/)
    sessionTextError(gait(["run", "session", "bogus"]), "run session", { exitCode: 6, error: /start.*append.*status.*checkpoint.*compact/ })
    expect(snapshot(dir)).toEqual(before)
  })

  const notJsonl = (content: string) => () => {
    const dir = dirs.dir("gait-session-notjsonl-")
    const gait = gaitIn(dir)
    writeFileSync(path.join(dir, "notes.jsonl"), content)
    const before = snapshot(dir)
    const commands: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
      ["run session status", ["run", "session", "status", "--journal", "notes.jsonl"]],
      ["run session append", ["run", "session", "append", "--journal", "notes.jsonl", "--tool", "t", "--verdict", "allow"]],
      ["run session checkpoint", ["run", "session", "checkpoint", "--journal", "notes.jsonl", "--out", "cp.zip"]],
      ["run session compact", ["run", "session", "compact", "--journal", "notes.jsonl"]],
      ["run session start", ["run", "session", "start", "--journal", "notes.jsonl", "--session-id", "s", "--run-id", "r"]]
    ]
    for (const [label, args] of commands) {
      const jsonArgs = [...args, "--json"]
      const body = sessionEnvelope(gait(jsonArgs), jsonArgs, { exitCode: 6, error: /^session journal parse line 1: /, errorCode: "session_journal_invalid" })
      expect(body).toMatchObject({ path: "notes.jsonl", line: 1 })
      sessionTextError(gait(args), label, { exitCode: 6, error: /^session journal parse line 1: / })
      expect(snapshot(dir), `${label} left the directory as it was`).toEqual(before)
    }
  }

  it("a journal that is not JSONL: exit 6 `session journal parse line 1: …` for every command, file untouched", notJsonl("my notes\nmore notes\n"))

  it("a one-line non-JSONL file without a final newline is not mistaken for a torn record (exit 6, file untouched)", notJsonl("my notes, no newline"))

  it("start on a journal of another session or run: exit 6, journal untouched", () => {
    const { dir, gait } = newSession(1)
    const before = snapshot(dir)
    for (const [sessionId, runId] of [
      ["other_session", RUN],
      [SESSION, "other_run"]
    ] as const) {
      const args = ["run", "session", "start", "--journal", J, "--session-id", sessionId, "--run-id", runId, "--json"]
      const body = sessionEnvelope(gait(args), args, {
        exitCode: 6,
        error: "session journal already initialized with different session/run",
        errorCode: "session_identity_mismatch"
      })
      expect(body).toMatchObject({ path: J, session_id: sessionId, run_id: runId, existing_session_id: SESSION, existing_run_id: RUN })
      sessionTextError(gait(args.slice(0, -1)), "run session start", { exitCode: 6, error: "session journal already initialized with different session/run" })
    }
    expect(snapshot(dir)).toEqual(before)
  })

  it("an unwritable directory (the parent is a regular file): exit 1 io_failure, no temp files, nothing committed", () => {
    const { dir, gait } = newSession(1)
    writeFileSync(path.join(dir, "blocker"), "")
    const before = snapshot(dir)

    const startArgs = ["run", "session", "start", "--journal", "blocker/j.jsonl", "--session-id", "s", "--run-id", "r", "--json"]
    sessionEnvelope(gait(startArgs), startArgs, { exitCode: 1, error: /^acquire session lock: /, errorCode: "session_lock_failed" })
    sessionTextError(gait(startArgs.slice(0, -1)), "run session start", { exitCode: 1, error: /^acquire session lock: / })

    const appendArgs = ["run", "session", "append", "--journal", "blocker/j.jsonl", "--tool", "t", "--verdict", "allow", "--json"]
    sessionEnvelope(gait(appendArgs), appendArgs, { exitCode: 1, error: /^acquire session lock: /, errorCode: "session_lock_failed" })

    const cpArgs = ["run", "session", "checkpoint", "--journal", J, "--out", "blocker/cp.zip", "--json"]
    sessionEnvelope(gait(cpArgs), cpArgs, { exitCode: 1, error: /^write blocker/, errorCode: "artifact_write_failed" })
    sessionTextError(gait(cpArgs.slice(0, -1)), "run session checkpoint", { exitCode: 1, error: /^write blocker/ })

    const compactArgs = ["run", "session", "compact", "--journal", J, "--out", "blocker/c.jsonl", "--json"]
    sessionEnvelope(gait(compactArgs), compactArgs, { exitCode: 1, error: /^write blocker\/c\.jsonl: /, errorCode: "artifact_write_failed" })
    const missingDirArgs = ["run", "session", "compact", "--journal", J, "--out", "no/such/dir/c.jsonl", "--json"]
    sessionEnvelope(gait(missingDirArgs), missingDirArgs, { exitCode: 1, error: /^write no\/such\/dir\/c\.jsonl: /, errorCode: "artifact_write_failed" })

    const after = snapshot(dir)
    expect(tempFiles(Object.keys(after))).toEqual([])
    expect(after).toEqual(before)
    // the failed checkpoint committed nothing: the next one is still index 1 over 1..1
    const retry = gait(["run", "session", "checkpoint", "--journal", J, "--out", "cp.zip", "--json"])
    expect(retry.code, retry.stdout).toBe(0)
    expect(bodyOf<CheckpointPayload>(retry.json(), "checkpoint")).toMatchObject({ checkpoint_index: 1, sequence_start: 1, sequence_end: 1 })
  })

  it("checkpoint with no new events: exit 6, journal untouched, no runpack written", () => {
    const { dir, gait } = newSession(0)
    const args = ["run", "session", "checkpoint", "--journal", J, "--out", "cp.zip", "--json"]
    const before = snapshot(dir)
    const body = sessionEnvelope(gait(args), args, { exitCode: 6, error: "no new session events available for checkpoint", errorCode: "session_no_new_events" })
    expect(body.last_sequence).toBe(0)
    sessionTextError(gait(args.slice(0, -1)), "run session checkpoint", { exitCode: 6, error: "no new session events available for checkpoint" })
    expect(snapshot(dir)).toEqual(before)

    // and again right after a checkpoint
    expect(gait(["run", "session", "append", "--journal", J, "--tool", "t", "--verdict", "allow"]).code).toBe(0)
    expect(gait(args).code).toBe(0)
    const afterFirst = snapshot(dir)
    const again = ["run", "session", "checkpoint", "--journal", J, "--out", "cp2.zip", "--json"]
    expect(sessionEnvelope(gait(again), again, { exitCode: 6, error: "no new session events available for checkpoint", errorCode: "session_no_new_events" }).last_sequence).toBe(1)
    expect(snapshot(dir)).toEqual(afterFirst)
  })

  it("status, append, checkpoint and compact of a missing journal: exit 6, nothing created", () => {
    const dir = dirs.dir("gait-session-missing-")
    const gait = gaitIn(dir)
    for (const [label, args] of [
      ["run session status", ["run", "session", "status", "--journal", "missing.jsonl"]],
      ["run session append", ["run", "session", "append", "--journal", "missing.jsonl", "--tool", "t", "--verdict", "allow"]],
      ["run session checkpoint", ["run", "session", "checkpoint", "--journal", "missing.jsonl", "--out", "cp.zip"]],
      ["run session compact", ["run", "session", "compact", "--journal", "missing.jsonl"]]
    ] as const) {
      const jsonArgs = [...args, "--json"]
      const body = sessionEnvelope(gait(jsonArgs), jsonArgs, {
        exitCode: 6,
        error: "open session journal: missing.jsonl: no such file or directory",
        errorCode: "session_journal_missing"
      })
      expect(body.hint).toMatch(/gait run session start/)
      sessionTextError(gait(args), label, { exitCode: 6, error: "open session journal: missing.jsonl: no such file or directory" })
    }
    expect(filesIn(dir)).toEqual([])
  })

  describe("tampered chains and runpacks", () => {
    /** A session with two checkpoints (1..2 and 3..3), built once; each test tampers with its own copy. */
    let template: string | undefined
    const twoCheckpoints = (): { readonly dir: string; readonly gait: Gait } => {
      if (template === undefined) {
        const s = newSession(2)
        expect(s.gait(["run", "session", "checkpoint", "--journal", J, "--out", "runpacks/cp1.zip"]).code).toBe(0)
        expect(s.gait(["run", "session", "append", "--journal", J, "--tool", "t", "--verdict", "block"]).code).toBe(0)
        expect(s.gait(["run", "session", "checkpoint", "--journal", J, "--out", "runpacks/cp2.zip"]).code).toBe(0)
        expect(s.gait(["verify", "session-chain", "--chain", CHAIN]).code).toBe(0)
        template = s.dir
      }
      const dir = dirs.dir("gait-session-tamper-")
      // runpack paths in the chain are relative to the working directory, so a copy verifies on its own
      cpSync(template, dir, { recursive: true })
      return { dir, gait: gaitIn(dir) }
    }

    const editChain = (dir: string, edit: (chain: ChainFile) => void): void => {
      const file = path.join(dir, CHAIN)
      const chain = JSON.parse(readFileSync(file, "utf8")) as ChainFile
      edit(chain)
      writeFileSync(file, `${JSON.stringify(chain, null, 2)}\n`)
    }

    const failedVerify = (gait: Gait, expected: { readonly linkage?: ReadonlyArray<string | RegExp>; readonly checkpoint?: ReadonlyArray<string | RegExp> }) => {
      const args = ["verify", "session-chain", "--chain", CHAIN, "--json"]
      const result = gait(args)
      expect(result.code, result.stdout).toBe(2)
      expect(result.stderr).toBe("")
      const body = jsonLine(result, args)
      expect(body).toMatchObject({ ok: false, chain_path: CHAIN, session_id: SESSION, run_id: RUN, checkpoints_checked: 2 })
      expect(body).not.toHaveProperty("error")
      const asMatchers = (list: ReadonlyArray<string | RegExp> | undefined) =>
        list === undefined ? undefined : list.map((e) => (typeof e === "string" ? e : expect.stringMatching(e)))
      expect(body.linkage_errors).toEqual(asMatchers(expected.linkage))
      expect(body.checkpoint_errors).toEqual(asMatchers(expected.checkpoint))
      const text = gait(["verify", "session-chain", "--chain", CHAIN])
      expect(text.code).toBe(2)
      const lines = text.stdout.replace(/\n$/, "").split("\n")
      expect(lines[0]).toBe(`verify session-chain failed: ${CHAIN}`)
      expect(lines).toHaveLength(1 + (expected.linkage === undefined ? 0 : 1) + (expected.checkpoint === undefined ? 0 : 1))
      if (expected.linkage !== undefined) expect(lines[1]).toMatch(/^linkage errors: /)
      if (expected.checkpoint !== undefined) expect(lines[lines.length - 1]).toMatch(/^checkpoint errors: checkpoint \d/)
    }

    it("a chain edited by hand (sequence_end of checkpoint 2) fails with exit 2 naming checkpoint 2", () => {
      const { dir, gait } = twoCheckpoints()
      editChain(dir, (chain) => {
        const cp = chain.checkpoints[1] as CheckpointPayload & { sequence_end: number }
        cp.sequence_end = 9
      })
      failedVerify(gait, { linkage: ["checkpoint_digest mismatch at checkpoint 2"] })
    })

    it("a chain whose first checkpoint digest was replaced fails at checkpoint 1 and breaks the link of checkpoint 2", () => {
      const { dir, gait } = twoCheckpoints()
      editChain(dir, (chain) => {
        const cp = chain.checkpoints[0] as CheckpointPayload & { checkpoint_digest: string }
        cp.checkpoint_digest = "0".repeat(64)
      })
      failedVerify(gait, { linkage: ["checkpoint_digest mismatch at checkpoint 1", "prev_checkpoint_digest mismatch at checkpoint 2"] })
    })

    it("one flipped byte in checkpoint 1's zip fails with exit 2 naming checkpoint 1", () => {
      const { dir, gait } = twoCheckpoints()
      const zipPath = path.join(dir, "runpacks/cp1.zip")
      const bytes = readFileSync(zipPath)
      // first local file header: data starts after the 30-byte header, the name and the extra field
      const dataStart = 30 + bytes.readUInt16LE(26) + bytes.readUInt16LE(28)
      const at = dataStart + Math.min(2, bytes.readUInt32LE(18) - 1)
      bytes[at] = (bytes[at] as number) ^ 0x01
      writeFileSync(zipPath, bytes)
      failedVerify(gait, { checkpoint: [/^checkpoint 1 /] })
    })

    it("a rebuilt zip with one edited entry fails the integrity check of checkpoint 2", () => {
      const { dir, gait } = twoCheckpoints()
      const zipPath = path.join(dir, "runpacks/cp2.zip")
      const entries = unzipSync(readFileSync(zipPath))
      const intents = new TextDecoder().decode(entries["intents.jsonl"]).replace('"tool_name":"t"', '"tool_name":"x"')
      entries["intents.jsonl"] = new TextEncoder().encode(intents)
      writeFileSync(zipPath, zipSync(entries))
      failedVerify(gait, { checkpoint: ["checkpoint 2 runpack integrity failure"] })
    })

    it("a missing or emptied runpack fails with exit 2 naming its checkpoint", () => {
      const { dir, gait } = twoCheckpoints()
      rmSync(path.join(dir, "runpacks/cp2.zip"))
      failedVerify(gait, { checkpoint: [/^checkpoint 2 verify error: open zip: runpacks\/cp2\.zip: /] })
      writeFileSync(path.join(dir, "runpacks/cp2.zip"), "")
      failedVerify(gait, { checkpoint: [/^checkpoint 2 verify error: /] })
    })
  })

  it("--help of every session and verify command exits 0 and documents its flags", () => {
    const dir = dirs.dir("gait-session-help-")
    const gait = gaitIn(dir)
    const commands: ReadonlyArray<readonly [ReadonlyArray<string>, ReadonlyArray<string>]> = [
      [["run"], ["session"]],
      [["run", "session"], ["start", "append", "status", "checkpoint", "compact"]],
      [["run", "session", "start"], ["--journal", "--session-id", "--run-id", "--json"]],
      [["run", "session", "append"], ["--journal", "--tool", "--verdict", "--intent-id", "--reason-codes", "--violations", "--json"]],
      [["run", "session", "status"], ["--journal", "--json"]],
      [["run", "session", "checkpoint"], ["--journal", "--out", "--chain-out", "--private-key", "--private-key-env", "--json"]],
      [["run", "session", "compact"], ["--journal", "--out", "--dry-run", "--json"]],
      [["verify"], ["session-chain"]],
      [["verify", "session-chain"], ["--chain", "--profile", "--require-signature", "--public-key", "--json"]]
    ]
    for (const [command, mentions] of commands) {
      const result = gait([...command, "--help"])
      expect(result.code, `${command.join(" ")} --help`).toBe(0)
      expect(result.stderr).toBe("")
      for (const m of mentions) expect(result.stdout, `${command.join(" ")} --help mentions ${m}`).toContain(m)
    }
    expect(filesIn(dir)).toEqual([])
  })
})

// ------------------------------------------------------------------------------------------------

describe("signed checkpoint chains", () => {
  const keysInit = (gait: Gait, outDir: string) => {
    const args = ["keys", "init", "--out-dir", outDir, "--json"]
    const result = gait(args)
    expect(result.code, result.stdout).toBe(0)
    return { privateKey: path.join(outDir, "gait_private.key"), publicKey: path.join(outDir, "gait_public.key") }
  }

  const verifyArgs = (...extra: ReadonlyArray<string>) => ["verify", "session-chain", "--chain", CHAIN, ...extra, "--json"]

  it("checkpoints signed with --private-key / --private-key-env verify with --require-signature and the matching key only", () => {
    const { dir, gait } = newSession(1)
    const keys = keysInit(gait, "keys")
    const other = keysInit(gait, "other-keys")

    const cp1 = gait(["run", "session", "checkpoint", "--journal", J, "--out", "cp1.zip", "--private-key", keys.privateKey, "--json"])
    expect(cp1.code, cp1.stdout).toBe(0)
    expect(cp1.stderr).toBe("")
    expect(gait(["run", "session", "append", "--journal", J, "--tool", "t", "--verdict", "allow"]).code).toBe(0)
    const privateKeyText = readFileSync(path.join(dir, keys.privateKey), "utf8")
    const cp2 = gait(["run", "session", "checkpoint", "--journal", J, "--out", "cp2.zip", "--private-key-env", "GAIT_TEST_SIGNING_KEY", "--json"], {
      GAIT_TEST_SIGNING_KEY: privateKeyText.trim()
    })
    expect(cp2.code, cp2.stdout).toBe(0)

    for (const args of [
      verifyArgs("--require-signature", "--public-key", keys.publicKey),
      verifyArgs("--profile", "strict", "--public-key", keys.publicKey),
      verifyArgs("--require-signature", "--private-key", keys.privateKey),
      verifyArgs("--public-key", keys.publicKey),
      verifyArgs()
    ]) {
      const ok = okSession(gait(args), args, ["chain_path", "checkpoints_checked", "run_id", "session_id"])
      expect(ok.checkpoints_checked).toBe(2)
    }
    okText(gait(["verify", "session-chain", "--chain", CHAIN, "--require-signature", "--public-key", keys.publicKey]), [
      `verify session-chain: ok (${CHAIN})`,
      `session=${SESSION} run=${RUN} checkpoints=2`
    ])

    // another key: both signatures fail, with or without --require-signature
    for (const extra of [["--require-signature"], []]) {
      const args = verifyArgs(...extra, "--public-key", other.publicKey)
      const result = gait(args)
      expect(result.code, result.stdout).toBe(2)
      expect(jsonLine(result, args)).toMatchObject({
        ok: false,
        checkpoint_errors: ["checkpoint 1 signature verification failed", "checkpoint 2 signature verification failed"]
      })
    }
  })

  it("unsigned checkpoints fail --require-signature (exit 2); --profile strict without a key is a usage error (exit 6)", () => {
    const { gait } = newSession(1)
    const keys = keysInit(gait, "keys")
    expect(gait(["run", "session", "checkpoint", "--journal", J, "--out", "cp1.zip"]).code).toBe(0)
    expect(gait(verifyArgs()).code).toBe(0)

    const required = verifyArgs("--require-signature", "--public-key", keys.publicKey)
    const result = gait(required)
    expect(result.code, result.stdout).toBe(2)
    expect(jsonLine(result, required)).toMatchObject({ ok: false, checkpoint_errors: ["checkpoint 1 signature verification failed"] })

    const strict = verifyArgs("--profile", "strict")
    sessionEnvelope(gait(strict), strict, { exitCode: 6, error: "strict verify profile requires --public-key/--public-key-env or private key source", errorCode: "invalid_input" })

    // a signed checkpoint after an unsigned one: only the unsigned one fails
    expect(gait(["run", "session", "append", "--journal", J, "--tool", "t", "--verdict", "allow"]).code).toBe(0)
    expect(gait(["run", "session", "checkpoint", "--journal", J, "--out", "cp2.zip", "--private-key", keys.privateKey]).code).toBe(0)
    const mixed = gait(required)
    expect(mixed.code).toBe(2)
    expect(jsonLine(mixed, required).checkpoint_errors).toEqual(["checkpoint 1 signature verification failed"])
  })

  it("a bad signing key is rejected before anything is committed", () => {
    const { dir, gait } = newSession(1)
    mkdirSync(path.join(dir, "keys"))
    writeFileSync(path.join(dir, "keys/bad.key"), "bm90IGEga2V5\n")
    const before = snapshot(dir)
    const args = ["run", "session", "checkpoint", "--journal", J, "--out", "cp.zip", "--private-key", "keys/bad.key", "--json"]
    sessionEnvelope(gait(args), args, { exitCode: 6, error: /private key/, errorCode: "key_invalid" })
    const missingEnv = ["run", "session", "checkpoint", "--journal", J, "--out", "cp.zip", "--private-key-env", "GAIT_TEST_NO_SUCH_VAR", "--json"]
    expect(gait(missingEnv).code).toBe(6)
    expect(snapshot(dir)).toEqual(before)
  })
})
