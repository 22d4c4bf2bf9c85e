/**
 * `make bench`: in-process decision latency, full signed decision latency and whole-process start-up
 * against `node -e 0`. Prints tables and writes bench/results/latest.json. A report, not a test:
 * targets are compared and shown, never asserted. BENCH_QUICK=1 gives a short smoke run.
 * Run through scripts/bench.mjs, which bundles this file and the child probes into .tmp/bench/.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { VERSION } from "../src/version.js"
import { EXAMPLE_INTENT, EXAMPLE_POLICY, runMicro } from "./micro.js"
import { runProcess } from "./process.js"
import { fmt, table } from "./stats.js"

const quick = process.env["BENCH_QUICK"] === "1"
const root = process.cwd()
const benchDir = NodePath.resolve(process.env["GAIT_BENCH_DIR"] ?? ".tmp/bench")
const out = NodePath.resolve(process.env["GAIT_BENCH_OUT"] ?? "bench/results/latest.json")
const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

const started = Date.now()
const loadAtStart = Number((os.loadavg()[0] ?? 0).toFixed(2))
log(`gait bench${quick ? " (BENCH_QUICK=1)" : ""}: whole-process runs first, while this process is small`)
const proc = runProcess(
  quick,
  {
    gait: NodePath.join(root, "dist/gait.cjs"),
    launcher: existsSync(NodePath.join(root, "bin/gait.cjs")) ? NodePath.join(root, "bin/gait.cjs") : undefined,
    policy: NodePath.join(root, EXAMPLE_POLICY),
    intent: NodePath.join(root, EXAMPLE_INTENT),
    benchDir
  },
  log
)
log("in-process:")
const micro = runMicro(quick, log)

const evalAt = (rules: number) => micro.evaluation.find((e) => e.rules === rules)
const fullExample = micro.fullDecision[0]
const targets = [
  { name: "decide() p50 at 100 rules", unit: "µs", value: evalAt(100)?.decideUs.p50 ?? Number.NaN, target: 10 },
  { name: "full signed decision p50 (examples/policy.yaml)", unit: "µs", value: fullExample?.totalUs.p50 ?? Number.NaN, target: 150 },
  { name: "node dist/gait.cjs gate eval / node -e 0", unit: "×", value: proc.ratio.distGateEvalOverNode, target: 2.5 },
  { name: "node bin/gait.cjs gate eval / node -e 0", unit: "×", value: proc.ratio.binGateEvalOverNode, target: 2.5 }
].map((t) => ({ ...t, met: t.value <= t.target }))

const report = {
  schema_id: "gait.bench.report",
  schema_version: "1.0.0",
  generated_at: new Date().toISOString(),
  gait_version: VERSION,
  quick,
  duration_s: 0,
  environment: {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? "unknown",
    loadavg_1m_at_start: loadAtStart,
    loadavg_1m_at_end: Number((os.loadavg()[0] ?? 0).toFixed(2))
  },
  targets,
  in_process: micro,
  whole_process: proc
}

const sections: Array<string> = []
sections.push(
  "In-process evaluation (policy loaded once, intent prepared once; per-call µs)",
  table(
    ["rules", "evaluatePolicy p50", "p99", "decide p50", "p99", "calls", "load policy p50 ms"],
    micro.evaluation.map((e) => [
      String(e.rules),
      fmt(e.evaluatePolicyUs.p50, 2),
      fmt(e.evaluatePolicyUs.p99, 2),
      fmt(e.decideUs.p50, 2),
      fmt(e.decideUs.p99, 2),
      String(e.decideUs.n),
      fmt(e.loadPolicyMs.p50, 3)
    ])
  ),
  `timer overhead (empty call) p50 ${fmt(micro.timerOverheadUs.p50, 3)} µs, included above; the matching rule is evaluated last`,
  ""
)
for (const f of micro.fullDecision) {
  sections.push(
    `Full decision: parse + normalize + digests + decide + signed trace record, no write (${f.policy}, ${f.rules} rules; µs)`,
    table(
      ["stage", "p50", "p99"],
      [
        ...Object.entries(f.stagesUs).map(([k, v]) => [k, fmt(v.p50, 2), fmt(v.p99, 2)]),
        ["TOTAL (without render)", fmt(f.totalUs.p50, 2), fmt(f.totalUs.p99, 2)]
      ]
    ),
    ""
  )
}
sections.push(
  `Whole process (${proc.rounds} interleaved runs each, ms; bundle ${(proc.gaitBundleBytes / 1024).toFixed(0)} KiB; load average ${report.environment.loadavg_1m_at_start} on ${report.environment.cpus} CPUs at start)`,
  table(
    ["command", "p50", "p90", "min", "× node"],
    proc.commands.map((c) => {
      const node = proc.commands[0]?.ms.p50 ?? Number.NaN
      return [c.name, fmt(c.ms.p50), fmt(c.ms.p90), fmt(c.ms.min), `${fmt(c.ms.p50 / node, 2)}×`]
    })
  ),
  `ratio of minimums (least disturbed by other load): dist gate eval ${fmt(proc.ratio.distGateEvalOverNodeOfMinimums, 2)}×, bin gate eval ${fmt(proc.ratio.binGateEvalOverNodeOfMinimums, 2)}×`,
  "",
  "Where the whole-process time goes (differences between the commands above, ms)",
  table(
    ["part", "from medians", "from minimums"],
    Object.entries(proc.breakdownMs).map(([k, v]) => [k, fmt(v.p50), fmt(v.min)])
  ),
  "",
  "Loading the bundle in a fresh process (load-probe medians, ms)",
  table(
    ["variant", "before probe", "read", "compile", "evaluate", "cache"],
    Object.entries(proc.loadProbe).map(([k, v]) => [
      k,
      fmt(Number(v["beforeProbeMs"])),
      fmt(Number(v["readMs"])),
      fmt(Number(v["compileMs"])),
      fmt(Number(v["evaluateMs"])),
      String(v["cache"])
    ])
  ),
  "",
  "gate eval stages, first call in a fresh process (medians, ms)",
  table(
    ["stage", "no cache", "code cache"],
    Object.entries(proc.coldStagesMs).map(([k, v]) => [k, fmt(v.plain, 2), fmt(v.codeCache, 2)])
  ),
  "",
  `experiments: ${Object.entries(proc.experiments)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}`,
  "",
  "Targets (reported, not asserted)",
  table(
    ["target", "measured", "budget", "met"],
    targets.map((t) => [t.name, `${fmt(t.value, 2)} ${t.unit}`, `≤ ${t.target} ${t.unit}`, t.met ? "yes" : "NO"])
  )
)
process.stdout.write(`${sections.join("\n")}\n`)

report.duration_s = Number(((Date.now() - started) / 1000).toFixed(1))
mkdirSync(NodePath.dirname(out), { recursive: true })
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
log(`wrote ${NodePath.relative(root, out)} in ${report.duration_s} s`)
