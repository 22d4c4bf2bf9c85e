// The README's integrator example: replace the Keys layer (here a stand-in for a KMS/HSM that keeps
// the private key) and keep Gate and Traces as they are. The trace must verify with the KMS's key.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Gate, GateLive, generateKeyPair, Keys, Traces, TracesLive, verifySignedDocument } from "../../src/index.js"
import { signDigestBytes } from "../../src/kernel/signing.js"

const examples = path.resolve(__dirname, "..", "..", "examples")

// --- README snippet starts ---
const kms = generateKeyPair() // stands in for a key that never leaves your KMS
const KmsKeys = Layer.succeed(Keys, {
  mode: "prod",
  keyId: kms.keyId,
  publicKey: kms.publicKey,
  warnings: [],
  signDigest: (digest) => Effect.sync(() => signDigestBytes(kms.privateKey, digest)) // call your KMS here
})

const decideAndSign = (policyPath: string, intentPath: string, dir: string) =>
  Effect.gen(function* () {
    const gate = yield* Gate
    const policy = yield* gate.loadPolicy(policyPath)
    const intent = yield* gate.loadIntent(intentPath)
    const decision = yield* gate.decide({ policy, intent, simulate: false, now: 0n })
    const traces = yield* Traces
    return yield* traces.emit({ decision, intent, destination: { _tag: "Directory", dir } })
  }).pipe(Effect.provide(Layer.mergeAll(GateLive, TracesLive.pipe(Layer.provide(KmsKeys))).pipe(Layer.provide(NodeFileSystem.layer))))
// --- README snippet ends ---

describe("replacing the Keys layer", () => {
  it.effect("signs traces with the integrator's key and nothing else changes", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(path.join(tmpdir(), "gait-kms-"))
      const emitted = yield* decideAndSign(
        path.join(examples, "policy.yaml"),
        path.join(examples, "intents", "delete_prod.json"),
        dir
      )
      expect(emitted.record.verdict).toBe("block")
      expect(emitted.record.signature?.key_id).toBe(kms.keyId)
      const onDisk = JSON.parse(readFileSync(emitted.path, "utf8")) as Record<string, unknown>
      expect(verifySignedDocument(onDisk, kms.publicKey)._tag).toBe("Right")
      expect(verifySignedDocument(onDisk, generateKeyPair().publicKey)._tag).toBe("Left")
    })
  )
})
