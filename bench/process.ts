/**
 * Whole-process benchmarks: wall time of `node dist/gait.cjs …` (and of the shipped launcher
 * `node bin/gait.cjs …`, which runs the bundle through its V8 code cache) against `node -e 0`, run
 * interleaved (the order rotates every round) so drift in machine load hits every command alike.
 * Also: start-up probes that split where the time goes, and a Node startup-snapshot experiment that
 * shows what pre-initialized modules would buy. Every child runs with cwd = a fresh temp dir.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { median, rounded, type Summary, summarize } from "./stats.js"

export const NODE_BASELINE = "node -e 0"
export const DIST_EVAL = "node dist/gait.cjs gate eval --json --trace-out"
export const DIST_VERSION = "node dist/gait.cjs version"
export const BIN_EVAL = "node bin/gait.cjs gate eval … (code cache)"
export const BIN_VERSION = "node bin/gait.cjs version (code cache)"
export const LOAD_ONLY = "load bundle only, no command (experiment)"
export const SNAPSHOT_EVAL = "gate eval from startup snapshot (experiment)"

export interface ProcessPaths {
  /** dist/gait.cjs */
  readonly gait: string
  /** bin/gait.cjs, the shipped launcher (runs the bundle through its V8 code cache), when present. */
  readonly launcher: string | undefined
  readonly policy: string
  readonly intent: string
  /** Directory with the bench's own bundles (gait-entry.cjs, load-probe.cjs, cold.cjs). */
  readonly benchDir: string
}

interface CommandSpec {
  readonly name: string
  readonly argv: ReadonlyArray<string>
  /** Counted in the main comparison (the others are experiments). */
  readonly main: boolean
}

export interface CommandResult {
  readonly name: string
  /** A start-up experiment rather than a shipped way of running gait. */
  readonly experiment: boolean
  readonly command: string
  readonly ms: Summary
}

export interface ProcessReport {
  readonly rounds: number
  readonly gaitBundleBytes: number
  readonly commands: ReadonlyArray<CommandResult>
  /** Median over median (and minimum over minimum); `bin*` is NaN when there is no bin/gait.cjs. */
  readonly ratio: {
    readonly distGateEvalOverNode: number
    readonly distVersionOverNode: number
    readonly distGateEvalOverNodeOfMinimums: number
    readonly binGateEvalOverNode: number
    readonly binGateEvalOverNodeOfMinimums: number
  }
  /** Differences between commands, from medians and from minimums (the latter resist machine load). */
  readonly breakdownMs: Readonly<Record<string, { readonly p50: number; readonly min: number }>>
  readonly loadProbe: Readonly<Record<string, Readonly<Record<string, number | string>>>>
  /** First call of each `gate eval` stage in a fresh process, without and with a V8 code cache. */
  readonly coldStagesMs: Readonly<Record<string, { readonly plain: number; readonly codeCache: number }>>
  readonly experiments: Readonly<Record<string, string | number>>
}

const NODE = process.execPath

const run = (argv: ReadonlyArray<string>, cwd: string, env?: Readonly<Record<string, string>>) => {
  const [cmd = NODE, ...args] = argv
  const t0 = process.hrtime.bigint()
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env }
  // bin/gait.cjs rewrites its code cache when this is set (build-time training only).
  delete childEnv["GAIT_CODE_CACHE_OUT"]
  const r = spawnSync(cmd, args, { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  return { ms, status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error }
}

const runChecked = (argv: ReadonlyArray<string>, cwd: string, env?: Readonly<Record<string, string>>) => {
  const r = run(argv, cwd, env)
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`${argv.join(" ")} exited ${String(r.status)}: ${r.error?.message ?? ""}${r.stderr}${r.stdout}`.trim())
  }
  return r
}

const show = (argv: ReadonlyArray<string>): string =>
  argv.map((a) => (a === NODE ? "node" : a.includes(" ") ? JSON.stringify(a) : a)).join(" ")

/** Median of each numeric field of JSON-line outputs; string fields taken from the last run. */
const medianFields = (records: ReadonlyArray<Record<string, unknown>>): Record<string, number | string> => {
  const out: Record<string, number | string> = {}
  for (const key of Object.keys(records[0] ?? {})) {
    const values = records.map((r) => r[key])
    const last = values[values.length - 1]
    out[key] = typeof last === "number" ? Number(median(values.filter((v): v is number => typeof v === "number")).toFixed(2)) : String(last)
  }
  return out
}

/** The first error line of a child's stderr (a minified bundle echoes whole source lines). */
const errorLine = (stderr: string): string =>
  (stderr.split("\n").find((l) => /Error\b/.test(l)) ?? stderr.trim().split("\n").pop() ?? "").trim().slice(0, 200)

const jsonLine = (text: string): Record<string, unknown> => JSON.parse(text.trim().split("\n").pop() ?? "{}") as Record<string, unknown>

export const runProcess = (quick: boolean, paths: ProcessPaths, log: (line: string) => void): ProcessReport => {
  const rounds = quick ? 6 : 25
  const warmupRounds = quick ? 1 : 2
  const probeRuns = quick ? 3 : 7
  const work = mkdtempSync(NodePath.join(tmpdir(), "gait-bench-"))
  try {
    const bench = (file: string) => NodePath.join(paths.benchDir, file)
    const traceOut = NodePath.join(work, "trace.json")
    const evalArgs = ["gate", "eval", "--policy", paths.policy, "--intent", paths.intent, "--json", "--trace-out", traceOut]
    const experiments: Record<string, string | number> = {}

    // Validate the main command before timing anything: a failing eval would time an error path.
    const probe = runChecked([NODE, paths.gait, ...evalArgs], work)
    const verdict = jsonLine(probe.stdout)["verdict"]
    if (verdict !== "allow") throw new Error(`gate eval returned verdict ${String(verdict)}: ${probe.stdout}`)

    // Experiment: a Node startup snapshot of the same code (built from bench/gait-entry.ts).
    const blob = NodePath.join(work, "gait.blob")
    const built = run([NODE, "--snapshot-blob", blob, "--build-snapshot", bench("gait-entry.cjs")], work)
    let snapshotOk = built.status === 0
    experiments["snapshotBuildMs"] = Number(built.ms.toFixed(0))
    if (snapshotOk) {
      experiments["snapshotBytes"] = statSync(blob).size
      const snap = run([NODE, "--snapshot-blob", blob, ...evalArgs], work)
      snapshotOk = snap.status === 0 && jsonLine(snap.stdout)["verdict"] === "allow"
      if (!snapshotOk) experiments["snapshotError"] = `exit ${String(snap.status)}: ${errorLine(snap.stderr)}`
    } else {
      experiments["snapshotError"] = `build exit ${String(built.status)}: ${errorLine(built.stderr)}`
    }

    const specs: Array<CommandSpec> = [
      { name: NODE_BASELINE, argv: [NODE, "-e", "0"], main: true },
      { name: DIST_EVAL, argv: [NODE, paths.gait, ...evalArgs], main: true },
      { name: DIST_VERSION, argv: [NODE, paths.gait, "version"], main: true }
    ]
    if (paths.launcher !== undefined) {
      const cache = `${paths.gait}.v8cache`
      experiments["launcherCodeCacheBytes"] = existsSync(cache) ? statSync(cache).size : 0
      specs.push(
        { name: BIN_EVAL, argv: [NODE, paths.launcher, ...evalArgs], main: true },
        { name: BIN_VERSION, argv: [NODE, paths.launcher, "version"], main: true }
      )
    }
    specs.push({ name: LOAD_ONLY, argv: [NODE, bench("gait-entry.cjs")], main: false })
    if (snapshotOk) specs.push({ name: SNAPSHOT_EVAL, argv: [NODE, "--snapshot-blob", blob, ...evalArgs], main: false })
    const samples = specs.map((): Array<number> => [])
    for (let round = 0; round < warmupRounds + rounds; round++) {
      if (round === warmupRounds) log(`  whole process: ${rounds} interleaved rounds of ${specs.length} commands`)
      for (let k = 0; k < specs.length; k++) {
        const index = (k + round) % specs.length
        const spec = specs[index]
        if (spec === undefined) continue
        const r = run(spec.argv, work)
        if (r.status !== 0) throw new Error(`${show(spec.argv)} exited ${String(r.status)}: ${r.stderr}`)
        if (round >= warmupRounds) samples[index]?.push(r.ms)
      }
    }
    const commands: Array<CommandResult> = specs.map((spec, i) => ({
      name: spec.name,
      experiment: !spec.main,
      command: show(spec.argv).replaceAll(work, "$TMP").replaceAll(process.cwd() + NodePath.sep, ""),
      ms: rounded(summarize(samples[i] ?? []), 2)
    }))
    const stat = (name: string, key: "p50" | "min"): number => commands.find((c) => c.name === name)?.ms[key] ?? Number.NaN
    const parts = (key: "p50" | "min") => {
      const node = stat(NODE_BASELINE, key)
      const load = stat(LOAD_ONLY, key)
      const version = stat(DIST_VERSION, key)
      const gateEval = stat(DIST_EVAL, key)
      return [node, load - node, version - load, gateEval - version] as const
    }
    const [medians, minimums] = [parts("p50"), parts("min")]
    const breakdownNames = [
      "node bootstrap (node -e 0)",
      "load bundle: compile + module init (load-only − node)",
      "CLI/runtime for a trivial command (version − load-only)",
      "gate eval work (eval − version)"
    ]
    const breakdownMs: Record<string, { readonly p50: number; readonly min: number }> = {}
    breakdownNames.forEach((name, i) => {
      breakdownMs[name] = { p50: Number((medians[i] ?? Number.NaN).toFixed(2)), min: Number((minimums[i] ?? Number.NaN).toFixed(2)) }
    })
    const nodeMs = stat(NODE_BASELINE, "p50")

    log(`  start-up probes: ${probeRuns} fresh processes each`)
    const probes = (argv: ReadonlyArray<string>) =>
      Array.from({ length: probeRuns }, () => jsonLine(runChecked(argv, work).stdout))
    const entry = bench("gait-entry.cjs")
    const probeCache = NodePath.join(work, "gait-entry.v8cache")
    const loadProbe = {
      plain: medianFields(probes([NODE, bench("load-probe.cjs"), entry])),
      codeCache: (() => {
        runChecked([NODE, bench("load-probe.cjs"), entry, probeCache], work)
        return medianFields(probes([NODE, bench("load-probe.cjs"), entry, probeCache]))
      })()
    }
    const coldEnv = { GAIT_BENCH_POLICY: paths.policy, GAIT_BENCH_INTENT: paths.intent, GAIT_BENCH_TRACE_OUT: NodePath.join(work, "cold.json") }
    const coldCache = NodePath.join(work, "cold.v8cache")
    runChecked([NODE, bench("load-probe.cjs"), bench("cold.cjs"), coldCache], work, coldEnv)
    const coldStagesMs: Record<string, { plain: number; codeCache: number }> = {}
    const coldVariants = [
      ["plain", [NODE, bench("cold.cjs")]],
      ["codeCache", [NODE, bench("load-probe.cjs"), bench("cold.cjs"), coldCache]]
    ] as const
    for (const [variant, argv] of coldVariants) {
      const runs = Array.from({ length: probeRuns }, () => jsonLine(runChecked(argv, work, coldEnv).stdout))
      const fields: Record<string, unknown> = { "process start → probe code running": median(runs.map((r) => Number(r["loadedMs"]))) }
      for (const [k, v] of Object.entries(medianFields(runs.map((r) => r["stages"] as Record<string, unknown>)))) fields[k] = v
      for (const [k, v] of Object.entries(fields)) {
        const entry = coldStagesMs[k] ?? { plain: Number.NaN, codeCache: Number.NaN }
        entry[variant] = Number(Number(v).toFixed(2))
        coldStagesMs[k] = entry
      }
    }

    const r2 = (v: number) => Number(v.toFixed(2))
    return {
      rounds,
      gaitBundleBytes: statSync(paths.gait).size,
      commands,
      ratio: {
        distGateEvalOverNode: r2(stat(DIST_EVAL, "p50") / nodeMs),
        distVersionOverNode: r2(stat(DIST_VERSION, "p50") / nodeMs),
        distGateEvalOverNodeOfMinimums: r2(stat(DIST_EVAL, "min") / stat(NODE_BASELINE, "min")),
        binGateEvalOverNode: r2(stat(BIN_EVAL, "p50") / nodeMs),
        binGateEvalOverNodeOfMinimums: r2(stat(BIN_EVAL, "min") / stat(NODE_BASELINE, "min"))
      },
      breakdownMs,
      loadProbe,
      coldStagesMs,
      experiments
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
