/**
 * The `Telemetry` service in-process: layer selection from the environment, the events of one run,
 * the health snapshot counters (TestTelemetryHealthSnapshotTracksWriteOutcomes) and the warnings.
 */
import * as nodeFs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Console, Effect, Layer } from "effect"
import { loadAdoptionEvents, loadOperationalEvents } from "../../src/telemetry/load.js"
import {
  layerFromEnv,
  noop,
  Telemetry,
  TelemetryConfig,
  type TelemetrySettings
} from "../../src/telemetry/telemetry.js"
import { make } from "../../src/telemetry/writer.js"

const created: Array<string> = []
const tempDir = (): string => {
  const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "gait-telemetry-"))
  created.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of created.splice(0)) nodeFs.rmSync(dir, { recursive: true, force: true })
})

const withEnv = (env: Record<string, string>) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** A FileSystem that records every method used and fails it. */
const spyFileSystem = (used: Array<string>) =>
  Layer.succeed(
    FileSystem.FileSystem,
    new Proxy({} as FileSystem.FileSystem, {
      get: (_, property) => {
        used.push(String(property))
        return () => Effect.die(`unexpected FileSystem.${String(property)}`)
      }
    })
  )

/** Runs `program` with Console.error captured into `errors`. */
const capturingErrors = <A, E, R>(program: Effect.Effect<A, E, R>, errors: Array<string>) =>
  Console.consoleWith((current) =>
    Effect.withConsole(program, {
      ...current,
      error: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void errors.push(args.map(String).join(" ")))
    })
  )

const invocation = { args: ["version"], correlationId: "cid-1" }

describe("TelemetryConfig", () => {
  it.effect("reads the five variables; blank values are unset and only `off` (any case) silences warnings", () =>
    Effect.gen(function* () {
      const settings = yield* withEnv({
        GAIT_OPERATIONAL_LOG: " /tmp/ops.jsonl ",
        GAIT_ADOPTION_LOG: "  ",
        GAIT_ADOPTION_WORKFLOW: " wf-1 ",
        GAIT_TELEMETRY_HEALTH_PATH: "/tmp/health.json",
        GAIT_TELEMETRY_WARN: " OFF "
      })(TelemetryConfig)
      expect(settings).toStrictEqual({
        operationalLog: "/tmp/ops.jsonl",
        adoptionWorkflow: "wf-1",
        healthPath: "/tmp/health.json",
        warn: false
      })
      expect((yield* withEnv({ GAIT_TELEMETRY_WARN: "no" })(TelemetryConfig)).warn).toBe(true)
      expect(yield* withEnv({})(TelemetryConfig)).toStrictEqual({ warn: true })
    })
  )
})

describe("layerFromEnv", () => {
  it.effect("without either log it is the no-op service and touches no file, even with a health path set", () => {
    const used: Array<string> = []
    return Effect.gen(function* () {
      const telemetry = yield* Telemetry
      expect(telemetry).toBe(noop)
      const run = yield* telemetry.start(invocation)
      yield* run.finish(6)
      expect(used).toStrictEqual([])
    }).pipe(
      Effect.provide(layerFromEnv.pipe(Layer.provide(spyFileSystem(used)))),
      withEnv({ GAIT_TELEMETRY_HEALTH_PATH: "/tmp/never.json", GAIT_ADOPTION_WORKFLOW: "wf" })
    )
  })

  it.live("with GAIT_OPERATIONAL_LOG it writes start and end events with the correlation id and exit code", () => {
    const dir = tempDir()
    const log = path.join(dir, "ops.jsonl")
    return Effect.gen(function* () {
      const telemetry = yield* Telemetry
      expect(telemetry).not.toBe(noop)
      const run = yield* telemetry.start({ args: ["gate", "eval", "--json"], correlationId: "cid-2" })
      yield* Effect.sleep("5 millis")
      yield* run.finish(6)
      const events = yield* loadOperationalEvents(log)
      expect(events.map((e) => [e.phase, e.command, e.correlation_id, e.exit_code, e.error_category])).toStrictEqual([
        ["start", "gate eval", "cid-2", 0, "none"],
        ["end", "gate eval", "cid-2", 6, "invalid_input"]
      ])
      expect(events[1]?.elapsed_ms).toBeGreaterThanOrEqual(5)
      expect(nodeFs.existsSync(path.join(dir, "adoption.jsonl"))).toBe(false)
    }).pipe(
      Effect.provide(layerFromEnv.pipe(Layer.provideMerge(NodeFileSystem.layer))),
      withEnv({ GAIT_OPERATIONAL_LOG: log })
    )
  })
})

describe("file telemetry", () => {
  it.live("writes the adoption event between start and end, with workflow and milestone", () => {
    const dir = tempDir()
    const settings: TelemetrySettings = {
      operationalLog: path.join(dir, "ops.jsonl"),
      adoptionLog: path.join(dir, "adoption.jsonl"),
      adoptionWorkflow: "wf-7",
      warn: true
    }
    return Effect.gen(function* () {
      const telemetry = yield* make(settings, { producerVersion: "9.9.9", environment: { os: "plan9", arch: "mips" } })
      const run = yield* telemetry.start({ args: ["regress", "run", "--json"], correlationId: "cid-3" })
      yield* run.finish(0)
      const [adoption] = yield* loadAdoptionEvents(path.join(dir, "adoption.jsonl"))
      expect(adoption).toMatchObject({
        command: "regress run",
        workflow_id: "wf-7",
        success: true,
        exit_code: 0,
        milestones: ["A4"],
        producer_version: "9.9.9",
        environment: { os: "plan9", arch: "mips" }
      })
      const ops = yield* loadOperationalEvents(path.join(dir, "ops.jsonl"))
      expect(ops[1]?.created_at).toBe(adoption?.created_at)
      expect(nodeFs.statSync(path.join(dir, "adoption.jsonl")).mode & 0o777).toBe(0o600)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  })

  it.live("the health snapshot counts attempts, successes and failures per stream, and failures warn", () => {
    const dir = tempDir()
    const opsDir = path.join(dir, "ops")
    const health = path.join(dir, "health.json")
    const settings: TelemetrySettings = {
      operationalLog: path.join(opsDir, "ops.jsonl"),
      adoptionLog: path.join(dir, "adoption.jsonl"),
      healthPath: health,
      warn: true
    }
    const errors: Array<string> = []
    const readHealth = () => JSON.parse(nodeFs.readFileSync(health, "utf8")) as { streams: Record<string, unknown> }
    return Effect.gen(function* () {
      const telemetry = yield* make(settings)
      const run = yield* telemetry.start(invocation)
      expect(readHealth().streams).toStrictEqual({ operational_start: { attempts: 1, success: 1, failed: 0 } })
      yield* run.finish(0)
      // The operational log's directory becomes a regular file: the next end event cannot be written.
      nodeFs.rmSync(opsDir, { recursive: true })
      nodeFs.writeFileSync(opsDir, "")
      yield* run.finish(1)
      const snapshot = readHealth()
      expect(snapshot).toMatchObject({ schema_id: "gait.scout.telemetry_health", schema_version: "1.0.0" })
      expect(snapshot.streams).toStrictEqual({
        adoption: { attempts: 2, success: 2, failed: 0 },
        operational_end: { attempts: 2, success: 1, failed: 1 },
        operational_start: { attempts: 1, success: 1, failed: 0 }
      })
      expect(nodeFs.readFileSync(health, "utf8")).toMatch(/^\{\n {2}"schema_id": "gait\.scout\.telemetry_health",\n[\s\S]*\}\n$/)
      expect(nodeFs.statSync(health).mode & 0o777).toBe(0o600)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatch(/^gait warning: telemetry stream=operational_end write failed: create append directory: /)
    }).pipe((program) => capturingErrors(program, errors), Effect.provide(NodeFileSystem.layer))
  })

  it.live("a health path in a missing directory warns as telemetry_health; warn=false silences every warning", () => {
    const dir = tempDir()
    const settings: TelemetrySettings = {
      operationalLog: path.join(dir, "ops.jsonl"),
      healthPath: path.join(dir, "missing", "health.json"),
      warn: true
    }
    const errors: Array<string> = []
    return Effect.gen(function* () {
      const loud = yield* make(settings)
      yield* Effect.flatMap(loud.start(invocation), (run) => run.finish(0))
      expect(errors).toHaveLength(2)
      expect(errors.every((e) => e.startsWith("gait warning: telemetry stream=telemetry_health write failed: "))).toBe(true)
      expect(yield* loadOperationalEvents(path.join(dir, "ops.jsonl"))).toHaveLength(2)
      const quiet = yield* make({ ...settings, warn: false })
      yield* Effect.flatMap(quiet.start(invocation), (run) => run.finish(0))
      expect(errors).toHaveLength(2)
    }).pipe((program) => capturingErrors(program, errors), Effect.provide(NodeFileSystem.layer))
  })
})
