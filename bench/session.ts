/**
 * Session section of `make bench`: in-process append latency (standard and swarm profiles), append
 * latency drift over 240 sequential appends (mean of the last 40 / mean of the first 40: the O(1)
 * state index should keep it near 1), and whole-process `run session append` as a ratio to
 * `node -e 0` measured in the same run. A report; nothing is asserted.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { ConfigProvider, Effect, Layer, ManagedRuntime } from "effect"
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import * as SessionLock from "../src/session/lock.js"
import * as SessionStore from "../src/session/store.js"
import { fmt, median, summarize, table } from "./stats.js"

const quick = process.env["BENCH_QUICK"] === "1"
const root = process.cwd()
const out = NodePath.resolve(process.env["GAIT_BENCH_SESSION_OUT"] ?? "bench/results/session.json")
const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

const runtimeFor = (profile: "standard" | "swarm") =>
  ManagedRuntime.make(
    SessionStore.layerFile.pipe(
      Layer.provide(SessionLock.layerFile),
      Layer.provideMerge(NodeFileSystem.layer),
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["GAIT_SESSION_LOCK_PROFILE", profile]]))))
    )
  )

const appendSeries = async (profile: "standard" | "swarm", count: number): Promise<Array<number>> => {
  const dir = mkdtempSync(NodePath.join(tmpdir(), `gait-bench-session-${profile}-`))
  const runtime = runtimeFor(profile)
  const journal = NodePath.join(dir, "bench.journal.jsonl")
  try {
    await runtime.runPromise(Effect.flatMap(SessionStore.SessionStore, (s) => s.start(journal, { sessionId: "bench", runId: "run_bench" })))
    const samples: Array<number> = []
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint()
      await runtime.runPromise(
        Effect.flatMap(SessionStore.SessionStore, (s) => s.append(journal, { toolName: "fs.write", verdict: "allow", intentId: `i${i}` }))
      )
      samples.push(Number(process.hrtime.bigint() - started) / 1e6)
    }
    return samples
  } finally {
    await runtime.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
}

const mean = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)

const wallMs = (argv: ReadonlyArray<string>, cwd: string): number => {
  const started = process.hrtime.bigint()
  try {
    execFileSync(process.execPath, argv, { cwd, stdio: "ignore" })
  } catch {
    // exit codes are not the point here; a failing command shows up as an odd timing
  }
  return Number(process.hrtime.bigint() - started) / 1e6
}

const main = async (): Promise<void> => {
  log(`gait session bench${quick ? " (BENCH_QUICK=1)" : ""}`)
  const driftCount = 240
  const standard = await appendSeries("standard", driftCount)
  const swarm = await appendSeries("swarm", quick ? 120 : 240)
  const first = mean(standard.slice(0, 40))
  const last = mean(standard.slice(-40))
  const drift = last / first

  const work = mkdtempSync(NodePath.join(tmpdir(), "gait-bench-session-proc-"))
  const gait = NodePath.join(root, "bin", "gait.cjs")
  const journal = NodePath.join(work, "p.journal.jsonl")
  execFileSync(process.execPath, [gait, "run", "session", "start", "--journal", journal, "--session-id", "p", "--run-id", "r"], {
    stdio: "ignore"
  })
  const rounds = quick ? 10 : 20
  const nodeRuns: Array<number> = []
  const appendRuns: Array<number> = []
  for (let i = 0; i < rounds; i++) {
    nodeRuns.push(wallMs(["-e", "0"], work))
    appendRuns.push(wallMs([gait, "run", "session", "append", "--journal", journal, "--tool", "fs.write", "--verdict", "allow", "--json"], work))
  }
  rmSync(work, { recursive: true, force: true })
  const nodeMedian = median(nodeRuns)
  const appendMedian = median(appendRuns)

  const s = summarize(standard)
  const w = summarize(swarm)
  process.stdout.write(
    `Session append, in-process (ms per append, lock + journal write + state index)\n${table(
      ["profile", "p50", "p99", "appends"],
      [
        ["standard (fsync)", fmt(s.p50, 3), fmt(s.p99, 3), String(s.n)],
        ["swarm (no journal fsync)", fmt(w.p50, 3), fmt(w.p99, 3), String(w.n)]
      ]
    )}\n`
  )
  process.stdout.write(
    `Append latency drift (standard, 240 sequential appends)\n${table(
      ["first 40 mean ms", "last 40 mean ms", "drift", "target"],
      [[fmt(first, 3), fmt(last, 3), `${fmt(drift, 2)}×`, "≤ 1.5×"]]
    )}\n`
  )
  process.stdout.write(
    `Whole process, median of ${rounds} interleaved runs (ms)\n${table(
      ["command", "median", "× node -e 0"],
      [
        ["node -e 0", fmt(nodeMedian, 1), "1.00×"],
        ["gait run session append --json", fmt(appendMedian, 1), `${fmt(appendMedian / nodeMedian, 2)}×`]
      ]
    )}\n`
  )
  mkdirSync(NodePath.dirname(out), { recursive: true })
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        schema_id: "gait.bench.session_report",
        schema_version: "1.0.0",
        generated_at: new Date().toISOString(),
        quick,
        append_ms: { standard: s, swarm: w },
        drift: { first40_mean_ms: first, last40_mean_ms: last, ratio: drift, target: 1.5 },
        process_ms: { node_e0_median: nodeMedian, session_append_median: appendMedian, ratio: appendMedian / nodeMedian }
      },
      null,
      2
    )}\n`
  )
  log(`wrote ${out}`)
}

main().catch((e: unknown) => {
  process.stderr.write(`session bench failed: ${String(e)}\n`)
  process.exitCode = 1
})
