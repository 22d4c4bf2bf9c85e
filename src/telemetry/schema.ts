/**
 * Telemetry records (ops.md §5.2–5.5) in the reference's struct order, which is the order written.
 *
 * Decoding reads a line the way Go's decoder does: an absent or `null` member is the zero value, so
 * a line that is valid JSON with the right types always decodes, and the rules (`validate…`,
 * `normalizeAdoptionEvent`) then judge it — the loader reports the two steps as `parse` and
 * `validate` errors, as the reference does. The same rules run before every append.
 */
import { Either, Option, ParseResult, Schema } from "effect"
import { defaultErrorCategory, defaultRetryable, isErrorCategory } from "../kernel/exit-codes.js"
import { compareBytes, lowerTrim, trim } from "../kernel/text.js"
import { GO_ZERO_TIME, parseRfc3339 } from "../kernel/time.js"
import { milestoneOf } from "./command.js"

export const OPERATIONAL_EVENT_SCHEMA = "gait.scout.operational_event"
export const ADOPTION_EVENT_SCHEMA = "gait.scout.adoption_event"
export const TELEMETRY_HEALTH_SCHEMA = "gait.scout.telemetry_health"
export const SCHEMA_VERSION = "1.0.0"
export const DEFAULT_PRODUCER_VERSION = "0.0.0-dev"

/** An RFC 3339 timestamp kept as text (it is written back unchanged). */
export const Timestamp = Schema.String.pipe(
  Schema.filter((s) => Option.isSome(parseRfc3339(s)), { message: () => "expected an RFC 3339 timestamp" })
)

const zeroString = Schema.optionalWith(Schema.String, { nullable: true, default: () => "" })
const zeroInt = Schema.optionalWith(Schema.Int, { nullable: true, default: () => 0 })
const zeroBoolean = Schema.optionalWith(Schema.Boolean, { nullable: true, default: () => false })
const zeroTime = Schema.optionalWith(Timestamp, { nullable: true, default: () => GO_ZERO_TIME })

export const Environment = Schema.Struct({ os: zeroString, arch: zeroString })
export type Environment = typeof Environment.Type

const zeroEnvironment = Schema.optionalWith(Environment, { nullable: true, default: () => ({ os: "", arch: "" }) })

export const OperationalEvent = Schema.Struct({
  schema_id: zeroString,
  schema_version: zeroString,
  created_at: zeroTime,
  producer_version: zeroString,
  correlation_id: zeroString,
  command: zeroString,
  /** `start` or `end`. */
  phase: zeroString,
  exit_code: zeroInt,
  /** `none` or one of the ten error categories. */
  error_category: zeroString,
  retryable: zeroBoolean,
  elapsed_ms: zeroInt,
  environment: zeroEnvironment
})
export type OperationalEvent = typeof OperationalEvent.Type

export const AdoptionEvent = Schema.Struct({
  schema_id: zeroString,
  schema_version: zeroString,
  created_at: zeroTime,
  producer_version: zeroString,
  command: zeroString,
  workflow_id: Schema.optionalWith(Schema.String, { exact: true, nullable: true }),
  success: zeroBoolean,
  exit_code: zeroInt,
  elapsed_ms: zeroInt,
  milestones: Schema.optionalWith(Schema.Array(Schema.String), { exact: true, nullable: true }),
  environment: zeroEnvironment
})
export type AdoptionEvent = typeof AdoptionEvent.Type

export const StreamCounters = Schema.Struct({
  attempts: Schema.NonNegativeInt,
  success: Schema.NonNegativeInt,
  failed: Schema.NonNegativeInt
})
export type StreamCounters = typeof StreamCounters.Type

/** The streams whose writes are counted; `telemetry_health` (the snapshot itself) only warns. */
export const TelemetryStream = Schema.Literal("adoption", "operational_start", "operational_end")
export type TelemetryStream = typeof TelemetryStream.Type

export const TelemetryHealth = Schema.Struct({
  schema_id: Schema.Literal(TELEMETRY_HEALTH_SCHEMA),
  schema_version: Schema.Literal(SCHEMA_VERSION),
  created_at: Timestamp,
  producer_version: Schema.String,
  streams: Schema.Record({ key: Schema.String, value: StreamCounters })
})
export type TelemetryHealth = typeof TelemetryHealth.Type

const isZeroTime = (text: string): boolean =>
  Option.getOrElse(
    Option.zipWith(parseRfc3339(text), parseRfc3339(GO_ZERO_TIME), (a, b) => a === b),
    () => false
  )

const requiredEnvironment = (env: Environment): string | undefined =>
  trim(env.os) === "" || trim(env.arch) === "" ? "environment os/arch are required" : undefined

/** The first rule an operational event breaks (§5.2), or `undefined` when it is valid. */
export const validateOperationalEvent = (e: OperationalEvent): string | undefined => {
  if (e.schema_id !== OPERATIONAL_EVENT_SCHEMA) return `invalid schema_id ${JSON.stringify(e.schema_id)}`
  if (e.schema_version !== SCHEMA_VERSION) return `invalid schema_version ${JSON.stringify(e.schema_version)}`
  if (isZeroTime(e.created_at)) return "created_at is required"
  if (trim(e.producer_version) === "") return "producer_version is required"
  if (trim(e.correlation_id) === "") return "correlation_id is required"
  if (trim(e.command) === "") return "command is required"
  const phase = lowerTrim(e.phase)
  if (phase !== "start" && phase !== "end") return "phase must be start or end"
  if (e.exit_code < 0 || e.exit_code > 255) return "exit_code out of range"
  if (e.elapsed_ms < 0) return "elapsed_ms must be >= 0"
  const category = lowerTrim(e.error_category)
  if (category === "") return "error_category is required"
  if (category !== "none" && !isErrorCategory(category)) return `unsupported error_category ${JSON.stringify(e.error_category)}`
  return requiredEnvironment(e.environment)
}

const canonicalHeader = (value: string, expected: string, field: string): Either.Either<string, string> => {
  const v = trim(value)
  return v === "" || v === expected ? Either.right(expected) : Either.left(`invalid ${field} ${JSON.stringify(value)}`)
}

/**
 * The adoption rules of §5.3: blank header fields and producer version are filled in, a negative
 * elapsed time becomes 0, milestones are trimmed, deduplicated and sorted; the rest are errors.
 */
export const normalizeAdoptionEvent = (e: AdoptionEvent): Either.Either<AdoptionEvent, string> =>
  Either.gen(function* () {
    const schema_id = yield* canonicalHeader(e.schema_id, ADOPTION_EVENT_SCHEMA, "schema_id")
    const schema_version = yield* canonicalHeader(e.schema_version, SCHEMA_VERSION, "schema_version")
    if (isZeroTime(e.created_at)) return yield* Either.left("created_at is required")
    if (trim(e.command) === "") return yield* Either.left("command is required")
    if (e.exit_code < 0) return yield* Either.left("exit_code must be >= 0")
    if (e.exit_code > 255) return yield* Either.left("exit_code must be <= 255")
    const env = requiredEnvironment(e.environment)
    if (env !== undefined) return yield* Either.left(env)
    const milestones = [...new Set((e.milestones ?? []).map(trim).filter((m) => m !== ""))].sort(compareBytes)
    return {
      schema_id,
      schema_version,
      created_at: e.created_at,
      producer_version: trim(e.producer_version) === "" ? DEFAULT_PRODUCER_VERSION : e.producer_version,
      command: e.command,
      ...(e.workflow_id === undefined || e.workflow_id === "" ? {} : { workflow_id: e.workflow_id }),
      success: e.success,
      exit_code: e.exit_code,
      elapsed_ms: Math.max(0, e.elapsed_ms),
      ...(milestones.length === 0 ? {} : { milestones }),
      environment: { os: e.environment.os, arch: e.environment.arch }
    }
  })

/** An operational event that passes §5.2's rules. */
export const ValidOperationalEvent = OperationalEvent.pipe(Schema.filter((e) => validateOperationalEvent(e) ?? true))

/** An adoption event, normalised by §5.3's rules on decode. */
export const ValidAdoptionEvent = Schema.transformOrFail(AdoptionEvent, Schema.typeSchema(AdoptionEvent), {
  strict: true,
  decode: (e, _, ast) =>
    Either.match(normalizeAdoptionEvent(e), {
      onLeft: (problem) => ParseResult.fail(new ParseResult.Type(ast, e, problem)),
      onRight: ParseResult.succeed
    }),
  encode: ParseResult.succeed
})

export interface OperationalInput {
  readonly phase: "start" | "end"
  /** RFC3339Nano. */
  readonly createdAt: string
  readonly producerVersion: string
  readonly correlationId: string
  readonly command: string
  /** 0 for a start event. */
  readonly exitCode: number
  readonly elapsedMs: number
  readonly environment: Environment
}

const orDefault = (value: string, fallback: string): string => (trim(value) === "" ? fallback : value)

/** A start or end event; the category and retryability follow from the exit code alone (§3.1). */
export const makeOperationalEvent = (input: OperationalInput): OperationalEvent => {
  const category = input.exitCode === 0 ? "none" : defaultErrorCategory(input.exitCode)
  return {
    schema_id: OPERATIONAL_EVENT_SCHEMA,
    schema_version: SCHEMA_VERSION,
    created_at: input.createdAt,
    producer_version: orDefault(input.producerVersion, DEFAULT_PRODUCER_VERSION),
    correlation_id: orDefault(input.correlationId, "unknown"),
    command: orDefault(input.command, "unknown"),
    phase: input.phase,
    exit_code: input.exitCode,
    error_category: category,
    retryable: defaultRetryable(category),
    elapsed_ms: Math.max(0, Math.trunc(input.elapsedMs)),
    environment: input.environment
  }
}

export interface AdoptionInput {
  readonly createdAt: string
  readonly producerVersion: string
  readonly command: string
  /** Trimmed `GAIT_ADOPTION_WORKFLOW`; omitted when blank. */
  readonly workflowId: string | undefined
  readonly exitCode: number
  readonly elapsedMs: number
  readonly environment: Environment
}

/** An adoption event; a successful run of a milestone command carries its milestone. */
export const makeAdoptionEvent = (input: AdoptionInput): AdoptionEvent => {
  const success = input.exitCode === 0
  const milestone = success ? milestoneOf(input.command) : undefined
  return {
    schema_id: ADOPTION_EVENT_SCHEMA,
    schema_version: SCHEMA_VERSION,
    created_at: input.createdAt,
    producer_version: orDefault(input.producerVersion, DEFAULT_PRODUCER_VERSION),
    command: input.command,
    ...(input.workflowId === undefined || input.workflowId === "" ? {} : { workflow_id: input.workflowId }),
    success,
    exit_code: input.exitCode,
    elapsed_ms: Math.max(0, Math.trunc(input.elapsedMs)),
    ...(milestone === undefined ? {} : { milestones: [milestone] }),
    environment: input.environment
  }
}
