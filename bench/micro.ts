/**
 * In-process benchmarks: policy evaluation alone (1, 100, 1,000 rules) and the full decision path
 * (intent parse + normalization + digests + decide + trace record + Ed25519 signature + JSON render,
 * no file write). Inputs are prepared once; each sample is one call timed with hrtime.
 */
import { Either } from "effect"
import { readFileSync } from "node:fs"
import { type Decision, decide } from "../src/gate/decision.js"
import { evaluatePolicy } from "../src/gate/evaluate.js"
import { parseIntentText } from "../src/gate/gate.js"
import { type PreparedIntent, prepareIntent } from "../src/gate/intent.js"
import { type LoadedPolicy, loadPolicyText } from "../src/gate/policy.js"
import { buildTraceRecord, type EmitRequest } from "../src/gate/traces.js"
import type { TraceRecord } from "../src/gate/trace.js"
import { renderJsonFile } from "../src/kernel/json-output.js"
import { type Ed25519KeyPair, encodeBase64, generateKeyPair, SignatureAlg, signableDigest, signDigestBytes } from "../src/kernel/signing.js"
import { formatRfc3339Nano } from "../src/kernel/time.js"
import { MATCHING_RULE, generatePolicyYaml } from "./policies.js"
import { type MicroOptions, rounded, type Summary, timePerCall } from "./stats.js"

export const EXAMPLE_POLICY = "examples/policy.yaml"
export const EXAMPLE_INTENT = "examples/intents/read_file.json"

const orDie = <A, E>(e: Either.Either<A, E>, what: string): A => {
  if (Either.isLeft(e)) throw new Error(`${what}: ${JSON.stringify(e.left)}`)
  return e.right
}

export const loadPolicy = (text: string, path: string): LoadedPolicy => orDie(loadPolicyText(text, path), `load ${path}`)
export const loadIntent = (text: string, path: string): PreparedIntent =>
  orDie(Either.flatMap(parseIntentText(text, path), prepareIntent), `load ${path}`)

const NOW = 1_795_000_000_000_000_000n

const decideOnce = (policy: LoadedPolicy, intent: PreparedIntent): Decision =>
  orDie(decide({ policy, intent, simulate: false, now: NOW }), "decide")

let observedCounter = 0n
const nextObservedAt = (): string => formatRfc3339Nano(BigInt(Date.now()) * 1_000_000n + (observedCounter++ % 1_000_000n))

/** The trace record as `Traces.emit` builds and signs it, without the write. */
export const signedTrace = (decision: Decision, intent: PreparedIntent, keys: Ed25519KeyPair): TraceRecord => {
  const request: EmitRequest = {
    decision,
    intent,
    destination: { _tag: "Path", path: "trace.json" },
    correlationId: "0123456789abcdef01234567",
    latencyMs: 0.05
  }
  const unsigned = buildTraceRecord(request, nextObservedAt())
  const digestHex = orDie(signableDigest(unsigned), "digest")
  const sig = signDigestBytes(keys.privateKey, Buffer.from(digestHex, "hex"))
  return { ...unsigned, signature: { alg: SignatureAlg, key_id: keys.keyId, sig: encodeBase64(sig), signed_digest: digestHex } }
}

export interface EvalCase {
  readonly rules: number
  readonly verdict: string
  readonly matchedRule: string
  readonly loadPolicyMs: Summary
  readonly evaluatePolicyUs: Summary
  readonly decideUs: Summary
}

export interface FullCase {
  readonly policy: string
  readonly rules: number
  readonly totalUs: Summary
  readonly stagesUs: Readonly<Record<string, Summary>>
}

export interface MicroReport {
  readonly timerOverheadUs: Summary
  readonly evaluation: ReadonlyArray<EvalCase>
  readonly fullDecision: ReadonlyArray<FullCase>
}

const toMs = (s: Summary): Summary => ({
  n: s.n,
  p50: s.p50 / 1000,
  p90: s.p90 / 1000,
  p99: s.p99 / 1000,
  mean: s.mean / 1000,
  min: s.min / 1000,
  max: s.max / 1000
})

export const runMicro = (quick: boolean, log: (line: string) => void): MicroReport => {
  const fast: MicroOptions = quick
    ? { warmupMs: 100, sampleMs: 150, minIterations: 2_000, maxIterations: 100_000 }
    : { warmupMs: 500, sampleMs: 1_200, minIterations: 20_000, maxIterations: 1_000_000 }
  const slow: MicroOptions = quick
    ? { warmupMs: 100, sampleMs: 300, minIterations: 5, maxIterations: 500 }
    : { warmupMs: 400, sampleMs: 1_500, minIterations: 20, maxIterations: 5_000 }

  const intentText = readFileSync(EXAMPLE_INTENT, "utf8")
  const intent = loadIntent(intentText, EXAMPLE_INTENT)

  const timerOverheadUs = rounded(timePerCall(() => undefined, fast), 3)

  const evaluation: Array<EvalCase> = []
  for (const rules of [1, 100, 1_000]) {
    const yaml = generatePolicyYaml(rules)
    const path = `generated-${rules}.yaml`
    const policy = loadPolicy(yaml, path)
    if (policy.policy.rules.length !== rules) throw new Error(`generated policy has ${policy.policy.rules.length} rules, wanted ${rules}`)
    const check = decideOnce(policy, intent)
    if (check.verdict !== "allow" || check.matchedRule !== MATCHING_RULE) {
      throw new Error(`generated ${rules}-rule policy decided ${check.verdict} via "${check.matchedRule}", wanted allow via ${MATCHING_RULE}`)
    }
    log(`  evaluation, ${rules} rules`)
    const loadPolicyMs = rounded(toMs(timePerCall(() => loadPolicyText(yaml, path), slow)), 3)
    const body = intent.body
    const options = { now: NOW }
    const evaluatePolicyUs = rounded(timePerCall(() => evaluatePolicy(policy.policy, body, options), fast), 3)
    const request = { policy, intent, simulate: false, now: NOW }
    const decideUs = rounded(timePerCall(() => decide(request), fast), 3)
    evaluation.push({ rules, verdict: check.verdict, matchedRule: check.matchedRule, loadPolicyMs, evaluatePolicyUs, decideUs })
  }

  const keys = generateKeyPair()
  const fullDecision: Array<FullCase> = []
  const fullOptions: MicroOptions = quick
    ? { warmupMs: 150, sampleMs: 300, minIterations: 1_000, maxIterations: 20_000 }
    : { warmupMs: 500, sampleMs: 2_000, minIterations: 10_000, maxIterations: 200_000 }
  const stageOptions: MicroOptions = quick
    ? { warmupMs: 50, sampleMs: 100, minIterations: 1_000, maxIterations: 20_000 }
    : { warmupMs: 250, sampleMs: 600, minIterations: 5_000, maxIterations: 200_000 }
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ["examples/policy.yaml", readFileSync(EXAMPLE_POLICY, "utf8"), "allow-read-only-tools"],
    ["generated policy", generatePolicyYaml(100), MATCHING_RULE]
  ]
  for (const [name, yaml, expectedRule] of cases) {
    log(`  full decision, ${name}`)
    const policy = loadPolicy(yaml, name)
    const full = (): TraceRecord => {
      const prepared = loadIntent(intentText, EXAMPLE_INTENT)
      const decision = decideOnce(policy, prepared)
      return signedTrace(decision, prepared, keys)
    }
    const render = (): string => renderJsonFile(full())
    const sample = full()
    if (sample.verdict !== "allow" || !sample.signature?.sig) throw new Error(`full decision on ${name} gave ${sample.verdict}`)
    const check = decideOnce(policy, intent)
    if (check.matchedRule !== expectedRule) throw new Error(`full decision on ${name} matched "${check.matchedRule}"`)

    const request = orDie(parseIntentText(intentText, EXAMPLE_INTENT), "parse intent")
    const unsigned = buildTraceRecord(
      { decision: check, intent, destination: { _tag: "Path", path: "trace.json" }, correlationId: "0123456789abcdef01234567" },
      nextObservedAt()
    )
    const digest = Buffer.from(orDie(signableDigest(unsigned), "digest"), "hex")
    const traceDigest = () =>
      signableDigest(buildTraceRecord({ decision: check, intent, destination: { _tag: "Path", path: "t.json" } }, nextObservedAt()))
    const stagesUs: Record<string, Summary> = {
      "parse + decode intent JSON": timePerCall(() => parseIntentText(intentText, EXAMPLE_INTENT), stageOptions),
      "prepareIntent (normalize + 2 digests)": timePerCall(() => prepareIntent(request), stageOptions),
      "decide": timePerCall(() => decide({ policy, intent, simulate: false, now: NOW }), stageOptions),
      "trace record + JCS digest": timePerCall(traceDigest, stageOptions),
      "Ed25519 sign": timePerCall(() => signDigestBytes(keys.privateKey, digest), stageOptions),
      "render trace JSON": timePerCall(() => renderJsonFile(sample), stageOptions)
    }
    const totalUs = rounded(timePerCall(full, fullOptions), 3)
    stagesUs["total incl. render"] = timePerCall(render, stageOptions)
    const roundedStages: Record<string, Summary> = {}
    for (const [k, v] of Object.entries(stagesUs)) roundedStages[k] = rounded(v, 3)
    fullDecision.push({ policy: name, rules: policy.policy.rules.length, totalUs, stagesUs: roundedStages })
  }
  return { timerOverheadUs, evaluation, fullDecision }
}
