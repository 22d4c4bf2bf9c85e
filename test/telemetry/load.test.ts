/** Loading telemetry logs (ops.md §5.2, §5.3): line numbering, the parse/validate split, limits. */
import * as nodeFs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { renderJsonRecord } from "../../src/kernel/json-output.js"
import { TelemetryLogInvalid } from "../../src/telemetry/errors.js"
import { loadAdoptionEvents, loadOperationalEvents, MAX_LINE_BYTES } from "../../src/telemetry/load.js"
import { makeAdoptionEvent, makeOperationalEvent } from "../../src/telemetry/schema.js"
import { appendOperationalEvent } from "../../src/telemetry/writer.js"

const created: Array<string> = []
const tempDir = (): string => {
  const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "gait-telemetry-load-"))
  created.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of created.splice(0)) nodeFs.rmSync(dir, { recursive: true, force: true })
})

const env = { os: "linux", arch: "amd64" }
const operational = (id: string, phase: "start" | "end" = "start") =>
  makeOperationalEvent({
    phase,
    createdAt: "2026-02-06T16:00:00.123Z",
    producerVersion: "0.1.0",
    correlationId: id,
    command: "version",
    exitCode: 0,
    elapsedMs: 0,
    environment: env
  })
const adoption = (i: number) =>
  makeAdoptionEvent({
    createdAt: "2026-02-06T16:00:01Z",
    producerVersion: "0.1.0",
    command: i % 2 === 0 ? "demo" : "gate eval",
    workflowId: undefined,
    exitCode: i % 3 === 0 ? 0 : 6,
    elapsedMs: i,
    environment: env
  })

const loadError = (result: Either.Either<unknown, unknown>): TelemetryLogInvalid => {
  expect(Either.isLeft(result)).toBe(true)
  const error = Either.isLeft(result) ? result.left : undefined
  expect(error).toBeInstanceOf(TelemetryLogInvalid)
  return error as TelemetryLogInvalid
}

describe("loadOperationalEvents", () => {
  it.live("skips blank lines, accepts CRLF and keeps file order", () =>
    Effect.gen(function* () {
      const file = path.join(tempDir(), "ops.jsonl")
      const lines = [renderJsonRecord(operational("a")), "", "   ", `${renderJsonRecord(operational("a", "end"))}\r`, renderJsonRecord(operational("b"))]
      nodeFs.writeFileSync(file, `${lines.join("\n")}\n`)
      const events = yield* loadOperationalEvents(file)
      expect(events.map((e) => [e.correlation_id, e.phase])).toStrictEqual([
        ["a", "start"],
        ["a", "end"],
        ["b", "start"]
      ])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("a line that is not JSON is a parse error; line numbers count blank lines", () =>
    Effect.gen(function* () {
      const file = path.join(tempDir(), "ops.jsonl")
      nodeFs.writeFileSync(file, `${renderJsonRecord(operational("a"))}\n\n{"schema_id":\n`)
      const error = loadError(yield* Effect.either(loadOperationalEvents(file)))
      expect(error.stage).toBe("parse")
      expect(error.line).toBe(3)
      expect(error.message).toMatch(/^parse operational log line 3: /)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("a member of the wrong type is a parse error that names it", () =>
    Effect.gen(function* () {
      const file = path.join(tempDir(), "ops.jsonl")
      nodeFs.writeFileSync(file, `${JSON.stringify({ ...operational("a"), exit_code: "0" })}\n`)
      const error = loadError(yield* Effect.either(loadOperationalEvents(file)))
      expect(error.message).toBe('parse operational log line 1: exit_code: expected a number, got "0"')
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("an event that breaks a rule is a validate error", () =>
    Effect.gen(function* () {
      const file = path.join(tempDir(), "ops.jsonl")
      nodeFs.writeFileSync(file, `${renderJsonRecord(operational("a"))}\n${JSON.stringify({ ...operational("b"), phase: "middle" })}\n`)
      const error = loadError(yield* Effect.either(loadOperationalEvents(file)))
      expect(error.message).toBe("validate operational log line 2: phase must be start or end")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("a missing file is an open error; a line above 1 MiB is a read error", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const missing = loadError(yield* Effect.either(loadOperationalEvents(path.join(dir, "none.jsonl"))))
      expect(missing.stage).toBe("open")
      expect(missing.message).toMatch(/^open operational log: NotFound/)
      const big = path.join(dir, "big.jsonl")
      nodeFs.writeFileSync(big, `${renderJsonRecord(operational("a"))}\n${"x".repeat(MAX_LINE_BYTES + 1)}\n`)
      const tooLong = loadError(yield* Effect.either(loadOperationalEvents(big)))
      expect(tooLong.message).toBe(`read operational log line 2: line exceeds ${MAX_LINE_BYTES} bytes`)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("appendOperationalEvent refuses an invalid event and writes nothing", () =>
    Effect.gen(function* () {
      const file = path.join(tempDir(), "ops.jsonl")
      const result = yield* Effect.either(appendOperationalEvent(file, { ...operational("a"), exit_code: 300 }))
      expect(Either.isLeft(result) && result.left.message).toBe("validate operational event: exit_code out of range")
      expect(nodeFs.existsSync(file)).toBe(false)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe("loadAdoptionEvents", () => {
  it.live("normalises on load and reports rule violations as validate errors", () =>
    Effect.gen(function* () {
      const file = path.join(tempDir(), "adoption.jsonl")
      nodeFs.writeFileSync(file, `${JSON.stringify({ ...adoption(0), schema_id: "", milestones: ["A1", "A1"], elapsed_ms: -1 })}\n`)
      const [event] = yield* loadAdoptionEvents(file)
      expect(event).toMatchObject({ schema_id: "gait.scout.adoption_event", milestones: ["A1"], elapsed_ms: 0 })
      nodeFs.appendFileSync(file, `${JSON.stringify({ ...adoption(1), exit_code: 256 })}\n`)
      const error = loadError(yield* Effect.either(loadAdoptionEvents(file)))
      expect(error.message).toBe("validate adoption log line 2: exit_code must be <= 255")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

})
