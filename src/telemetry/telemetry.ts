/**
 * The `Telemetry` service (ops.md §5): an operational start event before a command runs, then an
 * adoption event and an operational end event with its exit code. It never fails: a failed write is
 * counted in the health snapshot and, unless `GAIT_TELEMETRY_WARN=off`, warned about on stderr.
 *
 * This module is deliberately light. Without `GAIT_OPERATIONAL_LOG` and `GAIT_ADOPTION_LOG` the
 * no-op layer is used; the file implementation (`writer.ts`) is imported only when a log is set,
 * so a plain run neither evaluates it nor touches the filesystem.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import { Config, Context, Effect, Layer } from "effect"
import { lowerTrim, trim } from "../kernel/text.js"

/** One CLI invocation as telemetry sees it. */
export interface Invocation {
  /** The user arguments (argv without the program name). */
  readonly args: ReadonlyArray<string>
  /** The process correlation id, shared by the start and end events. */
  readonly correlationId: string
}

/** A started invocation. */
export interface TelemetryRun {
  /** Records the end of the invocation with the exit code the process is about to return. */
  readonly finish: (exitCode: number) => Effect.Effect<void>
}

export interface TelemetryApi {
  /** Records the start of an invocation (its time, command and correlation id). */
  readonly start: (invocation: Invocation) => Effect.Effect<TelemetryRun>
}

export class Telemetry extends Context.Tag("gait/Telemetry")<Telemetry, TelemetryApi>() {}

const noopRun: TelemetryRun = { finish: () => Effect.void }

export const noop: TelemetryApi = { start: () => Effect.succeed(noopRun) }

export const layerNoop: Layer.Layer<Telemetry> = Layer.succeed(Telemetry, noop)

/** The environment (§5.6), read once per process; blank values count as unset. */
export interface TelemetrySettings {
  readonly operationalLog?: string
  readonly adoptionLog?: string
  /** `workflow_id` of adoption events. */
  readonly adoptionWorkflow?: string
  /** Rewritten after every write attempt; its directory must exist. */
  readonly healthPath?: string
  /** False when `GAIT_TELEMETRY_WARN=off` (any case). */
  readonly warn: boolean
}

const optionalVar = (name: string) =>
  Config.string(name).pipe(
    Config.withDefault(""),
    Config.map((value) => {
      const trimmed = trim(value)
      return trimmed === "" ? undefined : trimmed
    })
  )

export const TelemetryConfig: Config.Config<TelemetrySettings> = Config.map(
  Config.all({
    operationalLog: optionalVar("GAIT_OPERATIONAL_LOG"),
    adoptionLog: optionalVar("GAIT_ADOPTION_LOG"),
    adoptionWorkflow: optionalVar("GAIT_ADOPTION_WORKFLOW"),
    healthPath: optionalVar("GAIT_TELEMETRY_HEALTH_PATH"),
    warn: Config.string("GAIT_TELEMETRY_WARN").pipe(Config.withDefault(""))
  }),
  ({ operationalLog, adoptionLog, adoptionWorkflow, healthPath, warn }) => ({
    ...(operationalLog === undefined ? {} : { operationalLog }),
    ...(adoptionLog === undefined ? {} : { adoptionLog }),
    ...(adoptionWorkflow === undefined ? {} : { adoptionWorkflow }),
    ...(healthPath === undefined ? {} : { healthPath }),
    warn: lowerTrim(warn) !== "off"
  })
)

const DISABLED: TelemetrySettings = { warn: true }

const settingsFromConfig = Effect.orElseSucceed(TelemetryConfig, () => DISABLED)

export const isEnabled = (settings: TelemetrySettings): boolean =>
  settings.operationalLog !== undefined || settings.adoptionLog !== undefined

/** The file-backed service for explicit settings. */
export const layerFileWith = (settings: TelemetrySettings): Layer.Layer<Telemetry, never, FileSystem.FileSystem> =>
  Layer.effect(
    Telemetry,
    Effect.flatMap(
      Effect.promise(() => import("./writer.js")),
      (writer) => writer.make(settings)
    )
  )

/** The file-backed service configured from the environment. */
export const layerFile: Layer.Layer<Telemetry, never, FileSystem.FileSystem> = Layer.unwrapEffect(
  Effect.map(settingsFromConfig, layerFileWith)
)

/** The file-backed service when a log is configured, otherwise the no-op one. */
export const layerFromEnv: Layer.Layer<Telemetry, never, FileSystem.FileSystem> = Layer.unwrapEffect(
  Effect.map(settingsFromConfig, (settings) => (isEnabled(settings) ? layerFileWith(settings) : layerNoop))
)
