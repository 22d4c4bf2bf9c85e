/**
 * From evaluation outcome to final decision (spec gate.md §1.2 steps 15–19, §5, §6.2): controls this
 * build does not enforce fail closed, delegation and approvals without tokens keep the decision from
 * becoming `allow`, simulate rewrites to a non-enforcing allow, and the exit code follows the verdict.
 */
import { Either } from "effect"
import { traceIdOf } from "../kernel/ids.js"
import { uniqueSorted } from "../kernel/text.js"
import { UnsupportedFeature } from "./errors.js"
import { evaluatePolicy, type Outcome } from "./evaluate.js"
import type { PreparedIntent } from "./intent.js"
import type { LoadedPolicy } from "./policy.js"
import type { Verdict } from "./vocabulary.js"

export type Profile = "standard" | "oss-prod"

export interface DecisionRequest {
  readonly policy: LoadedPolicy
  readonly intent: PreparedIntent
  readonly simulate: boolean
  /** Epoch nanoseconds used by time-dependent checks. */
  readonly now: bigint
}

export interface SimulationReport {
  readonly simulatedVerdict: Verdict
  readonly simulatedReasonCodes: ReadonlyArray<string>
  readonly wouldHaveBlocked: boolean
}

export interface Decision {
  readonly verdict: Verdict
  readonly reasonCodes: ReadonlyArray<string>
  readonly violations: ReadonlyArray<string>
  readonly matchedRule: string
  readonly requiredApprovals: number
  readonly delegationRequired: boolean
  readonly exitCode: 0 | 3 | 4
  readonly traceId: string
  readonly policyDigest: string
  readonly intentDigest: string
  readonly simulation: SimulationReport | undefined
  readonly outcome: Outcome
}

/** Exit code of a verdict (§6.2): block 3, require_approval 4, allow and dry_run 0. */
export const exitCodeOf = (verdict: Verdict): 0 | 3 | 4 =>
  verdict === "block" ? 3 : verdict === "require_approval" ? 4 : 0

const hasDestructiveTarget = (intent: PreparedIntent): boolean => {
  const steps = intent.body.script?.steps ?? []
  const targets = steps.length > 0 ? steps.flatMap((s) => s.targets ?? []) : intent.body.targets
  return targets.some((t) => t.destructive === true)
}

export const decide = (request: DecisionRequest): Either.Either<Decision, UnsupportedFeature> => {
  const { intent, policy } = request
  const outcome = evaluatePolicy(policy.policy, intent.body, { now: request.now })
  if (outcome.rateLimit !== undefined) {
    return Either.left(
      new UnsupportedFeature({
        feature: "rate_limit",
        detail: `matched rule ${outcome.matchedRule} carries rate_limit; refusing to decide without enforcing it`
      })
    )
  }
  if (outcome.destructiveBudget !== undefined && hasDestructiveTarget(intent)) {
    return Either.left(
      new UnsupportedFeature({
        feature: "destructive_budget",
        detail: `matched rule ${outcome.matchedRule} carries destructive_budget; refusing to decide without enforcing it`
      })
    )
  }

  let verdict = outcome.verdict
  let reasons = [...outcome.reasonCodes]
  let violations = [...outcome.violations]
  let exitCode: 0 | 3 | 4 = 0
  // No delegation tokens can be supplied to this build, so a required delegation is never granted.
  if (outcome.requireDelegation) {
    verdict = "block"
    reasons = uniqueSorted([...reasons, "delegation_token_missing"])
    violations = uniqueSorted([...violations, "delegation_not_granted"])
    exitCode = 3
  }
  const requiredApprovals = verdict === "require_approval" ? Math.max(1, outcome.minApprovals) : 0
  if (verdict === "require_approval") {
    reasons = uniqueSorted([...reasons, "approval_token_missing"])
    violations = uniqueSorted([...violations, "approval_not_granted"])
    exitCode = 4
  }
  // No credential broker is available in this build: a rule that requires one cannot be satisfied.
  if (outcome.requireBrokerCredential && verdict === "allow") {
    verdict = "block"
    reasons = uniqueSorted([...reasons, "broker_credential_required"])
    violations = uniqueSorted([...violations, "broker_credential_missing"])
  }
  let simulation: SimulationReport | undefined
  if (request.simulate) {
    const wouldHaveBlocked = verdict === "block" || verdict === "require_approval"
    simulation = { simulatedVerdict: verdict, simulatedReasonCodes: reasons, wouldHaveBlocked }
    reasons = uniqueSorted([...reasons, "simulate_mode_non_enforcing"])
    if (wouldHaveBlocked) {
      reasons = uniqueSorted([...reasons, `simulated_${verdict}`])
      verdict = "allow"
      violations = []
    }
    exitCode = 0
  }
  if (verdict === "block") exitCode = 3
  else if (verdict === "require_approval" && exitCode === 0 && !request.simulate) exitCode = 4
  return Either.right({
    verdict,
    reasonCodes: reasons,
    violations,
    matchedRule: outcome.matchedRule,
    requiredApprovals,
    delegationRequired: outcome.requireDelegation,
    exitCode,
    traceId: traceIdOf(policy.digest, intent.intentDigest, verdict),
    policyDigest: policy.digest,
    intentDigest: intent.intentDigest,
    simulation,
    outcome
  })
}
