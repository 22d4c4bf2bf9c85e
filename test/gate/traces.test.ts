// Traces.emit into a directory: created on first use, remembered, and created again when it vanished
// between two decisions (a server keeps running when an operator wipes its trace directory).
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Gate, GateLive, generateKeyPair, KeysLayers, Traces, TracesLive } from "../../src/index.js"

const examples = path.resolve(__dirname, "..", "..", "examples")
const services = Layer.mergeAll(GateLive, TracesLive.pipe(Layer.provide(KeysLayers.layerFromKeyPair(generateKeyPair())))).pipe(Layer.provide(NodeFileSystem.layer))

describe("Traces.emit directory handling", () => {
  it.effect("creates the directory, reuses it, and recreates it after it was removed", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(path.join(tmpdir(), "gait-traces-"))
      const dir = path.join(root, "a", "b")
      const gate = yield* Gate
      const traces = yield* Traces
      const policy = yield* gate.loadPolicy(path.join(examples, "policy.yaml"))
      const intent = yield* gate.loadIntent(path.join(examples, "intents", "write_config.json"))
      const decision = yield* gate.decide({ policy, intent, simulate: false, now: 0n })
      const emit = traces.emit({ decision, intent, destination: { _tag: "Directory", dir } })

      const first = yield* emit
      const second = yield* emit
      expect(first.path).not.toBe(second.path)
      expect(readdirSync(dir).filter((n) => n.startsWith("trace_"))).toHaveLength(2)

      rmSync(path.join(root, "a"), { recursive: true, force: true })
      const third = yield* emit
      expect(existsSync(third.path)).toBe(true)
      expect(readdirSync(dir)).toEqual([path.basename(third.path)])

      rmSync(path.join(root, "a"), { recursive: true, force: true })
      const pathDestination = path.join(root, "a", "explicit", "trace.json")
      const fourth = yield* traces.emit({ decision, intent, destination: { _tag: "Path", path: pathDestination } })
      expect(existsSync(fourth.path)).toBe(true)
    }).pipe(Effect.provide(services))
  )
})
