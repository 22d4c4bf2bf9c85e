/** Telemetry records: field order, constructor defaults, and the validation rules (ops.md §5.2, §5.3, §5.5). */
import { Either, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { renderJsonRecord } from "../../src/kernel/json-output.js"
import {
  type AdoptionEvent,
  AdoptionEvent as AdoptionEventSchema,
  makeAdoptionEvent,
  makeOperationalEvent,
  normalizeAdoptionEvent,
  type OperationalEvent,
  OperationalEvent as OperationalEventSchema,
  TelemetryHealth,
  ValidAdoptionEvent,
  ValidOperationalEvent,
  validateOperationalEvent
} from "../../src/telemetry/schema.js"
import { healthSnapshot } from "../../src/telemetry/writer.js"

const env = { os: "linux", arch: "amd64" }

const start: OperationalEvent = makeOperationalEvent({
  phase: "start",
  createdAt: "2026-02-06T16:00:00.123Z",
  producerVersion: "0.0.0-dev",
  correlationId: "e817da1ea5bc1c4b0c6da48f",
  command: "version",
  exitCode: 0,
  elapsedMs: 0,
  environment: env
})

const adoption: AdoptionEvent = makeAdoptionEvent({
  createdAt: "2026-02-06T16:00:01Z",
  producerVersion: "0.1.0",
  command: "verify",
  workflowId: "wf-1",
  exitCode: 0,
  elapsedMs: 12,
  environment: env
})

describe("operational events", () => {
  it("render in the reference's field order (the §5.2 example, byte for byte)", () => {
    expect(renderJsonRecord(start)).toBe(
      '{"schema_id":"gait.scout.operational_event","schema_version":"1.0.0","created_at":"2026-02-06T16:00:00.123Z","producer_version":"0.0.0-dev","correlation_id":"e817da1ea5bc1c4b0c6da48f","command":"version","phase":"start","exit_code":0,"error_category":"none","retryable":false,"elapsed_ms":0,"environment":{"os":"linux","arch":"amd64"}}'
    )
    expect(validateOperationalEvent(start)).toBeUndefined()
  })

  it.each([
    [0, "none"],
    [1, "internal_failure"],
    [2, "verification_failed"],
    [3, "policy_blocked"],
    [4, "approval_required"],
    [5, "internal_failure"],
    [6, "invalid_input"],
    [7, "dependency_missing"],
    [8, "internal_failure"],
    [130, "internal_failure"]
  ])("an end event with exit %i has error_category %s and retryable false", (exitCode, category) => {
    const end = makeOperationalEvent({ ...inputOf(start), phase: "end", exitCode, elapsedMs: 41.9 })
    expect(end).toMatchObject({ phase: "end", exit_code: exitCode, error_category: category, retryable: false, elapsed_ms: 41 })
    expect(validateOperationalEvent(end)).toBeUndefined()
  })

  it("constructor defaults: blank command and correlation id become unknown, a blank version 0.0.0-dev, negative elapsed 0", () => {
    const event = makeOperationalEvent({ ...inputOf(start), command: " ", correlationId: "", producerVersion: "", elapsedMs: -5 })
    expect(event).toMatchObject({ command: "unknown", correlation_id: "unknown", producer_version: "0.0.0-dev", elapsed_ms: 0 })
  })

  it.each([
    [{ schema_id: "gait.other" }, 'invalid schema_id "gait.other"'],
    [{ schema_version: "2.0.0" }, 'invalid schema_version "2.0.0"'],
    [{ created_at: "0001-01-01T00:00:00Z" }, "created_at is required"],
    [{ producer_version: " " }, "producer_version is required"],
    [{ correlation_id: "" }, "correlation_id is required"],
    [{ command: "" }, "command is required"],
    [{ phase: "middle" }, "phase must be start or end"],
    [{ exit_code: -1 }, "exit_code out of range"],
    [{ exit_code: 256 }, "exit_code out of range"],
    [{ elapsed_ms: -1 }, "elapsed_ms must be >= 0"],
    [{ error_category: "" }, "error_category is required"],
    [{ error_category: "io_trouble" }, 'unsupported error_category "io_trouble"'],
    [{ environment: { os: "linux", arch: "" } }, "environment os/arch are required"]
  ] as ReadonlyArray<[Partial<OperationalEvent>, string]>)("%j is rejected: %s", (patch, message) => {
    expect(validateOperationalEvent({ ...start, ...patch })).toBe(message)
    expect(Either.isLeft(Schema.decodeUnknownEither(ValidOperationalEvent)({ ...start, ...patch }))).toBe(true)
  })

  it("phase and error_category are compared case-insensitively", () => {
    expect(validateOperationalEvent({ ...start, phase: " END ", error_category: "Invalid_Input" })).toBeUndefined()
  })

  it("decodes absent or null members as Go's zero values (then the rules judge them)", () => {
    const decoded = Schema.decodeUnknownSync(OperationalEventSchema)({ schema_id: "gait.scout.operational_event", exit_code: null })
    expect(decoded).toMatchObject({ schema_version: "", created_at: "0001-01-01T00:00:00Z", exit_code: 0, environment: { os: "", arch: "" } })
    expect(validateOperationalEvent(decoded)).toBe('invalid schema_version ""')
    expect(Either.isLeft(Schema.decodeUnknownEither(OperationalEventSchema)({ created_at: "yesterday" }))).toBe(true)
    expect(Either.isLeft(Schema.decodeUnknownEither(OperationalEventSchema)({ exit_code: 1.5 }))).toBe(true)
  })
})

describe("adoption events", () => {
  it("render in the reference's field order, with workflow_id and the milestone of a successful verify", () => {
    expect(renderJsonRecord(adoption)).toBe(
      '{"schema_id":"gait.scout.adoption_event","schema_version":"1.0.0","created_at":"2026-02-06T16:00:01Z","producer_version":"0.1.0","command":"verify","workflow_id":"wf-1","success":true,"exit_code":0,"elapsed_ms":12,"milestones":["A2"],"environment":{"os":"linux","arch":"amd64"}}'
    )
  })

  it("a failed run has no milestones; a blank workflow is omitted", () => {
    const failed = makeAdoptionEvent({ ...adoptionInput, exitCode: 2, workflowId: "" })
    expect(failed).not.toHaveProperty("milestones")
    expect(failed).not.toHaveProperty("workflow_id")
    expect(failed.success).toBe(false)
    expect(makeAdoptionEvent({ ...adoptionInput, command: "regress run" }).milestones).toStrictEqual(["A4"])
    expect(makeAdoptionEvent({ ...adoptionInput, command: "version" })).not.toHaveProperty("milestones")
  })

  it("normalisation fills blank headers and producer version, clamps elapsed, trims, dedupes and sorts milestones", () => {
    const normalized = normalizeAdoptionEvent({
      ...adoption,
      schema_id: " ",
      schema_version: "",
      producer_version: "",
      elapsed_ms: -3,
      milestones: [" A4", "A1 ", "A4", "", "A2"]
    })
    expect(normalized).toStrictEqual(
      Either.right({
        ...adoption,
        producer_version: "0.0.0-dev",
        elapsed_ms: 0,
        milestones: ["A1", "A2", "A4"]
      })
    )
    expect(Object.keys(Either.getOrThrow(normalized))).toStrictEqual(Object.keys(adoption))
  })

  it.each([
    [{ schema_id: "gait.scout.operational_event" }, 'invalid schema_id "gait.scout.operational_event"'],
    [{ schema_version: "0.9" }, 'invalid schema_version "0.9"'],
    [{ created_at: "0001-01-01T00:00:00Z" }, "created_at is required"],
    [{ command: "  " }, "command is required"],
    [{ exit_code: -1 }, "exit_code must be >= 0"],
    [{ exit_code: 256 }, "exit_code must be <= 255"],
    [{ environment: { os: "", arch: "amd64" } }, "environment os/arch are required"]
  ] as ReadonlyArray<[Partial<AdoptionEvent>, string]>)("%j is rejected: %s", (patch, message) => {
    expect(normalizeAdoptionEvent({ ...adoption, ...patch })).toStrictEqual(Either.left(message))
  })

  it("ValidAdoptionEvent decodes and normalises in one step; null members are absent", () => {
    const decoded = Schema.decodeUnknownSync(ValidAdoptionEvent)({
      schema_id: "gait.scout.adoption_event",
      created_at: "2026-02-06T16:00:01Z",
      command: "demo",
      success: true,
      milestones: null,
      workflow_id: null,
      environment: env,
      unknown_member: 1
    })
    expect(decoded).toStrictEqual({
      schema_id: "gait.scout.adoption_event",
      schema_version: "1.0.0",
      created_at: "2026-02-06T16:00:01Z",
      producer_version: "0.0.0-dev",
      command: "demo",
      success: true,
      exit_code: 0,
      elapsed_ms: 0,
      environment: env
    })
    expect(Either.isLeft(Schema.decodeUnknownEither(ValidAdoptionEvent)({ command: "demo", created_at: "2026-02-06T16:00:01Z" }))).toBe(true)
    expect(Schema.decodeUnknownSync(AdoptionEventSchema)({}).created_at).toBe("0001-01-01T00:00:00Z")
  })
})

describe("health snapshot", () => {
  it("lists streams in byte order and decodes with TelemetryHealth", () => {
    const snapshot = healthSnapshot(
      new Map([
        ["operational_start", { attempts: 1, success: 1, failed: 0 }],
        ["adoption", { attempts: 1, success: 1, failed: 0 }],
        ["operational_end", { attempts: 2, success: 1, failed: 1 }]
      ] as const),
      "2026-02-06T16:00:00Z",
      "0.1.0"
    )
    expect(Object.keys(snapshot.streams)).toStrictEqual(["adoption", "operational_end", "operational_start"])
    expect(Schema.decodeUnknownSync(TelemetryHealth)(JSON.parse(JSON.stringify(snapshot)))).toStrictEqual(snapshot)
  })
})

function inputOf(event: OperationalEvent) {
  return {
    phase: "start" as const,
    createdAt: event.created_at,
    producerVersion: event.producer_version,
    correlationId: event.correlation_id,
    command: event.command,
    exitCode: event.exit_code,
    elapsedMs: event.elapsed_ms,
    environment: event.environment
  }
}

const adoptionInput = {
  createdAt: "2026-02-06T16:00:01Z",
  producerVersion: "0.1.0",
  command: "verify",
  workflowId: undefined,
  exitCode: 0,
  elapsedMs: 12,
  environment: env
}
