/**
 * `gait gate eval`: the pipeline of spec gate.md §1.2 as an edge over the Gate, Keys and Traces
 * services. It holds no policy logic; every failure is a typed error rendered by diagnostics/.
 */
import { Command, Options } from "@effect/cli"
import { Clock, Effect, Layer, Option } from "effect"
import { loadProjectConfig, DEFAULT_CONFIG_PATH } from "../config/config.js"
import type { GateDefaults } from "../config/schema.js"
import type { Decision } from "../gate/decision.js"
import { UnsupportedFeature } from "../gate/errors.js"
import * as GateModule from "../gate/gate.js"
import { Gate } from "../gate/gate.js"
import { checkProfileDecision, checkProfileFlags, checkProfilePolicy, parseProfile } from "../gate/profile.js"
import * as TracesModule from "../gate/traces.js"
import { UsageError } from "../kernel/errors.js"
import { nonBlank } from "../kernel/text.js"
import { parseRfc3339 } from "../kernel/time.js"
import { hasVerifyKeySource, Keys, layerFor, loadVerifyKey, parseKeyMode } from "../keys/keys.js"
import { CorrelationId } from "./correlation.js"
import { booleanFlag, optionalText, present } from "./flags.js"
import { setExitCode } from "./exit.js"
import { printJson, printLines } from "./output.js"

export const GATE_EVAL_EXPLAIN =
  "Run policy evaluation for a single intent request, optionally simulate non-enforcing rollout, and write signed gate artifacts."

const text = optionalText
const flag = booleanFlag

const options = {
  policy: text("policy", "policy YAML file (or gate.policy in the project config)"),
  intent: text("intent", "intent request JSON file"),
  traceOut: text("trace-out", "trace file to write (default: trace_<trace_id>_<event_id>.json in the working directory)"),
  profile: text("profile", "runtime profile: standard (default) or oss-prod"),
  keyMode: text("key-mode", "signing key mode: dev (default, ephemeral key) or prod"),
  privateKey: text("private-key", "prod: file with the base64 64-byte Ed25519 private key"),
  privateKeyEnv: text("private-key-env", "prod: name of the environment variable holding the private key"),
  approvalPublicKey: text("approval-public-key", "approval verify key file (base64 32-byte public key)"),
  approvalPublicKeyEnv: text("approval-public-key-env", "environment variable holding the approval verify key"),
  approvalPrivateKey: text("approval-private-key", "approval key file (its public half verifies)"),
  approvalPrivateKeyEnv: text("approval-private-key-env", "environment variable holding the approval private key"),
  simulate: flag("simulate", "non-enforcing rollout: report what would have been blocked, exit 0"),
  evaluationTime: text("evaluation-time", "RFC 3339 time used as 'now' by time-dependent checks"),
  config: text("config", `project config file (default ${DEFAULT_CONFIG_PATH})`),
  noConfig: flag("no-config", "do not read the project config"),
  json: flag("json", "print one JSON line"),
  explain: flag("explain", "print what this command does and exit"),
  // Controls of the reference that this build does not enforce: accepted so that using them gives a
  // clear fail-closed error instead of an unknown-flag error or, worse, being ignored.
  approvalToken: text("approval-token", "approval token file (not supported by this build)"),
  approvalTokenChain: text("approval-token-chain", "more approval tokens (not supported by this build)"),
  delegationToken: text("delegation-token", "delegation token file (not supported by this build)"),
  killSwitchState: text("kill-switch-state", "kill-switch state file (not supported by this build)"),
  rateLimitState: text("rate-limit-state", "rate-limit state file (rules with rate_limit are refused by this build)"),
  credentialBroker: text("credential-broker", "credential broker: off (default); others are not supported by this build"),
  contextEnvelope: text("context-envelope", "verified context envelope (not supported by this build)"),
  wrkrInventory: text("wrkr-inventory", "Wrkr inventory (not supported by this build)"),
  approvedScriptRegistry: text("approved-script-registry", "approved-script registry (not supported by this build)")
}

type Flags = {
  readonly [K in keyof typeof options]: (typeof options)[K] extends Options.Options<infer A> ? A : never
}

const value = present

/** Flag value when set, else the project config's, else undefined (spec ops.md §1.4). */
const pick = (flag: Option.Option<string>, fromConfig: string | null | undefined): string | undefined =>
  value(flag) ?? nonBlank(fromConfig)

const UNSUPPORTED_FLAGS: ReadonlyArray<readonly [keyof Flags, string]> = [
  ["approvalToken", "--approval-token"],
  ["approvalTokenChain", "--approval-token-chain"],
  ["delegationToken", "--delegation-token"],
  ["killSwitchState", "--kill-switch-state"],
  ["contextEnvelope", "--context-envelope"],
  ["wrkrInventory", "--wrkr-inventory"],
  ["approvedScriptRegistry", "--approved-script-registry"]
]

const rejectUnsupported = (flags: Flags, gate: GateDefaults) =>
  Effect.gen(function* () {
    for (const [key, name] of UNSUPPORTED_FLAGS) {
      const configValue =
        key === "killSwitchState" ? gate.kill_switch_state : key === "wrkrInventory" ? gate.wrkr_inventory_path : undefined
      if (pick(flags[key] as Option.Option<string>, configValue) !== undefined) {
        return yield* new UnsupportedFeature({ feature: name, detail: "refusing to evaluate without the control it asks for" })
      }
    }
    const broker = (pick(flags.credentialBroker, gate.credential_broker) ?? "off").trim().toLowerCase()
    if (broker !== "off") {
      return yield* new UnsupportedFeature({ feature: "--credential-broker", detail: `broker "${broker}" is not available` })
    }
  })

const envelope = (
  decision: Decision,
  extra: { readonly profile: string; readonly tracePath: string; readonly eventId: string | undefined; readonly phase: string; readonly warnings: ReadonlyArray<string> }
): Record<string, unknown> => {
  const out: Record<string, unknown> = {
    ok: true,
    profile: extra.profile,
    verdict: decision.verdict,
    reason_codes: decision.reasonCodes,
    trace_id: decision.traceId,
    event_id: extra.eventId,
    trace_path: extra.tracePath,
    policy_digest: decision.policyDigest,
    intent_digest: decision.intentDigest,
    phase: extra.phase
  }
  if (decision.violations.length > 0) out.violations = decision.violations
  if (decision.requiredApprovals > 0) out.required_approvals = decision.requiredApprovals
  if (decision.delegationRequired) out.delegation_required = true
  if (decision.matchedRule !== "") out.matched_rule = decision.matchedRule
  const script = decision.outcome.script
  if (script !== undefined) {
    out.script = true
    out.step_count = script.stepCount
    out.composite_risk_class = script.compositeRiskClass
    out.step_verdicts = script.stepVerdicts
  }
  if (decision.outcome.sandbox !== undefined) out.sandbox = decision.outcome.sandbox
  if (decision.outcome.freezeWindow !== undefined) out.freeze_window = decision.outcome.freezeWindow
  if (decision.simulation !== undefined) {
    out.simulate_mode = true
    if (decision.simulation.wouldHaveBlocked) out.would_have_blocked = true
    out.simulated_verdict = decision.simulation.simulatedVerdict
    out.simulated_reason_codes = decision.simulation.simulatedReasonCodes
  }
  if (extra.warnings.length > 0) out.warnings = [...new Set(extra.warnings)].sort()
  return out
}

const textLines = (decision: Decision, tracePath: string, warnings: ReadonlyArray<string>): Array<string> => {
  const lines = [`gate eval: verdict=${decision.verdict}`, `trace: ${tracePath}`]
  if (decision.simulation !== undefined) {
    lines.push(
      `simulate: would_have_blocked=${decision.simulation.wouldHaveBlocked} simulated_verdict=${decision.simulation.simulatedVerdict}`
    )
  }
  if (decision.reasonCodes.length > 0) lines.push(`reasons: ${decision.reasonCodes.join(",")}`)
  if (decision.violations.length > 0) lines.push(`violations: ${decision.violations.join(",")}`)
  if (decision.requiredApprovals > 0) lines.push(`approvals: 0/${decision.requiredApprovals}`)
  for (const w of [...new Set(warnings)].sort()) lines.push(`warning: ${w}`)
  return lines
}

const run = (flags: Flags) =>
  Effect.gen(function* () {
    if (flags.explain && !flags.json) return yield* printLines([GATE_EVAL_EXPLAIN])
    const loaded = flags.noConfig
      ? { config: {}, warnings: [] }
      : yield* loadProjectConfig(value(flags.config) ?? DEFAULT_CONFIG_PATH)
    const gateDefaults: GateDefaults = loaded.config.gate ?? {}
    const policyPath = pick(flags.policy, gateDefaults.policy)
    const intentPath = value(flags.intent)
    if (policyPath === undefined || intentPath === undefined) {
      return yield* new UsageError({ detail: "both --policy and --intent are required" })
    }
    const profile = yield* parseProfile(pick(flags.profile, gateDefaults.profile))
    const evaluationTime = value(flags.evaluationTime)
    let now: bigint | undefined
    if (evaluationTime !== undefined) {
      const parsed = parseRfc3339(evaluationTime.trim())
      if (Option.isNone(parsed)) {
        return yield* new UsageError({ detail: `invalid --evaluation-time: ${JSON.stringify(evaluationTime)} is not RFC 3339` })
      }
      now = parsed.value
    }
    const keyModeRaw = pick(flags.keyMode, gateDefaults.key_mode) ?? "dev"
    const privateKey = pick(flags.privateKey, gateDefaults.private_key)
    const privateKeyEnv = pick(flags.privateKeyEnv, gateDefaults.private_key_env)
    yield* checkProfileFlags(profile, {
      simulate: flags.simulate,
      keyMode: keyModeRaw,
      hasPrivateKeySource: privateKey !== undefined || privateKeyEnv !== undefined
    })
    yield* rejectUnsupported(flags, gateDefaults)

    const gate = yield* Gate
    const policy = yield* gate.loadPolicy(policyPath)
    yield* checkProfilePolicy(profile, policy.policy)
    const intent = yield* gate.loadIntent(intentPath)

    const started = yield* Clock.currentTimeNanos
    const decision = yield* gate.decide({ policy, intent, simulate: flags.simulate, now: now ?? started })
    const latencyMs = Number((yield* Clock.currentTimeNanos) - started) / 1e6

    const keyMode = yield* parseKeyMode(keyModeRaw)
    const keysLayer = layerFor(keyMode, { path: privateKey, env: privateKeyEnv })
    const approvalKey = {
      publicKeyPath: pick(flags.approvalPublicKey, gateDefaults.approval_public_key),
      publicKeyEnv: pick(flags.approvalPublicKeyEnv, gateDefaults.approval_public_key_env),
      privateKeyPath: pick(flags.approvalPrivateKey, gateDefaults.approval_private_key),
      privateKeyEnv: pick(flags.approvalPrivateKeyEnv, gateDefaults.approval_private_key_env)
    }
    const hasApprovalKey = hasVerifyKeySource(approvalKey)
    const traceOut = pick(flags.traceOut, gateDefaults.trace_path)
    const correlationId = yield* CorrelationId

    const emitted = yield* Effect.gen(function* () {
      const keys = yield* Keys
      if (hasApprovalKey) yield* loadVerifyKey(approvalKey)
      yield* checkProfileDecision(profile, decision, hasApprovalKey)
      const traces = yield* TracesModule.Traces
      const trace = yield* traces.emit({
        decision,
        intent,
        correlationId,
        latencyMs,
        destination: traceOut === undefined ? { _tag: "Directory", dir: "." } : { _tag: "Path", path: traceOut }
      })
      return { trace, warnings: keys.warnings }
    }).pipe(Effect.provide(TracesModule.layer.pipe(Layer.provideMerge(keysLayer))))

    const warnings = [...loaded.warnings, ...emitted.warnings]
    yield* setExitCode(decision.exitCode)
    if (flags.json) {
      return yield* printJson(
        envelope(decision, {
          profile,
          tracePath: emitted.trace.path,
          eventId: emitted.trace.record.event_id,
          phase: intent.body.context.phase,
          warnings
        })
      )
    }
    return yield* printLines(textLines(decision, emitted.trace.path, warnings))
  })

export const evalCommand = Command.make("eval", options, (flags) => run(flags as Flags)).pipe(
  Command.withDescription(GATE_EVAL_EXPLAIN)
)

export const gateCommand = Command.make("gate", { json: Options.boolean("json") }, () =>
  Effect.fail(new UsageError({ detail: "gait gate requires a subcommand: eval" }))
).pipe(
  Command.withDescription("Evaluate tool-call intents against a policy."),
  Command.withSubcommands([evalCommand]),
  Command.provide(GateModule.layer)
)

