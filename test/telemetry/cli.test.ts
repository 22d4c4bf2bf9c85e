/**
 * Telemetry through the shipped CLI (ops.md §5.1–5.5): one start and one end event per run with the
 * process correlation id and exit code; write failures warn on stderr and never change the exit code.
 */
import * as nodeFs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { correlationIdOf } from "../../src/kernel/ids.js"
import { VERSION } from "../../src/version.js"
import { runGait, tempDir as makeTempDir } from "../helpers/cli.js"

const created: Array<string> = []
const tempDir = (): string => {
  const dir = makeTempDir("gait-telemetry-cli-")
  created.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of created.splice(0)) nodeFs.rmSync(dir, { recursive: true, force: true })
})

const TELEMETRY_VARS = {
  GAIT_OPERATIONAL_LOG: undefined,
  GAIT_ADOPTION_LOG: undefined,
  GAIT_ADOPTION_WORKFLOW: undefined,
  GAIT_TELEMETRY_HEALTH_PATH: undefined,
  GAIT_TELEMETRY_WARN: undefined
}
const gait = (args: ReadonlyArray<string>, env: Record<string, string>) => runGait(args, { env: { ...TELEMETRY_VARS, ...env } })

const readJsonl = (file: string): Array<Record<string, unknown>> =>
  nodeFs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>)

const warningsIn = (stderr: string): Array<string> => stderr.split("\n").filter((l) => l.startsWith("gait warning: telemetry"))

describe("gait with GAIT_OPERATIONAL_LOG", () => {
  it("`gait version` writes exactly a start and an end event with equal correlation ids and exit 0", () => {
    const log = path.join(tempDir(), "ops.jsonl")
    const result = gait(["version"], { GAIT_OPERATIONAL_LOG: log })
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`gait ${VERSION}\n`)
    expect(result.stderr).toBe("")
    const events = readJsonl(log)
    expect(events.map((e) => e.phase)).toStrictEqual(["start", "end"])
    const cid = correlationIdOf(["gait", "version"])
    expect(events.map((e) => e.correlation_id)).toStrictEqual([cid, cid])
    expect(events[1]).toMatchObject({ command: "version", exit_code: 0, error_category: "none", retryable: false })
    expect(Object.keys(events[0] ?? {})).toStrictEqual([
      "schema_id",
      "schema_version",
      "created_at",
      "producer_version",
      "correlation_id",
      "command",
      "phase",
      "exit_code",
      "error_category",
      "retryable",
      "elapsed_ms",
      "environment"
    ])
    expect(nodeFs.statSync(log).mode & 0o777).toBe(0o600)
  })

  it("the end event of a failing command carries its exit code and invalid_input; the JSON output keeps its correlation id", () => {
    const log = path.join(tempDir(), "ops.jsonl")
    const result = gait(["gate", "eval", "--json"], { GAIT_OPERATIONAL_LOG: log })
    expect(result.code).toBe(6)
    const cid = result.json().correlation_id
    const [start, end] = readJsonl(log)
    expect(start).toMatchObject({ phase: "start", command: "gate eval", correlation_id: cid, exit_code: 0 })
    expect(end).toMatchObject({ phase: "end", command: "gate eval", correlation_id: cid, exit_code: 6, error_category: "invalid_input", retryable: false })
    const usage = gait(["policy", "test"], { GAIT_OPERATIONAL_LOG: log })
    expect(usage.code).toBe(6)
    expect(readJsonl(log).at(-1)).toMatchObject({ command: "policy test", exit_code: 6, error_category: "invalid_input" })
  })

  it("a log in a missing directory is created with it (0750), as the locked appender does", () => {
    const dir = tempDir()
    const log = path.join(dir, "new", "ops.jsonl")
    const result = gait(["version"], { GAIT_OPERATIONAL_LOG: log })
    expect([result.code, result.stderr]).toStrictEqual([0, ""])
    expect(readJsonl(log)).toHaveLength(2)
    expect(nodeFs.statSync(path.join(dir, "new")).mode & 0o777).toBe(0o750)
  })
})

describe("telemetry write failures", () => {
  it("a log under a regular file warns for start and end; the exit code and stdout are unchanged", () => {
    const dir = tempDir()
    nodeFs.writeFileSync(path.join(dir, "file"), "")
    const env = { GAIT_OPERATIONAL_LOG: path.join(dir, "file", "ops.jsonl") }
    const ok = gait(["version"], env)
    expect(ok.code).toBe(0)
    expect(ok.stdout).toBe(`gait ${VERSION}\n`)
    const warnings = warningsIn(ok.stderr)
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toMatch(/^gait warning: telemetry stream=operational_start write failed: create append directory: /)
    expect(warnings[1]).toMatch(/^gait warning: telemetry stream=operational_end write failed: create append directory: /)
    const failing = gait(["gate", "eval", "--json"], env)
    expect(failing.code).toBe(6)
    expect(failing.json().error_code).toBe("invalid_input")
    expect(warningsIn(failing.stderr)).toHaveLength(2)
  })

  it("an adoption log under a regular file warns as stream=adoption", () => {
    const dir = tempDir()
    nodeFs.writeFileSync(path.join(dir, "file"), "")
    const result = gait(["version"], { GAIT_ADOPTION_LOG: path.join(dir, "file", "adoption.jsonl") })
    expect(result.code).toBe(0)
    expect(warningsIn(result.stderr)).toStrictEqual([expect.stringMatching(/^gait warning: telemetry stream=adoption write failed: /)])
  })

  it("GAIT_TELEMETRY_WARN=off (any case) silences the warnings and still keeps the exit code", () => {
    const dir = tempDir()
    nodeFs.writeFileSync(path.join(dir, "file"), "")
    for (const value of ["off", "OFF"]) {
      const result = gait(["gate", "eval"], { GAIT_OPERATIONAL_LOG: path.join(dir, "file", "ops.jsonl"), GAIT_TELEMETRY_WARN: value })
      expect(result.code).toBe(6)
      expect(result.stderr).toBe("")
    }
  })

  it("a health snapshot in a missing directory warns as telemetry_health; the logs are still written", () => {
    const dir = tempDir()
    const log = path.join(dir, "ops.jsonl")
    const result = gait(["version"], { GAIT_OPERATIONAL_LOG: log, GAIT_TELEMETRY_HEALTH_PATH: path.join(dir, "missing", "health.json") })
    expect(result.code).toBe(0)
    const warnings = warningsIn(result.stderr)
    expect(warnings).toHaveLength(2)
    expect(warnings.every((w) => w.startsWith("gait warning: telemetry stream=telemetry_health write failed: "))).toBe(true)
    expect(readJsonl(log)).toHaveLength(2)
    expect(nodeFs.existsSync(path.join(dir, "missing"))).toBe(false)
  })
})

describe("adoption log and health snapshot", () => {
  it("`gait version` with both logs writes one adoption event and a snapshot of 1/1/0 per stream (0600)", () => {
    const dir = tempDir()
    const env = {
      GAIT_OPERATIONAL_LOG: path.join(dir, "ops.jsonl"),
      GAIT_ADOPTION_LOG: path.join(dir, "adoption.jsonl"),
      GAIT_ADOPTION_WORKFLOW: "  gait-capture-runpack ",
      GAIT_TELEMETRY_HEALTH_PATH: path.join(dir, "health.json")
    }
    const result = gait(["version", "--json"], env)
    expect([result.code, result.stderr]).toStrictEqual([0, ""])
    const [adoption, ...more] = readJsonl(env.GAIT_ADOPTION_LOG)
    expect(more).toStrictEqual([])
    expect(adoption).toMatchObject({ command: "version", workflow_id: "gait-capture-runpack", success: true, exit_code: 0 })
    expect(adoption).not.toHaveProperty("milestones")
    expect(adoption).not.toHaveProperty("correlation_id")
    const health = JSON.parse(nodeFs.readFileSync(env.GAIT_TELEMETRY_HEALTH_PATH, "utf8")) as Record<string, unknown>
    expect(health).toMatchObject({ schema_id: "gait.scout.telemetry_health", schema_version: "1.0.0", producer_version: VERSION })
    const one = { attempts: 1, success: 1, failed: 0 }
    expect(health.streams).toStrictEqual({ adoption: one, operational_end: one, operational_start: one })
    expect(nodeFs.statSync(env.GAIT_TELEMETRY_HEALTH_PATH).mode & 0o777).toBe(0o600)
  })

  it("without the log variables nothing is written, even with a health path set", () => {
    const dir = tempDir()
    const result = gait(["version"], { GAIT_TELEMETRY_HEALTH_PATH: path.join(dir, "health.json") })
    expect([result.code, result.stderr]).toStrictEqual([0, ""])
    expect(nodeFs.readdirSync(dir)).toStrictEqual([])
  })
})
