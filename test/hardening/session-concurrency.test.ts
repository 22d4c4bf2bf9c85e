/**
 * Acceptance gate 4, session determinism under concurrency (session.md §2, §8). Real `gait run
 * session append` processes are started at once on one journal, under the standard profile (fsynced
 * appends) and under swarm, and in the second round checkpoints race the appends. Pinned: every
 * process succeeds; the sequences handed out are exactly 1..N; the journal holds them in file order,
 * one event per intent; the state index agrees with the journal (size, last sequence, counts); no
 * lock, breaker or temp file is left; and the checkpoint chain covers the events without gaps and
 * verifies with `gait verify session-chain`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { type Ran, spawnGait } from "./procs.js"

const dirs: Array<string> = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const J = "s.journal.jsonl"
const CHAIN = "s.journal_chain.json"
const N = 16

interface JournalRecord {
  readonly record_type: string
  readonly event?: { readonly sequence: number; readonly intent_id?: string }
  readonly checkpoint?: { readonly checkpoint_index: number; readonly sequence_start: number; readonly sequence_end: number }
}

const records = (dir: string): Array<JournalRecord> => {
  const text = readFileSync(path.join(dir, J), "utf8")
  expect(text.endsWith("\n"), "the journal ends with a complete record").toBe(true)
  return text
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as JournalRecord)
}

const appendArgs = (intent: string) => ["run", "session", "append", "--journal", J, "--tool", "tool.write", "--verdict", "allow", "--intent-id", intent, "--json"]

const sequenceOf = (r: Ran): number => (r.json().event as { readonly sequence: number }).sequence

const range = (from: number, to: number): Array<number> => Array.from({ length: to - from + 1 }, (_, i) => from + i)

const expectConsistentIndex = (dir: string, last: number, checkpoints: number): void => {
  const state = JSON.parse(readFileSync(path.join(dir, `${J}.state.json`), "utf8")) as Record<string, unknown>
  expect(state).toMatchObject({ session_id: "sess_conc", run_id: "run_conc", last_sequence: last, event_count: last, checkpoint_count: checkpoints })
  expect(state.journal_size_bytes, "the index's journal size is the journal's size").toBe(statSync(path.join(dir, J)).size)
  expect(readdirSync(dir).filter((f) => f.includes(".lock") || f.includes(".tmp-")), "lock, breaker or temp files left").toEqual([])
}

describe("session determinism with concurrent processes", () => {
  it(`${N} appends at once (standard profile), then ${N} more under swarm racing two checkpoints: 1..${2 * N}, consistent index, verifying chain`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "gait-acc-conc-"))
    dirs.push(dir)
    const start = await spawnGait(["run", "session", "start", "--journal", J, "--session-id", "sess_conc", "--run-id", "run_conc", "--json"], { cwd: dir })
    expect(start.code, start.stdout).toBe(0)

    // round 1: standard profile (appends fsynced); the timeout only has to outlast the queue
    const round1 = await Promise.all(range(1, N).map((i) => spawnGait(appendArgs(`r1_${i}`), { cwd: dir, env: { GAIT_SESSION_LOCK_TIMEOUT: "90s" }, timeoutMs: 100_000 })))
    for (const r of round1) expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(round1.map(sequenceOf).sort((a, b) => a - b)).toEqual(range(1, N))
    const events1 = records(dir).filter((r) => r.record_type === "event")
    expect(events1.map((r) => r.event?.sequence), "file order is sequence order").toEqual(range(1, N))
    expect(new Set(events1.map((r) => r.event?.intent_id)).size, "one event per process").toBe(N)
    expectConsistentIndex(dir, N, 0)

    // round 2: swarm profile, with two checkpoints racing the appends
    const swarm = { GAIT_SESSION_LOCK_PROFILE: "swarm", GAIT_SESSION_LOCK_TIMEOUT: "90s" }
    const appends = range(1, N).map((i) => spawnGait(appendArgs(`r2_${i}`), { cwd: dir, env: swarm, timeoutMs: 100_000 }))
    const checkpoints = [1, 2].map((i) =>
      spawnGait(["run", "session", "checkpoint", "--journal", J, "--out", `runpacks/race_${i}.zip`, "--json"], { cwd: dir, env: swarm })
    )
    const round2 = await Promise.all(appends)
    for (const r of round2) expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(round2.map(sequenceOf).sort((a, b) => a - b)).toEqual(range(N + 1, 2 * N))
    for (const c of await Promise.all(checkpoints)) {
      // a checkpoint that finds nothing new is refused as such (exit 6); nothing else is acceptable
      if (c.code !== 0) expect(c.json().error_code, c.stdout).toBe("session_no_new_events")
    }
    const final = await spawnGait(["run", "session", "checkpoint", "--journal", J, "--out", "runpacks/final.zip", "--json"], { cwd: dir })
    if (final.code !== 0) expect(final.json().error_code, final.stdout).toBe("session_no_new_events")

    const all = records(dir)
    expect(all[0]?.record_type).toBe("header")
    expect(all.filter((r) => r.record_type === "event").map((r) => r.event?.sequence)).toEqual(range(1, 2 * N))
    // checkpoints: indexes 1..k, contiguous ranges from 1 to 2N
    const cps = all.filter((r) => r.record_type === "checkpoint").map((r) => r.checkpoint)
    expect(cps.length).toBeGreaterThanOrEqual(1)
    let next = 1
    for (const [i, cp] of cps.entries()) {
      expect(cp?.checkpoint_index).toBe(i + 1)
      expect(cp?.sequence_start, `checkpoint ${i + 1} starts where the previous one ended`).toBe(next)
      next = (cp?.sequence_end ?? 0) + 1
    }
    expect(next - 1, "the checkpoints cover every event").toBe(2 * N)
    expectConsistentIndex(dir, 2 * N, cps.length)

    const status = await spawnGait(["run", "session", "status", "--journal", J, "--json"], { cwd: dir })
    expect(status.json().status).toMatchObject({ last_sequence: 2 * N, event_count: 2 * N, checkpoint_count: cps.length })
    const verify = await spawnGait(["verify", "session-chain", "--chain", CHAIN, "--json"], { cwd: dir })
    expect(verify.code, verify.stdout).toBe(0)
    expect(verify.json()).toMatchObject({ ok: true, checkpoints_checked: cps.length, session_id: "sess_conc", run_id: "run_conc" })
  })
})
