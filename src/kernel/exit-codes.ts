/**
 * The exit-code defaults of ops.md §3.1: what an exit code means when nothing more specific is known
 * (the operational log's `error_category`, the envelope's fallbacks).
 */

/** The canonical categories of the reference (exactly these ten). */
export const ERROR_CATEGORIES = [
  "invalid_input",
  "verification_failed",
  "policy_blocked",
  "approval_required",
  "dependency_missing",
  "io_failure",
  "state_contention",
  "network_transient",
  "network_permanent",
  "internal_failure"
] as const

export type ErrorCategory = (typeof ERROR_CATEGORIES)[number]

interface ExitDefaults {
  readonly code: string
  readonly category: ErrorCategory
  readonly hint: string
}

const INTERNAL: ExitDefaults = {
  code: "internal_failure",
  category: "internal_failure",
  hint: "retry after checking local environment and logs"
}

const BY_EXIT: ReadonlyArray<ExitDefaults> = [
  INTERNAL,
  INTERNAL,
  { code: "verification_failed", category: "verification_failed", hint: "re-run verify after checking artifact integrity" },
  { code: "policy_blocked", category: "policy_blocked", hint: "inspect reason_codes and adjust policy or intent" },
  { code: "approval_required", category: "approval_required", hint: "provide a valid approval token and retry" },
  // Exits 5 and 8 keep their own code but report internal_failure, as the reference does.
  { code: "regress_failed", category: "internal_failure", hint: INTERNAL.hint },
  { code: "invalid_input", category: "invalid_input", hint: "check command usage and input schema" },
  { code: "dependency_missing", category: "dependency_missing", hint: "install or configure the missing dependency and retry" },
  { code: "unsafe_operation", category: "internal_failure", hint: "pass explicit unsafe flags only for approved replay paths" }
]

const defaultsOf = (exitCode: number): ExitDefaults => BY_EXIT[exitCode] ?? INTERNAL

export const defaultErrorCode = (exitCode: number): string => defaultsOf(exitCode).code
export const defaultErrorCategory = (exitCode: number): ErrorCategory => defaultsOf(exitCode).category
export const defaultHint = (exitCode: number): string => defaultsOf(exitCode).hint

/** Only transient network failures and contention are worth retrying as they are. */
export const defaultRetryable = (category: string): boolean =>
  category === "network_transient" || category === "state_contention"

export const isErrorCategory = (value: string): value is ErrorCategory =>
  (ERROR_CATEGORIES as ReadonlyArray<string>).includes(value)
