import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { diagnose } from "../../src/diagnostics/diagnostics.js"
import { Effect, Either, Option } from "effect"
import { unzipSync } from "fflate"
import { canonicalize } from "../../src/kernel/canonical-json.js"
import { digestJson } from "../../src/kernel/digest.js"
import { encodeBase64, generateKeyPair, signDigestBytes } from "../../src/kernel/signing.js"
import { fromKeyPair } from "../../src/keys/keys.js"
import {
  buildRunpack,
  checkpointRunpack,
  deterministicZip,
  goRunEnv,
  goTimestamp,
  isVerified,
  type RunpackContent,
  RunpackInvalid,
  type RunpackVerification,
  sessionEventArgsDigest,
  sessionEventResultDigest,
  type VerifyRunpackOptions,
  verifyRunpack
} from "../../src/session/runpack.js"
import type { SessionEvent } from "../../src/session/schema.js"

const right = <A, E>(either: Either.Either<A, E>): A => {
  if (Either.isLeft(either)) throw new Error(`expected Right, got Left ${String(either.left)}`)
  return either.right
}

const sha = (text: string): string => createHash("sha256").update(text).digest("hex")
const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes)
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

/**
 * `integrationRunpackFixture` of the reference (Clyra-AI/gait
 * internal/integration/artifacts_test.go @ cb0082214efdd1bcb6af9b55843043b50bee12a2), copied as data.
 */
const integrationRunpackFixture = (): RunpackContent => {
  const createdAt = "2026-02-05T00:00:00Z"
  const base = { created_at: createdAt, producer_version: "0.0.0-test", run_id: "run_integration" }
  const args = [{ query: "offline test" }, { url: "https://example.local/resource" }]
  const tools = ["tool.search", "tool.fetch"] as const
  return {
    run: {
      schema_id: "gait.runpack.run",
      schema_version: "1.0.0",
      ...base,
      env: { os: "test", arch: "test", runtime: "go" },
      timeline: [
        { event: "start", ts: createdAt },
        { event: "finish", ts: "2026-02-05T00:00:02Z" }
      ]
    },
    intents: args.map((a, i) => ({
      schema_id: "gait.runpack.intent",
      schema_version: "1.0.0",
      ...base,
      intent_id: `intent_${i + 1}`,
      tool_name: tools[i] ?? "",
      args_digest: right(digestJson(a)),
      args: a
    })),
    results: args.map((_, i) => {
      const result = { ok: true, message: `result_${i + 1}` }
      return {
        schema_id: "gait.runpack.result",
        schema_version: "1.0.0",
        ...base,
        intent_id: `intent_${i + 1}`,
        status: "ok",
        result_digest: right(digestJson(result)),
        result
      }
    }),
    refs: {
      schema_id: "gait.runpack.refs",
      schema_version: "1.0.0",
      ...base,
      receipts: tools.map((tool, i) => ({
        ref_id: `ref_${i + 1}`,
        source_type: "integration-test",
        source_locator: tool,
        query_digest: sha(`query_${i + 1}`),
        content_digest: sha(`content_${i + 1}`),
        retrieved_at: createdAt,
        redaction_mode: "reference"
      }))
    },
    captureMode: "reference"
  }
}

const event = (sequence: number, fields: Partial<SessionEvent> = {}): SessionEvent => ({
  schema_id: "gait.runpack.session_event",
  schema_version: "1.0.0",
  created_at: `2026-02-11T00:00:0${sequence}Z`,
  producer_version: "0.0.0-dev",
  session_id: "sess_demo",
  run_id: "run_demo",
  sequence,
  ...fields
})

const checkpointContent = (): RunpackContent =>
  checkpointRunpack({
    events: [
      event(1, { intent_id: "intent_1", tool_name: "tool.write", verdict: "allow" }),
      event(2, {
        tool_name: "tool.delete",
        intent_digest: "a".repeat(64),
        policy_digest: "e".repeat(64),
        trace_id: "trace_2",
        trace_path: "traces/trace_2.json",
        verdict: "block",
        reason_codes: ["blocked"],
        violations: []
      }),
      event(3, { verdict: "require_approval" })
    ],
    sessionId: "sess_demo",
    checkpointRunId: "run_demo_cp_0001",
    createdAt: "2026-02-11T00:00:09Z",
    producerVersion: "0.0.0-test",
    checkpointIndex: 1
  })

const build = (content: RunpackContent) => Effect.runSync(buildRunpack(content))

const verify = (zip: Uint8Array, options: Partial<VerifyRunpackOptions> = {}): RunpackVerification =>
  right(verifyRunpack(zip, { requireSignature: false, ...options }))

const verifyError = (zip: Uint8Array, options: Partial<VerifyRunpackOptions> = {}): RunpackInvalid => {
  const result = verifyRunpack(zip, { requireSignature: false, ...options })
  if (Either.isRight(result)) throw new Error(`expected RunpackInvalid, got ${JSON.stringify(result.right)}`)
  return result.left
}

/** Re-zips the entries of `zip` with some replaced (or removed with `undefined`). */
const rezip = (zip: Uint8Array, changes: Readonly<Record<string, Uint8Array | undefined>>): Uint8Array => {
  const entries: Record<string, Uint8Array> = { ...unzipSync(zip) }
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete entries[name]
    else entries[name] = value
  }
  return deterministicZip(entries)
}

const editManifest = (zip: Uint8Array, edit: (m: Record<string, unknown>) => Record<string, unknown>): Uint8Array => {
  const manifest = JSON.parse(text(unzipSync(zip)["manifest.json"])) as Record<string, unknown>
  return rezip(zip, { "manifest.json": bytes(JSON.stringify(edit(manifest))) })
}

/** Overwrites every occurrence of the name `from` (same length) in the headers: a true duplicate. */
const renameInPlace = (zip: Uint8Array, from: string, to: string): Uint8Array => {
  const out = new Uint8Array(zip)
  const needle = bytes(from)
  const replacement = bytes(to)
  for (let i = 0; i + needle.length <= out.length; i++) {
    if (needle.every((b, j) => out[i + j] === b)) out.set(replacement, i)
  }
  return out
}

/** Offset of the central-directory header of `name`. */
const centralHeaderOf = (zip: Uint8Array, name: string): number => {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength)
  let end = zip.length - 22
  while (view.getUint32(end, true) !== 0x06054b50) end--
  let at = view.getUint32(end + 16, true)
  for (let i = 0; i < view.getUint16(end + 10, true); i++) {
    const nameLength = view.getUint16(at + 28, true)
    if (text(zip.subarray(at + 46, at + 46 + nameLength)) === name) return at
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true)
  }
  throw new Error(`no entry ${name}`)
}

const setDeclaredSize = (zip: Uint8Array, name: string, size: number): Uint8Array => {
  const out = new Uint8Array(zip)
  new DataView(out.buffer).setUint32(centralHeaderOf(out, name) + 24, size, true)
  return out
}

const GOLDEN_MANIFEST_DIGEST = "5df30db691a7623bbad16c19ddda77f801ac9aad853a615ca6511c628f21f5d8"

describe("manifest digest golden vector (§0.2)", () => {
  it("reproduces record_verify_replay_diff.golden.json for integrationRunpackFixture", () => {
    const built = build(integrationRunpackFixture())
    expect(built.manifestDigest).toBe(GOLDEN_MANIFEST_DIGEST)
    expect(built.manifest.manifest_digest).toBe(GOLDEN_MANIFEST_DIGEST)
    const v = verify(built.zip)
    expect(v).toEqual({
      run_id: "run_integration",
      manifest_digest: GOLDEN_MANIFEST_DIGEST,
      files_checked: 4,
      signature_status: "missing",
      signatures_total: 0,
      signatures_valid: 0
    })
    expect(isVerified(v, false)).toBe(true)
  })

  it("applies the recorder's normalisation: payloads stripped, receipt defaults, context_ref_count", () => {
    const { entries } = build(integrationRunpackFixture())
    expect(text(entries["intents.jsonl"])).not.toContain('"args"')
    expect(text(entries["results.jsonl"])).not.toContain('"result"')
    const refs = JSON.parse(text(entries["refs.json"])) as { context_ref_count: number; receipts: Array<{ immutability: string }> }
    expect(refs.context_ref_count).toBe(2)
    expect(refs.receipts.map((r) => r.immutability)).toEqual(["unknown", "unknown"])
  })

  it("keeps \"manifest_digest\":\"\" in the hashed object; dropping it gives another digest", () => {
    const { manifest } = build(integrationRunpackFixture())
    const { manifest_digest: _, signatures: _s, ...withoutField } = manifest
    expect(right(digestJson({ ...withoutField, manifest_digest: "" }))).toBe(GOLDEN_MANIFEST_DIGEST)
    expect(right(digestJson(withoutField))).not.toBe(GOLDEN_MANIFEST_DIGEST)
  })

  it("raw capture mode keeps args and result, and changes the digest", () => {
    const built = build({ ...integrationRunpackFixture(), captureMode: "raw" })
    expect(text(built.entries["intents.jsonl"])).toContain('"args":{"query":"offline test"}')
    expect(built.manifest.capture_mode).toBe("raw")
    expect(built.manifestDigest).not.toBe(GOLDEN_MANIFEST_DIGEST)
  })
})

describe("checkpoint runpack digests (§7.6)", () => {
  it("result_digest vector 0dcd62da…803c", () => {
    const expected = "0dcd62daabc9284f4bdbe84598c85c79a113ee6532ccdfa8e562528ca922803c"
    expect(right(canonicalize({ verdict: "allow", reason_codes: null, violations: null, trace_id: "", trace_path: "" }))).toBe(
      '{"reason_codes":null,"trace_id":"","trace_path":"","verdict":"allow","violations":null}'
    )
    expect(sessionEventResultDigest(event(1, { verdict: "allow" }))).toBe(expected)
  })

  it("present lists hash as arrays, absent ones as null", () => {
    const empty = sessionEventResultDigest(event(1, { verdict: "allow", reason_codes: [] }))
    expect(empty).toBe(
      right(digestJson({ verdict: "allow", reason_codes: [], violations: null, trace_id: "", trace_path: "" }))
    )
    expect(empty).not.toBe(sessionEventResultDigest(event(1, { verdict: "allow" })))
  })

  it("derived args_digest for sess_demo, sequence 1, empty trace: 73b36e49…30d0", () => {
    const digest = sessionEventArgsDigest("sess_demo", event(1))
    expect(digest.startsWith("73b36e49")).toBe(true)
    expect(digest.endsWith("30d0")).toBe(true)
    expect(digest).toBe(right(digestJson({ sequence: 1, session_id: "sess_demo", trace_id: "", trace_path: "" })))
  })
})

describe("checkpointRunpack (§7.6)", () => {
  const content = checkpointContent()

  it("run: checkpoint run id, time, producer, Go-named env, timeline", () => {
    const { run } = content
    expect(run.run_id).toBe("run_demo_cp_0001")
    expect(run.created_at).toBe("2026-02-11T00:00:09Z")
    expect(run.producer_version).toBe("0.0.0-test")
    expect(run.env).toEqual(goRunEnv())
    expect(run.env.runtime).toBe("go")
    expect(run.env.os).not.toBe("win32")
    expect(run.env.arch).not.toBe("x64")
    expect(run.timeline.map((t) => [t.event, t.ts, t.ref])).toEqual([
      ["session_event", "2026-02-11T00:00:01Z", undefined],
      ["session_event", "2026-02-11T00:00:02Z", "trace_2"],
      ["session_event", "2026-02-11T00:00:03Z", undefined],
      ["session_checkpoint_emitted", "2026-02-11T00:00:09Z", "checkpoint:1"]
    ])
    expect("ref" in (run.timeline[0] ?? {})).toBe(false)
    expect(run.timeline[1]?.relationship?.edges?.map((e) => e.kind)).toEqual(["derived_from", "governed_by"])
    expect(run.timeline[1]?.relationship?.entity_refs).toContainEqual({ kind: "evidence", id: "sess_demo" })
    expect(run.timeline[3]?.relationship?.edges).toEqual([
      { kind: "emits_evidence", from: { kind: "run", id: "run_demo_cp_0001" }, to: { kind: "evidence", id: "checkpoint:1" } }
    ])
  })

  it("intents: id or intent_<position>, intent_digest or the derived digest, event time", () => {
    expect(content.intents.map((i) => [i.intent_id, i.tool_name, i.created_at, i.run_id])).toEqual([
      ["intent_1", "tool.write", "2026-02-11T00:00:01Z", "run_demo_cp_0001"],
      ["intent_2", "tool.delete", "2026-02-11T00:00:02Z", "run_demo_cp_0001"],
      ["intent_3", "", "2026-02-11T00:00:03Z", "run_demo_cp_0001"]
    ])
    expect(content.intents[0]?.args_digest).toBe(sessionEventArgsDigest("sess_demo", event(1)))
    expect(content.intents[1]?.args_digest).toBe("a".repeat(64))
    expect(content.intents.every((i) => i.args === undefined)).toBe(true)
  })

  it("results: status error for block and require_approval", () => {
    expect(content.results.map((r) => r.status)).toEqual(["ok", "error", "error"])
    expect(content.results[0]?.result_digest).toBe("0dcd62daabc9284f4bdbe84598c85c79a113ee6532ccdfa8e562528ca922803c")
  })

  it("refs: the checkpoint run id and no receipts; unsigned reference capture", () => {
    expect(content.refs.run_id).toBe("run_demo_cp_0001")
    expect(content.refs.receipts).toEqual([])
    expect(content.captureMode).toBe("reference")
    const built = build(content)
    expect(text(built.entries["refs.json"])).toBe(
      '{"created_at":"2026-02-11T00:00:09Z","producer_version":"0.0.0-test","receipts":[],"run_id":"run_demo_cp_0001","schema_id":"gait.runpack.refs","schema_version":"1.0.0"}'
    )
    expect(built.manifest.signatures).toBeUndefined()
  })

  it("converts event times to UTC", () => {
    const c = checkpointRunpack({
      events: [event(1, { created_at: "2026-02-11T02:00:00.500+02:00" })],
      sessionId: "s",
      checkpointRunId: "r_cp_0001",
      createdAt: "2026-02-11T00:00:09.000Z",
      producerVersion: "",
      checkpointIndex: 1
    })
    expect(c.intents[0]?.created_at).toBe("2026-02-11T00:00:00.5Z")
    expect(c.run.created_at).toBe("2026-02-11T00:00:09Z")
    expect(c.run.producer_version).toBe("0.0.0-dev")
  })

  it("builds a zip that verifies clean", () => {
    const v = verify(build(content).zip)
    expect(v.run_id).toBe("run_demo_cp_0001")
    expect(isVerified(v, false)).toBe(true)
    expect(isVerified(v, true)).toBe(false)
  })
})

describe("deterministic zip (§7.1, §7.4)", () => {
  it("same input twice gives identical bytes", () => {
    const a = build(checkpointContent())
    const b = build(checkpointContent())
    expect(Buffer.from(a.zip).equals(Buffer.from(b.zip))).toBe(true)
    expect(Buffer.from(build(integrationRunpackFixture()).zip).equals(Buffer.from(build(integrationRunpackFixture()).zip))).toBe(
      true
    )
  })

  it("a different input gives a different manifest digest", () => {
    const other = { ...checkpointContent(), run: { ...checkpointContent().run, producer_version: "9.9.9" } }
    expect(build(other).manifestDigest).not.toBe(build(checkpointContent()).manifestDigest)
  })

  it("holds exactly the five entries, sorted, with fixed time and Unix mode", () => {
    const { zip, entries } = build(checkpointContent())
    const names = ["intents.jsonl", "manifest.json", "refs.json", "results.jsonl", "run.json"]
    expect(Object.keys(unzipSync(zip))).toEqual(names)
    expect(Object.keys(entries).sort()).toEqual(names)
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength)
    for (const name of names) {
      const at = centralHeaderOf(zip, name)
      expect(view.getUint16(at + 12, true)).toBe(0) // DOS time 00:00:00
      expect(view.getUint16(at + 14, true)).toBe((1 << 5) | 1) // DOS date 1980-01-01
      expect(view.getUint16(at + 10, true)).toBe(8) // deflate
      expect(view.getUint32(at + 38, true)).toBe((0o100644 << 16) >>> 0)
    }
  })

  it("entries are canonical JSON; jsonl lines end with a newline; no trailing newline elsewhere", () => {
    const { entries } = build(checkpointContent())
    const lines = text(entries["intents.jsonl"]).split("\n")
    expect(lines).toHaveLength(4)
    expect(lines[3]).toBe("")
    expect(right(canonicalize(JSON.parse(lines[0] ?? "")))).toBe(lines[0])
    for (const name of ["manifest.json", "refs.json", "run.json"]) {
      const t = text(entries[name])
      expect(t.endsWith("}")).toBe(true)
      expect(right(canonicalize(JSON.parse(t)))).toBe(t)
    }
  })

  it("no intents gives an empty intents.jsonl", () => {
    const content: RunpackContent = { ...checkpointContent(), intents: [], results: [] }
    const built = build(content)
    expect(built.entries["intents.jsonl"]).toHaveLength(0)
    expect(built.manifest.files[0]).toEqual({
      path: "intents.jsonl",
      sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    })
    expect(verify(built.zip).hash_mismatches).toBeUndefined()
  })

  it("no entries gives zero bytes", () => {
    expect(deterministicZip({})).toHaveLength(0)
  })
})

describe("verifyRunpack (§7.5)", () => {
  const good = build(checkpointContent())

  it("a tampered entry is a hash mismatch", () => {
    const tampered = rezip(good.zip, { "run.json": bytes(text(good.entries["run.json"]).replace("0.0.0-test", "0.0.0-evil")) })
    const v = verify(tampered)
    expect(v.hash_mismatches).toEqual([
      {
        path: "run.json",
        expected: good.manifest.files.find((f) => f.path === "run.json")?.sha256,
        actual: sha(text(unzipSync(tampered)["run.json"]))
      }
    ])
    expect(isVerified(v, false)).toBe(false)
  })

  it("a tampered manifest digest is reported against manifest.json", () => {
    const forged = "0".repeat(64)
    const v = verify(editManifest(good.zip, (m) => ({ ...m, manifest_digest: forged })))
    expect(v.manifest_digest).toBe(forged)
    expect(v.hash_mismatches).toEqual([{ path: "manifest.json", expected: forged, actual: good.manifestDigest }])
    expect(
      verify(editManifest(good.zip, (m) => ({ ...m, manifest_digest: forged })), { skipManifestDigestCheck: true }).hash_mismatches
    ).toBeUndefined()
  })

  it("hex comparison is case-insensitive", () => {
    const upper = editManifest(good.zip, (m) => ({ ...m, manifest_digest: good.manifestDigest.toUpperCase() }))
    expect(verify(upper).hash_mismatches).toBeUndefined()
  })

  it("recomputes the digest from the parsed manifest: unknown fields dropped, +00:00 read as Z", () => {
    const edited = editManifest(good.zip, (m) => ({ ...m, created_at: "2026-02-11T00:00:09.000+00:00", x_note: "hello" }))
    expect(verify(edited).hash_mismatches).toBeUndefined()
    const moved = editManifest(good.zip, (m) => ({ ...m, created_at: "2026-02-11T02:00:09+02:00" }))
    expect(verify(moved).hash_mismatches?.map((h) => h.path)).toEqual(["manifest.json"])
  })

  it("a file listed in the manifest but absent from the zip, and a required file not listed, are missing", () => {
    const v = verify(rezip(good.zip, { "refs.json": undefined }))
    expect(v.missing_files).toEqual(["refs.json"])
    const unlisted = editManifest(good.zip, (m) => ({
      ...m,
      files: (m.files as Array<{ path: string }>).filter((f) => f.path !== "results.jsonl")
    }))
    const u = verify(unlisted)
    expect(u.missing_files).toEqual(["results.jsonl"])
    expect(u.files_checked).toBe(3)
  })

  it("extra zip entries are ignored", () => {
    const v = verify(rezip(good.zip, { "notes.txt": bytes("hi") }))
    expect(v.missing_files).toBeUndefined()
    expect(v.hash_mismatches).toBeUndefined()
  })

  it("duplicate entries are a classified error", () => {
    const zip = deterministicZip({ ...good.entries, "run.jsoZ": bytes("{}") })
    const e = verifyError(renameInPlace(zip, "run.jsoZ", "run.json"))
    expect(e).toBeInstanceOf(RunpackInvalid)
    expect(e.reason).toBe("duplicate_entries")
    expect(e.message).toBe("zip contains duplicate entries: run.json")
    expect(diagnose(e, undefined).body.hint).toBe("rebuild the artifact so each zip path is unique")
  })

  it("names are compared after trimming and converting \\ to /", () => {
    const zip = deterministicZip({ ...good.entries, " run.json": bytes("{}"), "a\\b": bytes(""), "a/b": bytes("") })
    expect(verifyError(zip).message).toBe("zip contains duplicate entries: a/b, run.json")
  })

  it("a missing manifest is an error", () => {
    const e = verifyError(rezip(good.zip, { "manifest.json": undefined }))
    expect(e.reason).toBe("missing_manifest")
    expect(e.message).toBe("missing manifest.json")
    expect(diagnose(e, undefined).body.error_category).toBe("invalid_input")
  })

  it("manifest parse and schema errors", () => {
    const withManifest = (s: string) => rezip(good.zip, { "manifest.json": bytes(s) })
    expect(verifyError(withManifest("{not json")).message).toMatch(/^parse manifest\.json: /)
    expect(verifyError(withManifest("[]")).message).toBe(
      "parse manifest.json: json: cannot unmarshal array into Go value of type runpack.Manifest"
    )
    expect(verifyError(withManifest('{"schema_id":1}')).reason).toBe("manifest_unparsable")
    expect(verifyError(withManifest('{"schema_id":"gait.runpack.manifest","created_at":"yesterday"}')).reason).toBe(
      "manifest_unparsable"
    )
    expect(verifyError(withManifest("null")).message).toBe("manifest schema_id must be gait.runpack.manifest")
    expect(verifyError(editManifest(good.zip, (m) => ({ ...m, schema_id: "x" }))).message).toBe(
      "manifest schema_id must be gait.runpack.manifest"
    )
    expect(verifyError(editManifest(good.zip, (m) => ({ ...m, schema_version: "2.0.0" }))).message).toBe(
      "manifest schema_version must be 1.0.0"
    )
    const noRun = verifyError(editManifest(good.zip, (m) => ({ ...m, run_id: "" })))
    expect([noRun.reason, noRun.message]).toEqual(["manifest_missing_run_id", "manifest missing run_id"])
  })

  it("matches manifest keys case-insensitively, as Go's decoder does", () => {
    const edited = editManifest(good.zip, (m) => {
      const { run_id, ...rest } = m
      return { ...rest, RUN_ID: run_id }
    })
    const v = verify(edited)
    expect(v.run_id).toBe("run_demo_cp_0001")
    expect(v.hash_mismatches).toBeUndefined()
  })

  it("unsigned: missing, and an error only when a signature is required", () => {
    expect(verify(good.zip).signature_errors).toBeUndefined()
    const required = verify(good.zip, { requireSignature: true })
    expect(required.signature_status).toBe("missing")
    expect(required.signature_errors).toEqual(["manifest has no signatures"])
    expect(isVerified(required, true)).toBe(false)
  })

  it("not a zip, too many entries, oversized entries", () => {
    expect(verifyError(new Uint8Array(0)).reason).toBe("zip_unreadable")
    expect(verifyError(bytes("PK not really a zip")).message).toBe("open zip: zip: not a valid zip file")
    const many: Record<string, Uint8Array> = { ...good.entries }
    for (let i = 0; i < 60; i++) many[`extra/${i}`] = bytes("")
    expect(verifyError(deterministicZip(many)).reason).toBe("too_many_entries")
    expect(verifyError(good.zip, { maxEntries: 4 }).reason).toBe("too_many_entries")

    const declared = verifyError(good.zip, { maxEntryBytes: 64 })
    expect(declared.reason).toBe("entry_too_large")
    expect(declared.message).toMatch(/^read manifest\.json: zip entry too large: \d+$/)

    // A bomb: 10 MB of zeros that claims to be 10 bytes.
    const bomb = setDeclaredSize(rezip(good.zip, { "run.json": new Uint8Array(10_000_000) }), "run.json", 10)
    const actual = verifyError(bomb, { maxEntryBytes: 1_000_000 })
    expect(actual.reason).toBe("entry_too_large")
    expect(actual.message).toBe("hash run.json: zip entry too large: 1000001")
    const lying = verifyError(setDeclaredSize(good.zip, "run.json", 10))
    expect([lying.reason, lying.message]).toEqual(["entry_unreadable", "hash run.json: zip: checksum error"])
  })
})

describe("signed manifests (§7.3, §7.5)", () => {
  const pair = generateKeyPair()
  const keys = fromKeyPair(pair, "prod")
  const other = generateKeyPair()
  const signed = Effect.runSync(buildRunpack(checkpointContent(), { sign: { keyId: keys.keyId, signDigest: keys.signDigest } }))

  it("signs the manifest digest with the key, without changing the manifest digest", () => {
    const unsigned = build(checkpointContent())
    expect(signed.manifestDigest).toBe(unsigned.manifestDigest)
    const [sig] = signed.manifest.signatures ?? []
    expect(sig?.alg).toBe("ed25519")
    expect(sig?.key_id).toBe(pair.keyId)
    const { signatures: _, ...withoutSignatures } = signed.manifest
    expect(sig?.signed_digest).toBe(right(digestJson(withoutSignatures)))
    expect(sig?.sig).toBe(encodeBase64(signDigestBytes(pair.privateKey, Buffer.from(sig?.signed_digest ?? "", "hex"))))
  })

  it("verifies with the right key", () => {
    const v = verify(signed.zip, { publicKey: pair.publicKey, requireSignature: true })
    expect(v.signature_status).toBe("verified")
    expect(v.signatures_total).toBe(1)
    expect(v.signatures_valid).toBe(1)
    expect(v.signature_errors).toBeUndefined()
    expect(isVerified(v, true)).toBe(true)
  })

  it("fails with the wrong key", () => {
    const v = verify(signed.zip, { publicKey: other.publicKey })
    expect(v.signature_status).toBe("failed")
    expect(v.signature_errors).toEqual(["key id mismatch"])
    expect(isVerified(v, false)).toBe(false)
    const anonymous = editManifest(signed.zip, (m) => ({
      ...m,
      signatures: (m.signatures as Array<Record<string, unknown>>).map((s) => ({ ...s, key_id: "" }))
    }))
    expect(verify(anonymous, { publicKey: other.publicKey }).signature_errors).toEqual(["signature verification failed"])
  })

  it("is skipped without a key", () => {
    const v = verify(signed.zip)
    expect(v.signature_status).toBe("skipped")
    expect(v.signature_errors).toEqual(["public key not configured"])
  })

  it("a changed signed_digest fails; a missing one is reported", () => {
    const withDigest = (d: string | undefined) =>
      editManifest(signed.zip, (m) => ({
        ...m,
        signatures: (m.signatures as Array<Record<string, unknown>>).map(({ signed_digest: _, ...s }) =>
          d === undefined ? s : { ...s, signed_digest: d }
        )
      }))
    expect(verify(withDigest("f".repeat(64)), { publicKey: pair.publicKey }).signature_errors).toEqual(["signed_digest mismatch"])
    const missing = verify(withDigest(undefined), { publicKey: pair.publicKey })
    expect(missing.signature_status).toBe("failed")
    expect(missing.signature_errors).toEqual(["missing signed_digest"])
  })

  it("covers the raw manifest bytes, unknown fields included", () => {
    const manifest = JSON.parse(text(signed.entries["manifest.json"])) as Record<string, unknown>
    const { signatures: _, ...rest } = manifest
    const raw = { ...rest, x_extension: { note: "kept by the signature" } }
    const signedDigest = right(digestJson(raw))
    const sig = encodeBase64(signDigestBytes(pair.privateKey, Buffer.from(signedDigest, "hex")))
    const zip = rezip(signed.zip, {
      "manifest.json": bytes(
        JSON.stringify({ ...raw, signatures: [{ alg: "ed25519", key_id: pair.keyId, sig, signed_digest: signedDigest }] })
      )
    })
    const v = verify(zip, { publicKey: pair.publicKey })
    expect(v.signature_status).toBe("verified")
    expect(v.hash_mismatches).toBeUndefined()
    // The original signature does not cover the extension.
    const extended = editManifest(signed.zip, (m) => ({ ...m, x_extension: 1 }))
    expect(verify(extended, { publicKey: pair.publicKey }).signature_errors).toEqual(["signed_digest mismatch"])
  })

  it("a signer failure fails the build", () => {
    const failing = buildRunpack(checkpointContent(), {
      sign: { keyId: "k", signDigest: () => Effect.fail("kms down" as const) }
    })
    expect(Effect.runSync(Effect.flip(failing))).toBe("kms down")
  })
})

describe("goTimestamp", () => {
  it("renders times as Go marshals a parsed time.Time", () => {
    const go = (t: string) => Option.getOrNull(goTimestamp(t))
    expect(go("2026-02-05T00:00:00+00:00")).toBe("2026-02-05T00:00:00Z")
    expect(go("2026-02-05T00:00:00.120000Z")).toBe("2026-02-05T00:00:00.12Z")
    expect(go("2026-02-05T01:00:00.000+01:00")).toBe("2026-02-05T01:00:00+01:00")
    expect(go("2026-02-05T00:00:00.1234567891Z")).toBe("2026-02-05T00:00:00.123456789Z")
    expect(go("2026-02-30T00:00:00Z")).toBeNull()
    expect(go("2026-02-05 00:00:00Z")).toBeNull()
  })
})
