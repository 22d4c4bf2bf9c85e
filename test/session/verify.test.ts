/**
 * Session chain verification (spec session.md §2.4, §2.8, §6.1): the checkpoint digest vectors,
 * chain parsing errors, and tampering with the chain or the checkpoint runpacks; signed
 * checkpoints through a `KeysApi` signer.
 */
import * as nodeFs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { unzipSync } from "fflate"
import { generateKeyPair } from "../../src/kernel/signing.js"
import { fromKeyPair, type KeysApi } from "../../src/keys/keys.js"
import { checkpointDigestOf } from "../../src/session/chain-digest.js"
import { SessionChainInvalid } from "../../src/session/errors.js"
import { deterministicZip } from "../../src/session/runpack.js"
import type { SessionChain } from "../../src/session/schema.js"
import { SessionStore } from "../../src/session/store.js"
import { parseChain, readChain, verifySessionChain } from "../../src/session/verify.js"
import { appendInput, failureOf, removeTempDirs, runWith, SESSION, tempDir } from "./fixtures/session-env.js"

afterEach(removeTempDirs)

describe("checkpointDigestOf (§2.4 vectors)", () => {
  it("index 1, no prev", () => {
    const first = checkpointDigestOf({ manifest_digest: "a".repeat(64), checkpoint_index: 1, sequence_start: 1, sequence_end: 1 })
    expect(first).toBe("d697935e86a69e24b1c8930d554cc313cec6fa457922c55ddf2d23f71fcda737")
  })

  it("index 2 linked to the first", () => {
    const second = checkpointDigestOf({
      manifest_digest: "b".repeat(64),
      prev_checkpoint_digest: "d697935e86a69e24b1c8930d554cc313cec6fa457922c55ddf2d23f71fcda737",
      checkpoint_index: 2,
      sequence_start: 2,
      sequence_end: 3
    })
    expect(second).toBe("bd564e9c0786554981eb885e4c2f868357fc71b73ae559e6a013728ddfd0bf1e")
  })

  it("an explicit empty prev is the same as none", () => {
    const base = { manifest_digest: "a".repeat(64), checkpoint_index: 1, sequence_start: 1, sequence_end: 1 }
    expect(checkpointDigestOf({ ...base, prev_checkpoint_digest: "" })).toBe(checkpointDigestOf(base))
  })
})

/** A session with two checkpoints (events 1..2 and 3..3) and its chain file. */
const twoCheckpoints = (signer?: KeysApi) =>
  Effect.gen(function* () {
    const store = yield* SessionStore
    const dir = tempDir()
    const journal = path.join(dir, "demo.journal.jsonl")
    yield* store.start(journal, SESSION)
    yield* store.append(journal, appendInput("tool.1"))
    yield* store.append(journal, appendInput("tool.2"))
    const zip1 = path.join(dir, "cp_1.zip")
    const zip2 = path.join(dir, "cp_2.zip")
    yield* store.checkpoint(journal, { out: zip1, signer })
    yield* store.append(journal, appendInput("tool.3"))
    const { chainPath } = yield* store.checkpoint(journal, { out: zip2, signer })
    const chain = JSON.parse(nodeFs.readFileSync(chainPath, "utf8")) as SessionChain
    return { dir, journal, chainPath, chain, zip1, zip2 }
  })

const writeChain = (dir: string, name: string, chain: unknown): string => {
  const file = path.join(dir, name)
  nodeFs.writeFileSync(file, `${JSON.stringify(chain, null, 2)}\n`)
  return file
}

const checkpointsOf = (chain: SessionChain) => chain.checkpoints ?? []

describe("verifySessionChain", () => {
  it.live("a clean chain verifies", () =>
    Effect.gen(function* () {
      const { chainPath } = yield* twoCheckpoints()
      expect(yield* verifySessionChain(chainPath, { requireSignature: false })).toEqual({
        session_id: "sess_demo",
        run_id: "run_demo",
        checkpoints_checked: 2
      })
    }).pipe(runWith({}))
  )

  it.live("a zeroed checkpoint_digest is a linkage error (and breaks the next prev link)", () =>
    Effect.gen(function* () {
      const { dir, chain } = yield* twoCheckpoints()
      const [first, second] = checkpointsOf(chain)
      if (first === undefined || second === undefined) throw new Error("two checkpoints expected")
      const tampered = writeChain(dir, "tampered.json", { ...chain, checkpoints: [{ ...first, checkpoint_digest: "0".repeat(64) }, second] })
      const result = yield* verifySessionChain(tampered, { requireSignature: false })
      expect(result.linkage_errors).toEqual(["checkpoint_digest mismatch at checkpoint 1", "prev_checkpoint_digest mismatch at checkpoint 2"])
      expect(result.checkpoint_errors).toBeUndefined()
      expect(result.checkpoints_checked).toBe(2)
    }).pipe(runWith({}))
  )

  it.live("TestSessionChainVerifyDetectsTamper: zeroed digest plus a missing zip give both kinds of error as a result", () =>
    Effect.gen(function* () {
      const { dir, chain, zip2 } = yield* twoCheckpoints()
      const [first, second] = checkpointsOf(chain)
      if (first === undefined || second === undefined) throw new Error("two checkpoints expected")
      nodeFs.rmSync(zip2)
      const tampered = writeChain(dir, "tampered.json", { ...chain, checkpoints: [first, { ...second, checkpoint_digest: "0".repeat(64) }] })
      const result = yield* verifySessionChain(tampered, { requireSignature: false })
      expect(result.linkage_errors).toEqual(["checkpoint_digest mismatch at checkpoint 2"])
      expect(result.checkpoint_errors).toHaveLength(1)
      expect(result.checkpoint_errors?.[0]).toMatch(new RegExp(`^checkpoint 2 verify error: open zip: ${zip2}: `))
    }).pipe(runWith({}))
  )

  it.live("a missing zip is a checkpoint error", () =>
    Effect.gen(function* () {
      const { chainPath, zip1 } = yield* twoCheckpoints()
      nodeFs.rmSync(zip1)
      const result = yield* verifySessionChain(chainPath, { requireSignature: false })
      expect(result.linkage_errors).toBeUndefined()
      expect(result.checkpoint_errors).toHaveLength(1)
      expect(result.checkpoint_errors?.[0]).toContain(`checkpoint 1 verify error: open zip: ${zip1}`)
    }).pipe(runWith({}))
  )

  it.live("a changed byte inside a checkpoint zip is a checkpoint error", () =>
    Effect.gen(function* () {
      const { chainPath, zip1 } = yield* twoCheckpoints()
      const bytes = nodeFs.readFileSync(zip1)
      // A byte in the middle of the first entry's data (after its 30-byte local header and name).
      const at = 30 + bytes.readUInt16LE(26) + bytes.readUInt16LE(28) + 5
      bytes[at] = (bytes[at] ?? 0) ^ 0xff
      nodeFs.writeFileSync(zip1, bytes)
      const result = yield* verifySessionChain(chainPath, { requireSignature: false })
      expect(result.linkage_errors).toBeUndefined()
      expect(result.checkpoint_errors).toHaveLength(1)
      expect(result.checkpoint_errors?.[0]).toMatch(/^checkpoint 1 /)
    }).pipe(runWith({}))
  )

  it.live("a changed file inside a well-formed checkpoint zip is an integrity failure", () =>
    Effect.gen(function* () {
      const { chainPath, zip2 } = yield* twoCheckpoints()
      const entries = unzipSync(nodeFs.readFileSync(zip2))
      const intents = entries["intents.jsonl"]
      if (intents === undefined) throw new Error("intents.jsonl expected in the runpack")
      entries["intents.jsonl"] = new TextEncoder().encode(new TextDecoder().decode(intents).replace("tool.3", "tool.X"))
      nodeFs.writeFileSync(zip2, deterministicZip(entries))
      const result = yield* verifySessionChain(chainPath, { requireSignature: false })
      expect(result.checkpoint_errors).toEqual(["checkpoint 2 runpack integrity failure"])
    }).pipe(runWith({}))
  )

  it.live("a zip swapped for another checkpoint's is a manifest digest mismatch", () =>
    Effect.gen(function* () {
      const { chainPath, zip1, zip2 } = yield* twoCheckpoints()
      nodeFs.copyFileSync(zip2, zip1)
      const result = yield* verifySessionChain(chainPath, { requireSignature: false })
      expect(result.checkpoint_errors).toEqual(["checkpoint 1 manifest digest mismatch"])
      expect(result.linkage_errors).toBeUndefined()
    }).pipe(runWith({}))
  )

  it.live("a chain missing its first checkpoint, or out of order, has linkage errors", () =>
    Effect.gen(function* () {
      const { dir, chain } = yield* twoCheckpoints()
      const [first, second] = checkpointsOf(chain)
      if (first === undefined || second === undefined) throw new Error("two checkpoints expected")
      const gap = yield* verifySessionChain(writeChain(dir, "gap.json", { ...chain, checkpoints: [second] }), { requireSignature: false })
      expect(gap.linkage_errors).toEqual(["checkpoint index mismatch at position 0", "prev_checkpoint_digest mismatch at checkpoint 2"])
      const swapped = yield* verifySessionChain(writeChain(dir, "swapped.json", { ...chain, checkpoints: [second, first] }), {
        requireSignature: false
      })
      expect(swapped.linkage_errors).toEqual([
        "checkpoint index mismatch at position 0",
        "prev_checkpoint_digest mismatch at checkpoint 2",
        "checkpoint index mismatch at position 1",
        "sequence overlap at checkpoint 1"
      ])
    }).pipe(runWith({}))
  )

  it.live("an unsigned chain fails when signatures are required", () =>
    Effect.gen(function* () {
      const { chainPath } = yield* twoCheckpoints()
      const key = generateKeyPair()
      const result = yield* verifySessionChain(chainPath, { requireSignature: true, publicKey: key.publicKey })
      expect(result.checkpoint_errors).toEqual(["checkpoint 1 signature verification failed", "checkpoint 2 signature verification failed"])
    }).pipe(runWith({}))
  )
})

describe("signed checkpoints", () => {
  it.live("verify with requireSignature and the right public key; fail with the wrong one", () =>
    Effect.gen(function* () {
      const signer = fromKeyPair(generateKeyPair(), "prod")
      const { chainPath } = yield* twoCheckpoints(signer)
      expect(yield* verifySessionChain(chainPath, { requireSignature: true, publicKey: signer.publicKey })).toEqual({
        session_id: "sess_demo",
        run_id: "run_demo",
        checkpoints_checked: 2
      })
      const wrong = generateKeyPair().publicKey
      const failed = yield* verifySessionChain(chainPath, { requireSignature: true, publicKey: wrong })
      expect(failed.checkpoint_errors).toEqual(["checkpoint 1 signature verification failed", "checkpoint 2 signature verification failed"])
      // A signature that is present but wrong fails even when signatures are not required.
      const lenient = yield* verifySessionChain(chainPath, { requireSignature: false, publicKey: wrong })
      expect(lenient.checkpoint_errors).toEqual(["checkpoint 1 signature verification failed", "checkpoint 2 signature verification failed"])
    }).pipe(runWith({}))
  )

  it.live("without a public key: skipped, which passes unless signatures are required", () =>
    Effect.gen(function* () {
      const signer = fromKeyPair(generateKeyPair(), "prod")
      const { chainPath } = yield* twoCheckpoints(signer)
      expect((yield* verifySessionChain(chainPath, { requireSignature: false })).checkpoint_errors).toBeUndefined()
      expect((yield* verifySessionChain(chainPath, { requireSignature: true })).checkpoint_errors).toHaveLength(2)
    }).pipe(runWith({}))
  )

  it.live("signing does not change the chain linkage rules", () =>
    Effect.gen(function* () {
      const signer = fromKeyPair(generateKeyPair(), "prod")
      const { chain } = yield* twoCheckpoints(signer)
      const [first, second] = checkpointsOf(chain)
      expect(second?.prev_checkpoint_digest).toBe(first?.checkpoint_digest)
      for (const c of checkpointsOf(chain)) expect(c.checkpoint_digest).toBe(checkpointDigestOf(c))
    }).pipe(runWith({}))
  )
})

describe("reading a chain (§2.8)", () => {
  const valid = {
    schema_id: "gait.runpack.session_chain",
    schema_version: "1.0.0",
    created_at: "2026-02-11T00:00:00Z",
    producer_version: "0.0.0-dev",
    session_id: "sess_demo",
    run_id: "run_demo",
    checkpoints: [
      {
        schema_id: "gait.runpack.session_checkpoint",
        schema_version: "1.0.0",
        created_at: "2026-02-11T00:00:00Z",
        producer_version: "0.0.0-dev",
        session_id: "sess_demo",
        run_id: "run_demo",
        checkpoint_index: 1,
        sequence_start: 1,
        sequence_end: 1,
        runpack_path: "cp.zip",
        manifest_digest: "a".repeat(64),
        checkpoint_digest: "d697935e86a69e24b1c8930d554cc313cec6fa457922c55ddf2d23f71fcda737"
      }
    ]
  }
  const detailOf = (value: unknown): string => {
    const result = parseChain("chain.json", typeof value === "string" ? value : JSON.stringify(value))
    if (Either.isRight(result)) throw new Error("expected SessionChainInvalid")
    expect(result.left).toBeInstanceOf(SessionChainInvalid)
    return result.left.detail
  }

  it("a valid chain parses; empty schema id and version are defaulted", () => {
    expect(Either.isRight(parseChain("c", JSON.stringify(valid)))).toBe(true)
    expect(Either.isRight(parseChain("c", JSON.stringify({ ...valid, schema_id: "", schema_version: " " })))).toBe(true)
  })

  it("errors", () => {
    expect(detailOf("{nope")).toMatch(/^parse session chain: /)
    expect(detailOf({ hello: "world" })).toBe("parse session chain: not a session chain document")
    expect(detailOf({ ...valid, schema_id: "gait.other" })).toBe("unsupported session chain schema")
    expect(detailOf({ ...valid, schema_version: "2.0.0" })).toBe("unsupported session chain schema")
    expect(detailOf({ ...valid, session_id: "" })).toBe("session chain missing session_id/run_id")
    expect(detailOf({ ...valid, run_id: "  " })).toBe("session chain missing session_id/run_id")
    expect(detailOf({ ...valid, checkpoints: [] })).toBe("session chain has no checkpoints")
    expect(detailOf({ ...valid, checkpoints: null })).toBe("session chain has no checkpoints")
  })

  it.live("readChain and verifySessionChain fail (as errors, not findings) on a missing file or a directory", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const missing = failureOf(yield* Effect.exit(readChain(path.join(dir, "none.json"))), SessionChainInvalid)
      expect(missing.detail).toMatch(/^read session chain: /)
      const directory = failureOf(yield* Effect.exit(verifySessionChain(dir, { requireSignature: false })), SessionChainInvalid)
      expect(directory.detail).toBe("read session chain: not a regular file")
      const empty = writeChain(dir, "empty.json", { ...valid, checkpoints: [] })
      failureOf(yield* Effect.exit(verifySessionChain(empty, { requireSignature: false })), SessionChainInvalid)
    }).pipe(runWith({}))
  )
})
