/**
 * The file implementation of `Telemetry`: events appended through the locked line appender (0600,
 * one write and an fsync per record, §5.4), per-stream counters, and the health snapshot (§5.5)
 * rewritten atomically after every attempt. Loaded lazily by `telemetry.ts`.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Cause, Clock, Console, Effect, Exit, Ref } from "effect"
import { type AppendOptions, appendLineLocked } from "../kernel/append.js"
import { writeFileAtomic } from "../kernel/files.js"
import { goHost } from "../kernel/host.js"
import { renderJsonFile, renderJsonRecord } from "../kernel/json-output.js"
import { compareBytes } from "../kernel/text.js"
import { formatRfc3339Nano } from "../kernel/time.js"
import { VERSION } from "../version.js"
import { normalizeAdoptionCommand } from "./command.js"
import { TelemetryEventInvalid } from "./errors.js"
import {
  type AdoptionEvent,
  type Environment,
  makeAdoptionEvent,
  makeOperationalEvent,
  normalizeAdoptionEvent,
  type OperationalEvent,
  SCHEMA_VERSION,
  type StreamCounters,
  TELEMETRY_HEALTH_SCHEMA,
  type TelemetryHealth,
  type TelemetryStream,
  validateOperationalEvent
} from "./schema.js"
import type { Invocation, TelemetryApi, TelemetryRun, TelemetrySettings } from "./telemetry.js"

const LOG_MODE = 0o600

/** Validates and appends one operational event. */
export const appendOperationalEvent = Effect.fn("telemetry.appendOperationalEvent")(function* (
  path: string,
  event: OperationalEvent,
  options: AppendOptions = {}
) {
  const problem = validateOperationalEvent(event)
  if (problem !== undefined) return yield* new TelemetryEventInvalid({ log: "operational", detail: problem })
  yield* appendLineLocked(path, renderJsonRecord(event), { mode: LOG_MODE, ...options })
})

/** Normalises, validates and appends one adoption event. */
export const appendAdoptionEvent = Effect.fn("telemetry.appendAdoptionEvent")(function* (
  path: string,
  event: AdoptionEvent,
  options: AppendOptions = {}
) {
  const normalized = normalizeAdoptionEvent(event)
  if (normalized._tag === "Left") return yield* new TelemetryEventInvalid({ log: "adoption", detail: normalized.left })
  yield* appendLineLocked(path, renderJsonRecord(normalized.right), { mode: LOG_MODE, ...options })
})

export interface WriterOptions {
  /** Defaults to the CLI version. */
  readonly producerVersion?: string
  /** Defaults to this host in Go's names. */
  readonly environment?: Environment
}

const ZERO: StreamCounters = { attempts: 0, success: 0, failed: 0 }

const messageOf = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error.message : String(error)
}

/** The health snapshot for the given counters; streams in byte order, as Go writes a map. */
export const healthSnapshot = (
  counters: ReadonlyMap<TelemetryStream, StreamCounters>,
  createdAt: string,
  producerVersion: string
): TelemetryHealth => ({
  schema_id: TELEMETRY_HEALTH_SCHEMA,
  schema_version: SCHEMA_VERSION,
  created_at: createdAt,
  producer_version: producerVersion,
  streams: Object.fromEntries([...counters.entries()].sort(([a], [b]) => compareBytes(a, b)))
})

export const make = Effect.fn("telemetry.make")(function* (settings: TelemetrySettings, options: WriterOptions = {}) {
  const fs = yield* FileSystem.FileSystem
  const producerVersion = options.producerVersion ?? VERSION
  const environment = options.environment ?? goHost()
  const counters = yield* Ref.make<ReadonlyMap<TelemetryStream, StreamCounters>>(new Map())
  // Writes of one process are serialised, so the snapshot always reflects a settled count.
  const serial = yield* Effect.makeSemaphore(1)

  const warn = (stream: TelemetryStream | "telemetry_health", message: string) =>
    settings.warn ? Console.error(`gait warning: telemetry stream=${stream} write failed: ${message}`) : Effect.void

  const writeSnapshot = (healthPath: string) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeNanos
      const snapshot = healthSnapshot(yield* Ref.get(counters), formatRfc3339Nano(now), producerVersion)
      const written = yield* Effect.exit(writeFileAtomic(healthPath, renderJsonFile(snapshot), { mode: LOG_MODE }))
      if (Exit.isFailure(written)) yield* warn("telemetry_health", messageOf(written.cause))
    })

  const record = <E>(stream: TelemetryStream, write: Effect.Effect<void, E, FileSystem.FileSystem>) =>
    serial.withPermits(1)(
      Effect.gen(function* () {
        const outcome = yield* Effect.exit(write)
        const ok = Exit.isSuccess(outcome)
        yield* Ref.update(counters, (current) => {
          const before = current.get(stream) ?? ZERO
          return new Map(current).set(stream, {
            attempts: before.attempts + 1,
            success: before.success + (ok ? 1 : 0),
            failed: before.failed + (ok ? 0 : 1)
          })
        })
        if (Exit.isFailure(outcome)) yield* warn(stream, messageOf(outcome.cause))
        if (settings.healthPath !== undefined) yield* writeSnapshot(settings.healthPath)
      }).pipe(Effect.provideService(FileSystem.FileSystem, fs))
    )

  const operational = (path: string | undefined, event: OperationalEvent, stream: TelemetryStream) =>
    path === undefined ? Effect.void : record(stream, appendOperationalEvent(path, event))

  const start = Effect.fn("Telemetry.start")(function* (invocation: Invocation) {
    const startedAt = yield* Clock.currentTimeNanos
    const command = normalizeAdoptionCommand(invocation.args)
    const base = { producerVersion, correlationId: invocation.correlationId, command, environment }
    yield* operational(
      settings.operationalLog,
      makeOperationalEvent({ ...base, phase: "start", createdAt: formatRfc3339Nano(startedAt), exitCode: 0, elapsedMs: 0 }),
      "operational_start"
    )
    const finish = Effect.fn("Telemetry.finish")(function* (exitCode: number) {
      const finishedAt = yield* Clock.currentTimeNanos
      const createdAt = formatRfc3339Nano(finishedAt)
      const elapsedMs = Number((finishedAt - startedAt) / 1_000_000n)
      if (settings.adoptionLog !== undefined) {
        const event = makeAdoptionEvent({
          createdAt,
          producerVersion,
          command,
          workflowId: settings.adoptionWorkflow,
          exitCode,
          elapsedMs,
          environment
        })
        yield* record("adoption", appendAdoptionEvent(settings.adoptionLog, event))
      }
      yield* operational(
        settings.operationalLog,
        makeOperationalEvent({ ...base, phase: "end", createdAt, exitCode, elapsedMs }),
        "operational_end"
      )
    })
    const run: TelemetryRun = { finish }
    return run
  })

  const api: TelemetryApi = { start }
  return api
})
