import { sha256Hex } from "./digest.js"

const ZERO_ID = "000000000000000000000000"

/**
 * Per-process correlation id: first 12 bytes of sha256 over the trimmed argv (argv[0] included),
 * joined with U+001F. Deterministic, so a re-run of the same command line is recognisable in logs.
 */
export const correlationIdOf = (argv: ReadonlyArray<string>): string =>
  argv.length === 0 ? ZERO_ID : sha256Hex(argv.map((a) => a.trim()).join("\x1f")).slice(0, 24)

/** Stable decision identity: the same policy, intent and verdict give the same id. */
export const traceIdOf = (policyDigest: string, intentDigest: string, verdict: string): string =>
  sha256Hex(`${policyDigest}:${intentDigest}:${verdict}`).slice(0, 24)

/** Per-emission identity, derived from the trace id and the RFC3339Nano `observed_at`. */
export const eventIdOf = (traceId: string, observedAt: string): string => sha256Hex(`${traceId}:${observedAt}`).slice(0, 24)
