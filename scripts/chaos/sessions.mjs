/**
 * Chaos: session journals (spec session.md §2.3–§4, §8). Each of CHAOS_REPEATS (3) runs uses a fresh
 * journal and
 *   1. starts CHAOS_SESSION_SWARM (64) `gait run session append` processes at once under
 *      GAIT_SESSION_LOCK_PROFILE=swarm with the §8 tuning (timeout 5s, retry 10ms). An append that
 *      times out on the lock (exit 1, session_lock_contention, retryable) is retried, as its hint
 *      says, until all 64 have landed; anything else is a failure. The timeouts are reported; the
 *      §8 budget (TestSessionSwarmContentionBudget: at most 1) is enforced only when
 *      CHAOS_SESSION_MAX_CONTENTION is set, because 64 processes (not goroutines) on two busy cores
 *      routinely queue longer than 5s. Then it checkpoints;
 *   2. keeps CHAOS_SESSION_INFLIGHT (16) appenders running against the same journal and SIGKILLs most
 *      of them (CHAOS_SESSION_KILL_PERCENT, 90) after a random delay that spans start-up, the wait for
 *      the lock and the locked section, until this run's share of CHAOS_SESSION_KILLS (1,000 over all
 *      runs) has landed; then checkpoints again.
 * After each phase: `gait run session status` reads the journal back, an independent reader finds
 * sequences 1..N with no gap or duplicate, every append whose process exited 0 is there under the
 * sequence it reported, nothing that was never attempted is, the state index matches the journal,
 * and after the checkpoint the chain verifies (`gait verify session-chain` and recomputed digests).
 *
 * A lock left by a process this script killed would block the journal until it is stale (10 min);
 * the script removes such a lock as soon as that process is gone (the lock names its pid), as an
 * operator would once the holder is known to be dead. How many kills left a lock is how many landed
 * while the process held it. CHAOS_SEED makes the kill delays reproducible.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import * as path from "node:path"
import { chaosReport, childEnv, describeRun, envInt, jsonOf, median, runGait } from "./lib-processes.mjs"

const report = chaosReport("sessions")
const REPEATS = envInt("CHAOS_REPEATS", 3)
const SWARM = envInt("CHAOS_SESSION_SWARM", 64)
const KILLS = envInt("CHAOS_SESSION_KILLS", 1000)
const INFLIGHT = envInt("CHAOS_SESSION_INFLIGHT", 16)
const KILL_PERCENT = Math.min(envInt("CHAOS_SESSION_KILL_PERCENT", 90), 100)
const MAX_CONTENTION = process.env.CHAOS_SESSION_MAX_CONTENTION === undefined ? undefined : Number(process.env.CHAOS_SESSION_MAX_CONTENTION)
/** Attempts per swarm append before a lock timeout counts as a failure. */
const SWARM_ATTEMPTS = 10
const SEED = envInt("CHAOS_SEED", Math.floor(Math.random() * 2 ** 31) + 1)

/** spec session.md §8, TestSessionSwarmContentionBudget. */
const LOCK_ENV = { GAIT_SESSION_LOCK_PROFILE: "swarm", GAIT_SESSION_LOCK_TIMEOUT: "5s", GAIT_SESSION_LOCK_RETRY: "10ms" }

/** Uniform numbers in [0, 1) derived from the seed (SHA-256 of `<seed>:<n>`), so kill delays can be replayed. */
const seeded = (seed) => {
  let n = 0
  return () => createHash("sha256").update(`${seed}:${n++}`).digest().readUInt32BE(0) / 2 ** 32
}
const random = seeded(SEED)

const sha256 = (text) => createHash("sha256").update(text).digest("hex")

const totals = { kills: 0, killsHoldingLock: 0, killedAfterAppend: 0, appenders: 0, acknowledged: 0, missing: 0, swarmContention: 0, killContention: 0, pendingCleared: 0, tempLeft: 0 }

/** One journal and everything known about what was done to it. */
const session = (dir, run) => {
  const journal = path.join(dir, "sessions", "chaos.journal.jsonl")
  return {
    run,
    dir,
    journal,
    lockPath: `${journal}.lock`,
    chain: path.join(dir, "sessions", "chaos.journal_chain.json"),
    sessionId: `sess_chaos_${run}`,
    runId: `run_chaos_${run}`,
    /** intent id → sequence, for every append whose process exited 0. */
    acknowledged: new Map(),
    attempted: new Set(),
    killedIntents: new Set(),
    checkpoints: 0
  }
}

const appendArgs = (s, intentId) => ["run", "session", "append", "--journal", s.journal, "--tool", "tool.write", "--verdict", "allow", "--intent-id", intentId, "--json"]

const gait = (s, args, options = {}) => runGait(args, { cwd: s.dir, env: childEnv(LOCK_ENV), timeoutMs: 60_000, ...options })

const lockHolder = (lockPath) => {
  try {
    return JSON.parse(readFileSync(lockPath, "utf8"))
  } catch {
    return undefined
  }
}

/**
 * Bookkeeping after an appender exits. A killed process that still holds the journal's lock (the lock
 * names its pid and was created after it started) died inside the locked section: its lock is removed
 * so the others can go on. Its half-made lock (`<lock>.<pid>-…`, written before being linked into
 * place) is removed too. A process that exited on its own must have left no lock of its own.
 */
const afterExit = (s, r, intentId, phase) => {
  const holder = lockHolder(s.lockPath)
  const holdsLock = holder?.pid === r.pid && Date.parse(holder.created_at) >= r.startedAt - 1000
  const killed = r.signal === "SIGKILL" && r.killSent && !r.timedOut
  if (killed) {
    totals.kills++
    s.killedIntents.add(intentId)
    if (holdsLock) {
      totals.killsHoldingLock++
      rmSync(s.lockPath, { force: true })
    }
    const sessions = path.dirname(s.journal)
    for (const name of readdirSync(sessions)) {
      if (name.startsWith(`${path.basename(s.lockPath)}.${r.pid}-`)) {
        rmSync(path.join(sessions, name), { force: true })
        totals.pendingCleared++
      }
    }
    return "killed"
  }
  report.check(!holdsLock, () => `run ${s.run} ${intentId}: exited without being killed but left its lock behind`)
  const body = jsonOf(r)
  if (r.code === 0 && body?.ok === true && body.event?.intent_id === intentId && Number.isInteger(body.event.sequence)) {
    s.acknowledged.set(intentId, body.event.sequence)
    return "acknowledged"
  }
  if (r.code === 1 && body?.error_code === "session_lock_contention") return "contention"
  report.problem(`run ${s.run} ${phase} ${intentId}: ${describeRun(r)}`)
  return "failed"
}

/** The journal as written, read without gait: records by type, and lines that do not parse. */
const readJournal = (s) => {
  const header = []
  const events = []
  const checkpoints = []
  const lines = readFileSync(s.journal, "utf8").split("\n")
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue
    let record
    try {
      record = JSON.parse(line)
    } catch {
      report.problem(`run ${s.run}: journal line ${i + 1} does not parse: ${JSON.stringify(line.slice(0, 200))}`)
      continue
    }
    if (record.record_type === "header") header.push(record.header)
    else if (record.record_type === "event") events.push(record.event)
    else if (record.record_type === "checkpoint") checkpoints.push(record.checkpoint)
    else report.problem(`run ${s.run}: journal line ${i + 1} has record_type ${record.record_type}`)
  }
  return { header, events, checkpoints }
}

/** Everything that must hold of the journal after a phase (see the header comment). */
const verifyJournal = async (s, phase) => {
  const label = `run ${s.run} after ${phase}`
  // gait reads it back first (and repairs a torn tail or a stale index, as any operation would).
  const status = await gait(s, ["run", "session", "status", "--journal", s.journal, "--json"])
  const st = jsonOf(status)?.status
  report.check(status.code === 0 && st !== undefined, () => `${label}: status: ${describeRun(status)}`)

  const { header, events, checkpoints } = readJournal(s)
  report.check(
    header.length === 1 && header[0].session_id === s.sessionId && header[0].run_id === s.runId,
    `${label}: journal has ${header.length} headers or the wrong identity`
  )
  const sequences = events.map((e) => e.sequence)
  const n = sequences.length
  const gapless = sequences.every((q, i) => q === i + 1)
  report.check(gapless, () => `${label}: event sequences are not 1..${n}: ${JSON.stringify(sequences.filter((q, i) => q !== i + 1).slice(0, 10))}`)
  report.check(
    events.every((e) => e.session_id === s.sessionId && e.run_id === s.runId),
    `${label}: an event carries another session's identity`
  )
  const bySequence = new Map()
  const byIntent = new Map()
  for (const e of events) {
    report.check(!byIntent.has(e.intent_id), `${label}: intent ${e.intent_id} recorded twice`)
    report.check(s.attempted.has(e.intent_id), `${label}: intent ${e.intent_id} was never attempted`)
    byIntent.set(e.intent_id, e.sequence)
    bySequence.set(e.sequence, e.intent_id)
  }
  let missing = 0
  for (const [intent, sequence] of s.acknowledged) {
    if (byIntent.get(intent) !== sequence) {
      missing++
      report.problem(`${label}: acknowledged append ${intent} (sequence ${sequence}) is ${byIntent.has(intent) ? `at sequence ${byIntent.get(intent)}` : "missing"}; sequence ${sequence} holds ${bySequence.get(sequence)}`)
    }
  }
  report.check(checkpoints.length === s.checkpoints, `${label}: ${checkpoints.length} checkpoints in the journal, want ${s.checkpoints}`)
  const lastCheckpoint = checkpoints.at(-1)
  report.check(
    st?.event_count === n && st?.last_sequence === n && st?.checkpoint_count === checkpoints.length,
    () => `${label}: status ${JSON.stringify(st)} disagrees with the journal (${n} events, ${checkpoints.length} checkpoints)`
  )

  // The state index, as status left it, describes exactly this journal.
  let state
  let stateOk = false
  try {
    state = JSON.parse(readFileSync(`${s.journal}.state.json`, "utf8"))
  } catch (error) {
    report.problem(`${label}: state index unreadable: ${error.message}`)
  }
  if (state !== undefined) {
    const want = {
      session_id: s.sessionId,
      run_id: s.runId,
      event_count: n,
      last_sequence: n,
      checkpoint_count: checkpoints.length,
      last_checkpoint_index: lastCheckpoint?.checkpoint_index ?? 0,
      last_checkpoint_sequence: lastCheckpoint?.sequence_end ?? 0,
      last_checkpoint_digest: lastCheckpoint?.checkpoint_digest,
      journal_size_bytes: statSync(s.journal).size
    }
    const wrong = Object.entries(want).filter(([k, v]) => state[k] !== v)
    stateOk = report.check(wrong.length === 0, () => `${label}: state index ${wrong.map(([k, v]) => `${k}=${state[k]} (want ${v})`).join(", ")}`)
  }
  report.check(!existsSync(s.lockPath), `${label}: a lock file is left behind (${JSON.stringify(lockHolder(s.lockPath))})`)
  const killedButWritten = [...s.killedIntents].filter((id) => byIntent.has(id)).length
  report.progress(
    `run ${s.run} after ${phase}: status exit ${status.code}; ${n} events, sequences 1..${n} gap-free: ${gapless}; ${s.acknowledged.size} acknowledged, ${missing} missing; state index consistent: ${stateOk}`
  )
  return { events: n, missing, killedButWritten, lastSequence: n }
}

/** Checkpoints everything new and verifies the chain, with gait and by recomputing its digests. */
const checkpointAndVerify = async (s, expectedStart, expectedEnd) => {
  const label = `run ${s.run} checkpoint ${s.checkpoints + 1}`
  const out = path.join(s.dir, "runpacks", `cp-${s.checkpoints + 1}.zip`)
  const cp = await gait(s, ["run", "session", "checkpoint", "--journal", s.journal, "--out", out, "--json"])
  const c = jsonOf(cp)?.checkpoint
  if (!report.check(cp.code === 0 && c !== undefined, () => `${label}: ${describeRun(cp)}`)) return
  s.checkpoints++
  report.check(
    c.checkpoint_index === s.checkpoints && c.sequence_start === expectedStart && c.sequence_end === expectedEnd,
    () => `${label}: index ${c.checkpoint_index} range ${c.sequence_start}..${c.sequence_end}, want ${s.checkpoints} ${expectedStart}..${expectedEnd}`
  )
  const verify = await gait(s, ["verify", "session-chain", "--chain", s.chain, "--json"])
  const v = jsonOf(verify)
  report.check(verify.code === 0 && v?.ok === true && v.checkpoints_checked === s.checkpoints, () => `${label}: verify session-chain: ${describeRun(verify)}`)
  const chain = JSON.parse(readFileSync(s.chain, "utf8"))
  let prev
  let end = 0
  for (const [i, k] of chain.checkpoints.entries()) {
    const digest = sha256(`${k.manifest_digest}:${k.prev_checkpoint_digest ?? ""}:${k.checkpoint_index}:${k.sequence_start}:${k.sequence_end}`)
    report.check(
      k.checkpoint_index === i + 1 && k.checkpoint_digest === digest && k.prev_checkpoint_digest === prev && k.sequence_start === end + 1,
      () => `${label}: chain entry ${i + 1} does not link: ${JSON.stringify(k)}`
    )
    prev = k.checkpoint_digest
    end = k.sequence_end
  }
}

const swarmPhase = async (s) => {
  const firstDurations = []
  let contention = 0
  const appendUntilLanded = async (i) => {
    const intentId = `swarm-r${s.run}-${i}`
    s.attempted.add(intentId)
    for (let attempt = 1; attempt <= SWARM_ATTEMPTS; attempt++) {
      const r = await gait(s, appendArgs(s, intentId))
      if (attempt === 1) firstDurations.push(r.durationMs)
      const outcome = afterExit(s, r, intentId, "swarm")
      if (outcome !== "contention") return outcome
      contention++
    }
    report.problem(`run ${s.run} ${intentId}: still timing out on the lock after ${SWARM_ATTEMPTS} attempts`)
    return "contention"
  }
  const outcomes = await Promise.all(Array.from({ length: SWARM }, (_, i) => appendUntilLanded(i)))
  const acknowledged = outcomes.filter((o) => o === "acknowledged").length
  totals.swarmContention += contention
  totals.appenders += SWARM + contention
  report.check(acknowledged === SWARM, `run ${s.run}: ${acknowledged} of ${SWARM} swarm appends acknowledged`)
  if (MAX_CONTENTION !== undefined) {
    report.check(contention <= MAX_CONTENTION, `run ${s.run}: ${contention} swarm appends timed out on the lock (at most ${MAX_CONTENTION} allowed)`)
  }
  return { durations: firstDurations, contention, acknowledged }
}

/**
 * Appenders, INFLIGHT at a time, until `target` kills have landed. The first 2×INFLIGHT are never
 * killed (they measure how long an append takes now); afterwards most get a kill timer between
 * 0.2× and 1.1× the median duration of the recent appends that were not killed: some die during
 * start-up, many while waiting for the lock or holding it, and some outrun their timer.
 */
const killPhase = async (s, target) => {
  const durations = []
  let kills = 0
  let spawned = 0
  let contention = 0
  const worker = async () => {
    while (kills < target && spawned < target * 10) {
      const n = spawned++
      const intentId = `kill-r${s.run}-${n}`
      s.attempted.add(intentId)
      const armed = n >= 2 * INFLIGHT && random() * 100 < KILL_PERCENT
      const killAfterMs = armed ? median(durations.slice(-32)) * (0.2 + 0.9 * random()) : undefined
      const r = await gait(s, appendArgs(s, intentId), killAfterMs === undefined ? {} : { killAfterMs })
      const outcome = afterExit(s, r, intentId, "kill")
      if (outcome === "killed") kills++
      else if (outcome === "contention") contention++
      else if (outcome === "acknowledged") durations.push(r.durationMs)
      if (n % 200 === 199) report.progress(`run ${s.run}: ${n + 1} appenders, ${kills}/${target} kills`)
    }
  }
  await Promise.all(Array.from({ length: INFLIGHT }, worker))
  totals.appenders += spawned
  totals.killContention += contention
  // A process killed inside a break of a stale lock can leave the breaker; gait clears it after 1s.
  rmSync(`${s.lockPath}.breaker`, { force: true })
  return { spawned, kills, contention, typicalMs: Math.round(median(durations.slice(-32))) }
}

const runOnce = async (work, run, killTarget) => {
  const dir = path.join(work, `run-${run}`)
  mkdirSync(dir)
  const s = session(dir, run)
  const start = await gait(s, ["run", "session", "start", "--journal", s.journal, "--session-id", s.sessionId, "--run-id", s.runId, "--json"])
  if (!report.check(start.code === 0, () => `run ${run}: start: ${describeRun(start)}`)) return

  const swarm = await swarmPhase(s)
  report.progress(
    `run ${run}/${REPEATS}: swarm of ${SWARM}: ${swarm.acknowledged} acknowledged, ${swarm.contention} lock timeouts retried, median first attempt ${Math.round(median(swarm.durations))} ms`
  )
  const afterSwarm = await verifyJournal(s, "the swarm")
  await checkpointAndVerify(s, 1, afterSwarm.lastSequence)

  const killed = await killPhase(s, killTarget)
  const afterKills = await verifyJournal(s, "the kills")
  await checkpointAndVerify(s, afterSwarm.lastSequence + 1, afterKills.lastSequence)
  totals.killedAfterAppend += afterKills.killedButWritten
  totals.missing += afterSwarm.missing + afterKills.missing
  totals.acknowledged += s.acknowledged.size
  const temps = readdirSync(path.dirname(s.journal)).filter((f) => f.includes(".tmp-")).length
  totals.tempLeft += temps
  report.progress(
    `run ${run}/${REPEATS}: ${killed.spawned} appenders, ${killed.kills} killed (${afterKills.killedButWritten} after their event was written), ${killed.contention} lock timeouts, typical append ${killed.typicalMs} ms; ${temps} temp files of killed writers`
  )
}

const main = async () => {
  const work = report.scratch()
  report.progress(`${REPEATS} runs: swarm of ${SWARM}, then ≥${KILLS} kills in total (${INFLIGHT} in flight, ${KILL_PERCENT}% armed), seed ${SEED}`)
  for (let run = 1; run <= REPEATS; run++) {
    const target = Math.ceil((KILLS - totals.kills) / (REPEATS - run + 1))
    await runOnce(work, run, target)
  }
  report.check(totals.kills >= KILLS, `only ${totals.kills} kills landed, want ${KILLS}`)
  report.finish(
    `${REPEATS} runs × ${SWARM} swarm appends (${totals.swarmContention} lock timeouts retried), ${totals.kills} kills -9 (${totals.killsHoldingLock} holding the lock, ${totals.killedAfterAppend} after writing) over ${totals.appenders} appenders, ${totals.acknowledged} acknowledged appends (${totals.missing} missing), checked after each phase (seed ${SEED})`
  )
}

main().catch(report.crash)
