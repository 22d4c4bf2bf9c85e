/** Runtime profiles (spec gate.md §1.4): `standard` adds nothing, `oss-prod` refuses weak setups. */
import { Either } from "effect"
import type { Decision, Profile } from "./decision.js"
import { UsageError } from "../kernel/errors.js"
import { ProfileViolation } from "./errors.js"
import type { Policy } from "./policy.js"

export const parseProfile = (raw: string | undefined): Either.Either<Profile, UsageError> => {
  const p = (raw ?? "").trim().toLowerCase()
  if (p === "" || p === "standard") return Either.right("standard")
  if (p === "oss-prod") return Either.right("oss-prod")
  return Either.left(
    new UsageError({ detail: `unsupported --profile value ${JSON.stringify(raw ?? "")} (expected standard or oss-prod)` })
  )
}

const violation = (detail: string) => Either.left(new ProfileViolation({ profile: "oss-prod", detail }))

export interface ProfileFlags {
  readonly simulate: boolean
  readonly keyMode: string
  readonly hasPrivateKeySource: boolean
}

/** Step 7: flag-level requirements, checked before anything is read. */
export const checkProfileFlags = (profile: Profile, flags: ProfileFlags): Either.Either<void, ProfileViolation> => {
  if (profile !== "oss-prod") return Either.void
  if (flags.simulate) return violation("oss-prod profile does not allow --simulate")
  if (flags.keyMode.trim().toLowerCase() !== "prod") return violation("oss-prod profile requires --key-mode prod")
  if (!flags.hasPrivateKeySource) return violation("oss-prod profile requires --private-key or --private-key-env")
  return Either.void
}

const isHighRiskActionRule = (rule: Policy["rules"][number]): boolean =>
  rule.effect !== "block" && rule.match.riskClasses.some((r) => r === "high" || r === "critical")

/** Steps 9 and 13: policy-level requirements (default verdict, brokered high-risk rules). */
export const checkProfilePolicy = (profile: Profile, policy: Policy): Either.Either<void, ProfileViolation> => {
  if (profile !== "oss-prod") return Either.void
  if (policy.defaultVerdict === "allow") {
    return violation(
      "oss-prod profile rejects policy default_verdict=allow; use default_verdict: block or require_approval"
    )
  }
  const highRisk = policy.rules.filter(isHighRiskActionRule)
  if (highRisk.some((r) => !r.requireBrokerCredential)) {
    return violation("oss-prod profile requires high-risk allow/approval rules to set require_broker_credential: true")
  }
  if (highRisk.some((r) => r.requireBrokerCredential)) {
    return violation("oss-prod profile requires --credential-broker for high-risk policies")
  }
  return Either.void
}

/** Step 19: decision-level requirements (explicit verify keys for delegation and approvals). */
export const checkProfileDecision = (
  profile: Profile,
  decision: Decision,
  hasApprovalVerifyKey: boolean
): Either.Either<void, ProfileViolation> => {
  if (profile !== "oss-prod") return Either.void
  if (decision.delegationRequired && !hasApprovalVerifyKey) {
    return violation(
      "oss-prod profile requires explicit delegation verify key (--delegation-public-key/--delegation-public-key-env or private key source)"
    )
  }
  if (decision.outcome.verdict === "require_approval" && !hasApprovalVerifyKey) {
    return violation(
      "oss-prod profile requires explicit approval verify key (--approval-public-key/--approval-public-key-env or approval private key source)"
    )
  }
  return Either.void
}
