/**
 * Locked line append (ops.md §6.2) against the real filesystem: exact bytes, modes, validation,
 * the lock's contention, timeout and stale handling, and concurrent fibers. Concurrent processes are
 * in test/telemetry/concurrency.test.ts.
 */
import * as nodeFs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Option } from "effect"
import { AppendFailed, AppendLockTimeout, appendLineLocked, releaseAppendLockSync } from "../../src/kernel/append.js"

const created: Array<string> = []
const tempDir = (): string => {
  const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "gait-append-"))
  created.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of created.splice(0)) nodeFs.rmSync(dir, { recursive: true, force: true })
})

const modeOf = (p: string): number => nodeFs.statSync(p).mode & 0o777
const ageFile = (p: string, seconds: number): void => {
  const then = new Date(Date.now() - seconds * 1000)
  nodeFs.utimesSync(p, then, then)
}
const expectFailed = (result: Either.Either<unknown, unknown>, stage: AppendFailed["stage"]): AppendFailed => {
  expect(Either.isLeft(result)).toBe(true)
  const error = Either.isLeft(result) ? result.left : undefined
  expect(error).toBeInstanceOf(AppendFailed)
  expect((error as AppendFailed).stage).toBe(stage)
  return error as AppendFailed
}
const SHORT_LOCK = { timeout: "300 millis", retry: "10 millis" } as const

describe("appendLineLocked", () => {
  it.live("two calls give exactly two lines; the file is 0600 and no lock is left behind", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "events.jsonl")
      yield* appendLineLocked(target, '{"event":"a"}')
      yield* appendLineLocked(target, '{"event":"b"}')
      expect(nodeFs.readFileSync(target, "utf8")).toBe('{"event":"a"}\n{"event":"b"}\n')
      expect(modeOf(target)).toBe(0o600)
      expect(nodeFs.readdirSync(dir)).toStrictEqual(["events.jsonl"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("creates missing parent directories with 0750 and honours an explicit creation mode", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "a", "b", "events.jsonl")
      yield* appendLineLocked(target, "x", { mode: 0o640 })
      expect(modeOf(path.join(dir, "a"))).toBe(0o750)
      expect(modeOf(path.join(dir, "a", "b"))).toBe(0o750)
      expect(modeOf(target)).toBe(0o640 & ~process.umask())
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("rejects a line that contains a newline, and a path that escapes upwards; nothing is written", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "events.jsonl")
      const newline = expectFailed(yield* Effect.either(appendLineLocked(target, '{"a":1}\n{"b":2}')), "validate")
      expect(newline.message).toContain("line must not contain a newline")
      const traversal = expectFailed(yield* Effect.either(appendLineLocked("../escape.jsonl", "x")), "validate")
      expect(traversal.message).toContain("path must be local relative or absolute")
      expect(nodeFs.readdirSync(dir)).toStrictEqual([])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("a parent that is a regular file fails at once (create append directory), not after the lock timeout", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      nodeFs.writeFileSync(path.join(dir, "file"), "")
      const started = Date.now()
      const error = expectFailed(yield* Effect.either(appendLineLocked(path.join(dir, "file", "sub", "x.jsonl"), "x")), "mkdir")
      expect(error.message).toMatch(/^create append directory: /)
      expect(Date.now() - started).toBeLessThan(1000)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("a destination that is a directory fails at open and releases the lock", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "events.jsonl")
      nodeFs.mkdirSync(target)
      const error = expectFailed(yield* Effect.either(appendLineLocked(target, "x")), "open")
      expect(error.message).toMatch(/^open append file: /)
      expect(nodeFs.existsSync(`${target}.lock`)).toBe(false)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("a fresh lock held by another writer ends in AppendLockTimeout and is left alone", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "events.jsonl")
      nodeFs.writeFileSync(`${target}.lock`, "")
      const result = yield* Effect.either(appendLineLocked(target, "x", { lock: SHORT_LOCK }))
      expect(Either.isLeft(result) && result.left).toBeInstanceOf(AppendLockTimeout)
      const timeout = (result as Either.Left<AppendLockTimeout, void>).left
      expect(timeout.message).toMatch(/^append lock timeout: /)
      expect(timeout.waited_ms).toBeGreaterThanOrEqual(250)
      expect(nodeFs.existsSync(`${target}.lock`)).toBe(true)
      expect(nodeFs.existsSync(target)).toBe(false)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("a lock older than 2 minutes is stale: it is broken and the append proceeds at once", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "events.jsonl")
      nodeFs.writeFileSync(`${target}.lock`, "")
      ageFile(`${target}.lock`, 121)
      yield* appendLineLocked(target, "x", { lock: SHORT_LOCK })
      expect(nodeFs.readFileSync(target, "utf8")).toBe("x\n")
      expect(nodeFs.readdirSync(dir)).toStrictEqual(["events.jsonl"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("a lock younger than 2 minutes is not stale", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "events.jsonl")
      nodeFs.writeFileSync(`${target}.lock`, "")
      ageFile(`${target}.lock`, 100)
      const result = yield* Effect.either(appendLineLocked(target, "x", { lock: SHORT_LOCK }))
      expect(Either.isLeft(result) && result.left).toBeInstanceOf(AppendLockTimeout)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("a stale lock is not broken while another writer holds the breaker; a dead breaker is cleared", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "events.jsonl")
      const lock = `${target}.lock`
      nodeFs.writeFileSync(lock, "")
      ageFile(lock, 600)
      nodeFs.writeFileSync(`${lock}.breaker`, "")
      const blocked = yield* Effect.either(appendLineLocked(target, "x", { lock: SHORT_LOCK }))
      expect(Either.isLeft(blocked) && blocked.left).toBeInstanceOf(AppendLockTimeout)
      expect(nodeFs.existsSync(lock)).toBe(true)
      // A breaker this old belongs to a writer that died inside the break.
      ageFile(`${lock}.breaker`, 60)
      yield* appendLineLocked(target, "x", { lock: SHORT_LOCK })
      expect(nodeFs.readFileSync(target, "utf8")).toBe("x\n")
      expect(nodeFs.readdirSync(dir)).toStrictEqual(["events.jsonl"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("a lock that turns stale while a writer waits is broken at the next age check (once a second)", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "events.jsonl")
      nodeFs.writeFileSync(`${target}.lock`, "")
      ageFile(`${target}.lock`, 119.6)
      const started = Date.now()
      yield* appendLineLocked(target, "x", { lock: { timeout: "5 seconds" } })
      expect(Date.now() - started).toBeGreaterThanOrEqual(400)
      expect(Date.now() - started).toBeLessThan(2500)
      expect(nodeFs.readFileSync(target, "utf8")).toBe("x\n")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("writers racing for one stale lock (through different path spellings) all append exactly once", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const real = path.join(dir, "real")
      nodeFs.mkdirSync(real)
      // Each alias is a different path to the same file, so these fibers meet at the lock file itself.
      const aliases = Array.from({ length: 20 }, (_, i) => {
        const alias = path.join(dir, `alias-${i}`)
        nodeFs.symlinkSync(real, alias)
        return alias
      })
      nodeFs.writeFileSync(path.join(real, "events.jsonl.lock"), "")
      ageFile(path.join(real, "events.jsonl.lock"), 300)
      yield* Effect.all(
        aliases.map((alias, i) => appendLineLocked(path.join(alias, "events.jsonl"), JSON.stringify({ writer: i }))),
        { concurrency: "unbounded", discard: true }
      )
      const lines = nodeFs.readFileSync(path.join(real, "events.jsonl"), "utf8").slice(0, -1).split("\n")
      expect(lines.map((l) => (JSON.parse(l) as { writer: number }).writer).sort((a, b) => a - b)).toStrictEqual(
        Array.from({ length: 20 }, (_, i) => i)
      )
      expect(nodeFs.readdirSync(real)).toStrictEqual(["events.jsonl"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it("release does not remove a lock that is no longer the one this writer created", () => {
    const dir = tempDir()
    const lock = path.join(dir, "events.jsonl.lock")
    nodeFs.writeFileSync(lock, "")
    const mine = { ino: Option.some(nodeFs.statSync(lock).ino), mtimeMs: Option.none<number>() }
    // Meanwhile the lock was broken as stale and re-taken: renamed over, so certainly another inode.
    nodeFs.writeFileSync(`${lock}.next`, "successor")
    nodeFs.renameSync(`${lock}.next`, lock)
    releaseAppendLockSync(lock, mine)
    expect(nodeFs.readFileSync(lock, "utf8")).toBe("successor")
    // Its own lock it removes.
    releaseAppendLockSync(lock, { ino: Option.some(nodeFs.statSync(lock).ino), mtimeMs: Option.none() })
    expect(nodeFs.existsSync(lock)).toBe(false)
  })

  it.live("an interrupted wait leaves the holder's lock and the file untouched", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "events.jsonl")
      nodeFs.writeFileSync(`${target}.lock`, "")
      const fiber = yield* Effect.fork(appendLineLocked(target, "x"))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(fiber)
      expect(nodeFs.readdirSync(dir)).toStrictEqual(["events.jsonl.lock"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.live("200 concurrent fibers append 200 whole lines", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "events.jsonl")
      const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ writer: i, pad: "x".repeat(i * 7) }))
      yield* Effect.all(
        lines.map((line) => appendLineLocked(target, line)),
        { concurrency: "unbounded", discard: true }
      )
      const written = nodeFs.readFileSync(target, "utf8")
      expect(written.endsWith("\n")).toBe(true)
      const got = written.slice(0, -1).split("\n")
      expect(got).toHaveLength(200)
      expect(new Set(got.map((l) => (JSON.parse(l) as { writer: number }).writer)).size).toBe(200)
      expect([...got].sort()).toStrictEqual([...lines].sort())
      expect(nodeFs.readdirSync(dir)).toStrictEqual(["events.jsonl"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})
