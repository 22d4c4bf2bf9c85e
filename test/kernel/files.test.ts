/**
 * Atomic writes and bounded reads against the real filesystem (ops.md §6.1), plus failure injection
 * through a FileSystem layer that wraps the real one.
 */
import * as nodeFs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"
import { ArtifactWriteFailed, InputUnreadable } from "../../src/kernel/errors.js"
import { ensureDirectory, isLocalOrAbsolute, readBoundedText, writeFileAtomic } from "../../src/kernel/files.js"

const created: Array<string> = []
const tempDir = (): string => {
  const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "gait-files-"))
  created.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of created.splice(0)) nodeFs.rmSync(dir, { recursive: true, force: true })
})

const modeOf = (p: string): number => nodeFs.statSync(p).mode & 0o777
const tempFilesIn = (dir: string): Array<string> => nodeFs.readdirSync(dir).filter((name) => name.includes(".tmp-"))
const expectWriteFailed = (result: Either.Either<unknown, unknown>, stage: string): ArtifactWriteFailed => {
  if (Either.isRight(result)) throw new Error(`expected ArtifactWriteFailed(${stage}), got ${String(result.right)}`)
  expect(result.left).toBeInstanceOf(ArtifactWriteFailed)
  const error = result.left as ArtifactWriteFailed
  expect(error.stage).toBe(stage)
  return error
}

describe("writeFileAtomic (real filesystem)", () => {
  it.effect("creates a file with the exact bytes and mode 0600", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "trace.json")
      const outcome = yield* writeFileAtomic(target, '{"a":"€"}\n')
      expect(outcome).toBe("written")
      expect(nodeFs.readFileSync(target)).toStrictEqual(Buffer.from('{"a":"€"}\n', "utf8"))
      expect(modeOf(target)).toBe(0o600)
      expect(nodeFs.readdirSync(dir)).toStrictEqual(["trace.json"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("writes arbitrary binary content unchanged", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "blob.bin")
      const bytes = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) & 0xff)
      yield* writeFileAtomic(target, bytes)
      expect(new Uint8Array(nodeFs.readFileSync(target))).toStrictEqual(bytes)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("empty content gives an empty file", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "empty")
      yield* writeFileAtomic(target, "")
      expect(nodeFs.readFileSync(target).length).toBe(0)
      expect(modeOf(target)).toBe(0o600)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("overwrites a 0644 file with the new bytes and leaves 0600", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "state.json")
      nodeFs.writeFileSync(target, "old content that is longer than the new one")
      nodeFs.chmodSync(target, 0o644)
      const outcome = yield* writeFileAtomic(target, "new")
      expect(outcome).toBe("written")
      expect(nodeFs.readFileSync(target, "utf8")).toBe("new")
      expect(modeOf(target)).toBe(0o600)
      expect(tempFilesIn(dir)).toStrictEqual([])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("applies the requested mode explicitly, so the umask does not narrow it", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "proof.json")
      const previous = process.umask(0o077)
      try {
        yield* writeFileAtomic(target, "x", { mode: 0o644 })
      } finally {
        process.umask(previous)
      }
      expect(modeOf(target)).toBe(0o644)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("a missing parent directory is an ArtifactWriteFailed and the parent is not created", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "missing", "trace.json")
      const result = yield* Effect.either(writeFileAtomic(target, "x"))
      const error = expectWriteFailed(result, "create_temp")
      expect(error.path).toBe(target)
      expect(error._tag).toBe("ArtifactWriteFailed")
      expect(nodeFs.existsSync(path.join(dir, "missing"))).toBe(false)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("a destination that is a directory is an error, the directory is untouched and no temp file remains", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "occupied")
      nodeFs.mkdirSync(target)
      nodeFs.writeFileSync(path.join(target, "inner"), "keep")
      const result = yield* Effect.either(writeFileAtomic(target, "x"))
      expectWriteFailed(result, "rename")
      expect(nodeFs.statSync(target).isDirectory()).toBe(true)
      expect(nodeFs.readFileSync(path.join(target, "inner"), "utf8")).toBe("keep")
      expect(tempFilesIn(dir)).toStrictEqual([])
      expect(nodeFs.readdirSync(dir)).toStrictEqual(["occupied"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("an empty destination directory is not replaced either", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "empty-dir")
      nodeFs.mkdirSync(target)
      const result = yield* Effect.either(writeFileAtomic(target, "x"))
      expect(Either.isLeft(result)).toBe(true)
      expect(nodeFs.statSync(target).isDirectory()).toBe(true)
      expect(tempFilesIn(dir)).toStrictEqual([])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("ifExists: \"create\" writes when the destination is absent", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "once.json")
      const outcome = yield* writeFileAtomic(target, "first", { ifExists: "create" })
      expect(outcome).toBe("written")
      expect(nodeFs.readFileSync(target, "utf8")).toBe("first")
      expect(modeOf(target)).toBe(0o600)
      expect(nodeFs.readdirSync(dir)).toStrictEqual(["once.json"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("ifExists: \"create\" returns \"exists\" and keeps the old content", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "once.json")
      nodeFs.writeFileSync(target, "old")
      nodeFs.chmodSync(target, 0o644)
      const outcome = yield* writeFileAtomic(target, "new", { ifExists: "create" })
      expect(outcome).toBe("exists")
      expect(nodeFs.readFileSync(target, "utf8")).toBe("old")
      expect(modeOf(target)).toBe(0o644)
      expect(nodeFs.readdirSync(dir)).toStrictEqual(["once.json"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("ifExists: \"create\" under concurrency: exactly one writer wins", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "race.json")
      const outcomes = yield* Effect.forEach(
        Array.from({ length: 12 }, (_, i) => i),
        (i) => writeFileAtomic(target, `writer-${i}`, { ifExists: "create" }),
        { concurrency: "unbounded" }
      )
      expect(outcomes.filter((o) => o === "written")).toHaveLength(1)
      const winner = outcomes.indexOf("written")
      expect(nodeFs.readFileSync(target, "utf8")).toBe(`writer-${winner}`)
      expect(tempFilesIn(dir)).toStrictEqual([])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("concurrent replacing writers leave one complete version and no temp files", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const target = path.join(dir, "state.json")
      const versions = Array.from({ length: 16 }, (_, i) => `${String(i).repeat(1000)}\n`)
      yield* Effect.forEach(versions, (v) => writeFileAtomic(target, v), { concurrency: "unbounded" })
      expect(versions).toContain(nodeFs.readFileSync(target, "utf8"))
      expect(nodeFs.readdirSync(dir)).toStrictEqual(["state.json"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("a relative destination inside the working directory works", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      nodeFs.mkdirSync(path.join(dir, "sub"))
      const previous = process.cwd()
      process.chdir(dir)
      try {
        yield* writeFileAtomic("sub/../sub/rel.json", "relative")
      } finally {
        process.chdir(previous)
      }
      expect(nodeFs.readFileSync(path.join(dir, "sub", "rel.json"), "utf8")).toBe("relative")
      expect(tempFilesIn(path.join(dir, "sub"))).toStrictEqual([])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect.each(["../escape.json", "../escape", "a/../../escape.json", "..", "", "   "])(
    "rejects %j before touching the filesystem",
    (target) =>
      Effect.gen(function* () {
        const dir = tempDir()
        const nested = path.join(dir, "cwd")
        nodeFs.mkdirSync(nested)
        const previous = process.cwd()
        process.chdir(nested)
        let result: Either.Either<unknown, unknown>
        try {
          result = yield* Effect.either(writeFileAtomic(target, "x"))
        } finally {
          process.chdir(previous)
        }
        const error = expectWriteFailed(result, "validate")
        expect(error.detail).toBe("path must be local relative or absolute")
        expect(nodeFs.readdirSync(dir)).toStrictEqual(["cwd"])
        expect(nodeFs.readdirSync(nested)).toStrictEqual([])
      }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe("isLocalOrAbsolute", () => {
  it.each([
    ["/abs/path.json", true],
    ["/", true],
    ["file.json", true],
    ["./file.json", true],
    ["a/b/../c", true],
    ["a/..", true],
    ["..foo/bar", true],
    ["../escape.json", false],
    ["..", false],
    ["a/../../b", false],
    ["./../x", false],
    ["", false],
    ["  ", false]
  ])("%j → %s", (p, expected) => {
    expect(isLocalOrAbsolute(p)).toBe(expected)
  })
})

describe("ensureDirectory", () => {
  it.effect("creates nested parents with mode 0750 and is idempotent", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const nested = path.join(dir, "a", "b", "c")
      const previous = process.umask(0o022)
      try {
        yield* ensureDirectory(nested)
        yield* ensureDirectory(nested)
      } finally {
        process.umask(previous)
      }
      expect(nodeFs.statSync(nested).isDirectory()).toBe(true)
      expect(modeOf(nested)).toBe(0o750)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("fails with ArtifactWriteFailed (stage mkdir) when a parent is a file", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      nodeFs.writeFileSync(path.join(dir, "file"), "")
      const result = yield* Effect.either(ensureDirectory(path.join(dir, "file", "sub")))
      expectWriteFailed(result, "mkdir")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

// --- failure injection ------------------------------------------------------------------------

type Fault = "write" | "sync" | "chmod" | "rename" | "link"

const injected = (method: string): SystemError =>
  new SystemError({ reason: "Unknown", module: "FileSystem", method, description: `injected ${method} failure` })

/** Wraps one File so that the chosen methods fail; everything else goes to the real file. */
const faultyFile = (file: FileSystem.File, fault: Fault, log: Array<string>, label: string): FileSystem.File =>
  new Proxy(file, {
    get(target, property) {
      if (property === "sync") {
        log.push(`sync ${label}`)
        if (fault === "sync") return Effect.fail(injected("sync"))
      }
      if ((property === "writeAll" || property === "write") && fault === "write") {
        return () => Effect.fail(injected("writeAll"))
      }
      if (property === "writeAll") log.push(`write ${label}`)
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === "function" ? value.bind(target) : value
    }
  })

/** The real Node filesystem, with one operation made to fail and every call recorded. */
const faultyFileSystem = (fault: Fault | undefined, log: Array<string>) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (real) =>
      FileSystem.FileSystem.of({
        ...real,
        open: (p, options) => {
          log.push(`open ${path.basename(p)}`)
          return Effect.map(real.open(p, options), (file) => faultyFile(file, fault ?? "link", log, path.basename(p)))
        },
        chmod: (p, mode) => {
          log.push(`chmod ${path.basename(p)} ${mode.toString(8)}`)
          return fault === "chmod" ? Effect.fail(injected("chmod")) : real.chmod(p, mode)
        },
        rename: (from, to) => {
          log.push(`rename ${path.basename(from)} -> ${path.basename(to)}`)
          return fault === "rename" ? Effect.fail(injected("rename")) : real.rename(from, to)
        },
        link: (from, to) => {
          log.push(`link ${path.basename(from)} -> ${path.basename(to)}`)
          return fault === "link" ? Effect.fail(injected("link")) : real.link(from, to)
        },
        remove: (p, options) => {
          log.push(`remove ${path.basename(p)}`)
          return real.remove(p, options)
        }
      })
    )
  ).pipe(Layer.provide(NodeFileSystem.layer))

describe("writeFileAtomic (failure injection)", () => {
  it.effect("writes the temp file in the destination directory, fsyncs it, chmods, renames, then fsyncs the directory", () => {
    const log: Array<string> = []
    const dir = tempDir()
    const target = path.join(dir, "trace.json")
    return Effect.gen(function* () {
      yield* writeFileAtomic(target, "payload")
      expect(nodeFs.readFileSync(target, "utf8")).toBe("payload")
      const temp = log[0]?.replace(/^open /, "") ?? ""
      expect(temp).toMatch(/^\.trace\.json\.tmp-[0-9a-f]{8}$/)
      expect(log).toStrictEqual([
        `open ${temp}`,
        `write ${temp}`,
        `sync ${temp}`,
        `chmod ${temp} 600`,
        `rename ${temp} -> trace.json`,
        `open ${path.basename(dir)}`,
        `sync ${path.basename(dir)}`
      ])
    }).pipe(Effect.provide(faultyFileSystem(undefined, log)))
  })

  it.effect.each(["write", "sync", "chmod", "rename"] as const)(
    "a failing %s keeps the old content and removes the temp file",
    (fault) => {
      const log: Array<string> = []
      const dir = tempDir()
      const target = path.join(dir, "state.json")
      nodeFs.writeFileSync(target, "old state")
      nodeFs.chmodSync(target, 0o644)
      return Effect.gen(function* () {
        const result = yield* Effect.either(writeFileAtomic(target, "new state"))
        const error = expectWriteFailed(result, fault)
        expect(error.detail).toContain(`injected ${fault === "write" ? "writeAll" : fault} failure`)
        expect(error.message).toContain(target)
        expect(nodeFs.readFileSync(target, "utf8")).toBe("old state")
        expect(modeOf(target)).toBe(0o644)
        expect(tempFilesIn(dir)).toStrictEqual([])
        expect(nodeFs.readdirSync(dir)).toStrictEqual(["state.json"])
        expect(log.some((entry) => entry.startsWith("remove .state.json.tmp-"))).toBe(true)
        expect(log.some((entry) => entry.startsWith("rename ") && fault !== "rename")).toBe(false)
      }).pipe(Effect.provide(faultyFileSystem(fault, log)))
    }
  )

  it.effect.each(["write", "sync", "chmod", "rename"] as const)(
    "a failing %s on a fresh destination leaves no file at all",
    (fault) => {
      const log: Array<string> = []
      const dir = tempDir()
      const target = path.join(dir, "fresh.json")
      return Effect.gen(function* () {
        const result = yield* Effect.either(writeFileAtomic(target, "data"))
        expectWriteFailed(result, fault)
        expect(nodeFs.readdirSync(dir)).toStrictEqual([])
      }).pipe(Effect.provide(faultyFileSystem(fault, log)))
    }
  )

  it.effect("ifExists: \"create\" with a failing link (not AlreadyExists) fails at stage link and leaves nothing", () => {
    const log: Array<string> = []
    const dir = tempDir()
    const target = path.join(dir, "once.json")
    return Effect.gen(function* () {
      const result = yield* Effect.either(writeFileAtomic(target, "x", { ifExists: "create" }))
      expectWriteFailed(result, "link")
      expect(nodeFs.readdirSync(dir)).toStrictEqual([])
    }).pipe(Effect.provide(faultyFileSystem("link", log)))
  })
})

// --- bounded reads -----------------------------------------------------------------------------

const expectUnreadable = (result: Either.Either<string, unknown>, reason: InputUnreadable["reason"]): InputUnreadable => {
  if (Either.isRight(result)) throw new Error(`expected InputUnreadable(${reason}), got text ${result.right}`)
  expect(result.left).toBeInstanceOf(InputUnreadable)
  const error = result.left as InputUnreadable
  expect(error.reason).toBe(reason)
  return error
}

describe("readBoundedText", () => {
  it.effect("reads a file as UTF-8", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const file = path.join(dir, "policy.yaml")
      nodeFs.writeFileSync(file, "default_verdict: block # €\n")
      expect(yield* readBoundedText("policy", file, 1024)).toBe("default_verdict: block # €\n")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("accepts a file of exactly the limit", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const file = path.join(dir, "ten")
      nodeFs.writeFileSync(file, "0123456789")
      expect(yield* readBoundedText("intent", file, 10)).toBe("0123456789")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("a missing file is not_found", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const file = path.join(dir, "nope.yaml")
      const error = expectUnreadable(yield* Effect.either(readBoundedText("policy", file, 1024)), "not_found")
      expect(error.kind).toBe("policy")
      expect(error.path).toBe(file)
      expect(error.detail).toContain(file)
      expect(error.limit_bytes).toBeUndefined()
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("a directory is is_directory", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const error = expectUnreadable(yield* Effect.either(readBoundedText("intent", dir, 1024)), "is_directory")
      expect(error.kind).toBe("intent")
      expect(error.path).toBe(dir)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("a file above the limit is too_large with limit_bytes set", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const file = path.join(dir, "big")
      nodeFs.writeFileSync(file, "01234567890")
      const error = expectUnreadable(yield* Effect.either(readBoundedText("private key", file, 10)), "too_large")
      expect(error.limit_bytes).toBe(10)
      expect(error.kind).toBe("private key")
      expect(error.detail).toContain("11 bytes")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("a file that grows past the limit between stat and read is too_large with limit_bytes set", () => {
    const dir = tempDir()
    const file = path.join(dir, "growing")
    nodeFs.writeFileSync(file, "small")
    const growing = Layer.effect(
      FileSystem.FileSystem,
      Effect.map(FileSystem.FileSystem, (real) =>
        FileSystem.FileSystem.of({
          ...real,
          readFile: (p) => Effect.sync(() => nodeFs.writeFileSync(p, "now much larger than ten bytes")).pipe(Effect.zipRight(real.readFile(p)))
        })
      )
    ).pipe(Layer.provide(NodeFileSystem.layer))
    return Effect.gen(function* () {
      const error = expectUnreadable(yield* Effect.either(readBoundedText("intent", file, 10)), "too_large")
      expect(error.limit_bytes).toBe(10)
    }).pipe(Effect.provide(growing))
  })

  it.effect("other stat failures are io_error", () => {
    const failingStat = Layer.effect(
      FileSystem.FileSystem,
      Effect.map(FileSystem.FileSystem, (real) => FileSystem.FileSystem.of({ ...real, stat: () => Effect.fail(injected("stat")) }))
    ).pipe(Layer.provide(NodeFileSystem.layer))
    return Effect.gen(function* () {
      const error = expectUnreadable(yield* Effect.either(readBoundedText("policy", "/any", 10)), "io_error")
      expect(error.detail).toContain("injected stat failure")
    }).pipe(Effect.provide(failingStat))
  })
})
