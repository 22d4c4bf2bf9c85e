/**
 * Log integrity (ops.md §5.4). TestAppendOperationalEventConcurrentIntegrity with processes instead
 * of goroutines: 300 writer processes append one operational event each to one file; each batch is
 * held at a barrier until every member is up, so their appends really meet at the lock. And
 * TestLoadAdoptionEventsHighVolume: 5,000 sequential appends load back as 5,000 events. Both live in
 * this file so that they run one after the other: the waiting writer processes would otherwise
 * starve the sequential appends of CPU.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as nodeFs from "node:fs"
import * as path from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect } from "effect"
import { build } from "esbuild"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadAdoptionEvents, loadOperationalEvents } from "../../src/telemetry/load.js"
import { makeAdoptionEvent } from "../../src/telemetry/schema.js"
import { appendAdoptionEvent } from "../../src/telemetry/writer.js"
import { tempDir } from "../helpers/cli.js"

const WRITERS = 300
/** Processes alive at once (each is a whole Node runtime; the test machine has two cores). */
const BATCH = 50

let work = ""
let child = ""

beforeAll(async () => {
  work = tempDir("gait-telemetry-procs-")
  child = path.join(work, "append-child.cjs")
  await build({
    entryPoints: [path.join(__dirname, "fixtures", "append-child.ts")],
    outfile: child,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    minify: true,
    logLevel: "warning"
  })
})
afterAll(() => {
  nodeFs.rmSync(work, { recursive: true, force: true })
})

interface Outcome {
  readonly id: string
  readonly code: number | null
  readonly stderr: string
}

/** Starts every writer of the batch, releases them together once all are ready, waits for all exits. */
const runBatch = (log: string, ids: ReadonlyArray<string>): Promise<ReadonlyArray<Outcome>> =>
  new Promise((resolve) => {
    const outcomes: Array<Outcome> = []
    const children: Array<ChildProcess> = []
    let settled = 0
    const arrive = () => {
      settled += 1
      if (settled === ids.length) for (const c of children) c.stdin?.end("go\n")
    }
    for (const id of ids) {
      const proc = spawn(process.execPath, [child, log, id], { stdio: ["pipe", "pipe", "pipe"] })
      children.push(proc)
      let ready = false
      let stderr = ""
      proc.stdout?.on("data", (chunk: Buffer) => {
        if (!ready && chunk.toString().includes("ready")) {
          ready = true
          arrive()
        }
      })
      proc.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString()
      })
      proc.stdin?.on("error", () => {})
      proc.on("close", (code) => {
        if (!ready) {
          ready = true
          arrive()
        }
        outcomes.push({ id, code, stderr })
        if (outcomes.length === ids.length) resolve(outcomes)
      })
    }
  })

describe("operational log under concurrent writer processes", () => {
  it(`${WRITERS} processes append ${WRITERS} whole, valid, distinct lines`, async () => {
    const log = path.join(work, "logs", "ops.jsonl")
    const ids = Array.from({ length: WRITERS }, (_, i) => `writer-${String(i).padStart(3, "0")}`)
    const outcomes: Array<Outcome> = []
    for (let i = 0; i < ids.length; i += BATCH) outcomes.push(...(await runBatch(log, ids.slice(i, i + BATCH))))

    expect(outcomes.filter((o) => o.code !== 0)).toStrictEqual([])
    const raw = nodeFs.readFileSync(log, "utf8")
    expect(raw.endsWith("\n")).toBe(true)
    const lines = raw.slice(0, -1).split("\n")
    expect(lines).toHaveLength(WRITERS)
    // Every physical line is exactly one JSON object: a torn or interleaved write would break this.
    const parsed = lines.map((l) => JSON.parse(l) as { correlation_id: string })
    expect(parsed.map((e) => e.correlation_id).sort()).toStrictEqual(ids)
    const events = await Effect.runPromise(loadOperationalEvents(log).pipe(Effect.provide(NodeFileSystem.layer)))
    expect(events).toHaveLength(WRITERS)
    expect(nodeFs.readdirSync(path.dirname(log))).toStrictEqual(["ops.jsonl"])
  }, 180_000)
})

describe("adoption log volume", () => {
  it("5,000 sequential appends load back as 5,000 events", async () => {
    const file = path.join(work, "volume", "adoption.jsonl")
    const event = (i: number) =>
      makeAdoptionEvent({
        createdAt: "2026-02-06T16:00:01Z",
        producerVersion: "0.1.0",
        command: i % 2 === 0 ? "demo" : "gate eval",
        workflowId: undefined,
        exitCode: i % 3 === 0 ? 0 : 6,
        elapsedMs: i,
        environment: { os: "linux", arch: "amd64" }
      })
    const events = await Effect.runPromise(
      Effect.gen(function* () {
        for (let i = 0; i < 5000; i++) yield* appendAdoptionEvent(file, event(i))
        return yield* loadAdoptionEvents(file)
      }).pipe(Effect.provide(NodeFileSystem.layer))
    )
    expect(events).toHaveLength(5000)
    expect(events.map((e) => e.elapsed_ms)).toStrictEqual(Array.from({ length: 5000 }, (_, i) => i))
    // demo (even i) that succeeded (i divisible by 3) earns A1.
    expect(events.filter((e) => e.milestones?.[0] === "A1")).toHaveLength(Math.ceil(5000 / 6))
    expect(nodeFs.readdirSync(path.dirname(file))).toStrictEqual(["adoption.jsonl"])
  }, 120_000)
})
