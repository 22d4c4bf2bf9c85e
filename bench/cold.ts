/**
 * Cold-path probe: the stages of `gait gate eval` called once each in a fresh process, before the
 * JIT has seen them, which is what a CLI invocation pays. Prints one JSON line of milliseconds.
 * Inputs come from the environment (GAIT_BENCH_POLICY, GAIT_BENCH_INTENT, GAIT_BENCH_TRACE_OUT) so the
 * probe can also run under load-probe.cjs with a V8 code cache, as bin/gait.cjs runs the CLI.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { parseDocument } from "yaml"
import { writeFileAtomic } from "../src/kernel/files.js"
import { renderJsonFile } from "../src/kernel/json-output.js"
import { generateKeyPair } from "../src/kernel/signing.js"
import { decide } from "../src/gate/decision.js"
import { loadIntent, loadPolicy, signedTrace } from "./micro.js"

const loadedMs = performance.now()
const policyPath = process.env["GAIT_BENCH_POLICY"] ?? ""
const intentPath = process.env["GAIT_BENCH_INTENT"] ?? ""
const traceOut = process.env["GAIT_BENCH_TRACE_OUT"] ?? ""
const stages: Array<readonly [string, number]> = []
const stage = <A>(name: string, f: () => A): A => {
  const t0 = process.hrtime.bigint()
  const out = f()
  stages.push([name, Number(process.hrtime.bigint() - t0) / 1e6])
  return out
}

const policyText = stage("read policy file", () => readFileSync(policyPath, "utf8"))
stage("YAML parseDocument alone (first use of the yaml library)", () => parseDocument(policyText))
const policy = stage("load policy: YAML again + schema decode + normalize + digest", () => loadPolicy(policyText, policyPath))
const intent = stage("read + parse + prepare intent", () => loadIntent(readFileSync(intentPath, "utf8"), intentPath))
const decision = stage("decide", () => {
  const d = decide({ policy, intent, simulate: false, now: BigInt(Date.now()) * 1_000_000n })
  if (d._tag === "Left") throw new Error(`decide: ${d.left.detail}`)
  return d.right
})
const keys = stage("generate dev Ed25519 key pair", generateKeyPair)
const text = stage("trace record + digest + sign + render", () => renderJsonFile(signedTrace(decision, intent, keys)))
stage("first Effect.runSync (trivial)", () => Effect.runSync(Effect.succeed(1)))

const t0 = process.hrtime.bigint()
Effect.runPromise(writeFileAtomic(traceOut, text, { mode: 0o600 }).pipe(Effect.provide(NodeFileSystem.layer))).then(
  () => {
    stages.push(["atomic write + fsync (Effect FileSystem)", Number(process.hrtime.bigint() - t0) / 1e6])
    process.stdout.write(`${JSON.stringify({ loadedMs, stages: Object.fromEntries(stages) })}\n`)
  },
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`)
    process.exitCode = 1
  }
)
