/**
 * The runpack zip (spec session.md §7): record types, the checkpoint runpack of a session
 * (§7.6), the deterministic build with manifest digest and optional signature (§7.1–7.4), and
 * verification (§7.5). No file I/O: callers write and read the bytes.
 */
import { inflateRawSync } from "node:zlib"
import { Clock, Effect, Either, Option, Schema } from "effect"
import { zipSync } from "fflate"
import { type CanonicalJsonError, canonicalize } from "../kernel/canonical-json.js"
import { sha256Hex } from "../kernel/digest.js"
import { goHost } from "../kernel/host.js"
import { encodeBase64, SignatureAlg, type VerifyProblem, verifySignedDocument } from "../kernel/signing.js"
import { compareBytes, lowerTrim, trim } from "../kernel/text.js"
import { DEFAULT_CREATED_AT, formatRfc3339Nano, GO_ZERO_TIME, parseRfc3339 } from "../kernel/time.js"
import { RunpackInvalid, type RunpackInvalidReason } from "./errors-runpack.js"
import { optionalExact, recordHeaderFields } from "../kernel/schema-fields.js"
import { timelineRelationship } from "./relationship.js"
import { Relationship, SCHEMA_VERSION, type SessionEvent } from "./schema.js"

export { RunpackInvalid } from "./errors-runpack.js"


export const RUN_SCHEMA = "gait.runpack.run"
export const INTENT_SCHEMA = "gait.runpack.intent"
export const RESULT_SCHEMA = "gait.runpack.result"
export const REFS_SCHEMA = "gait.runpack.refs"
export const MANIFEST_SCHEMA = "gait.runpack.manifest"
export const DEFAULT_PRODUCER_VERSION = "0.0.0-dev"

/** The four files the manifest must list, and the zip entry names in order. */
export const RUNPACK_FILES = ["intents.jsonl", "refs.json", "results.jsonl", "run.json"] as const
export const MANIFEST_ENTRY = "manifest.json"

/** 100 MiB, as the reference; the entry-count cap is this port's own (a runpack has five). */
export const MAX_ENTRY_BYTES = 100 * 1024 * 1024
export const MAX_ENTRIES = 64

const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

export const RunEnv = Schema.Struct({ os: Schema.String, arch: Schema.String, runtime: Schema.String })
export type RunEnv = typeof RunEnv.Type

export const TimelineEvent = Schema.Struct({
  event: Schema.String,
  ts: Schema.String,
  ref: optionalExact(Schema.String),
  relationship: optionalExact(Relationship)
})
export type TimelineEvent = typeof TimelineEvent.Type

export const Run = Schema.Struct({
  ...recordHeaderFields,
  run_id: Schema.String,
  env: RunEnv,
  timeline: Schema.Array(TimelineEvent)
})
export type Run = typeof Run.Type

export const IntentRecord = Schema.Struct({
  ...recordHeaderFields,
  run_id: Schema.String,
  intent_id: Schema.String,
  tool_name: Schema.String,
  args_digest: Schema.String,
  args: optionalExact(JsonObject)
})
export type IntentRecord = typeof IntentRecord.Type

export const ResultRecord = Schema.Struct({
  ...recordHeaderFields,
  run_id: Schema.String,
  intent_id: Schema.String,
  status: Schema.String,
  result_digest: Schema.String,
  result: optionalExact(JsonObject)
})
export type ResultRecord = typeof ResultRecord.Type

export const RefReceipt = Schema.Struct({
  ref_id: Schema.String,
  source_type: Schema.String,
  source_locator: Schema.String,
  query_digest: Schema.String,
  content_digest: Schema.String,
  retrieved_at: Schema.String,
  redaction_mode: Schema.String,
  immutability: optionalExact(Schema.String),
  freshness_sla_seconds: optionalExact(Schema.Int),
  sensitivity_label: optionalExact(Schema.String),
  retrieval_params: optionalExact(JsonObject)
})
export type RefReceipt = typeof RefReceipt.Type

export const Refs = Schema.Struct({
  ...recordHeaderFields,
  run_id: Schema.String,
  context_set_digest: optionalExact(Schema.String),
  context_evidence_mode: optionalExact(Schema.String),
  context_ref_count: optionalExact(Schema.NonNegativeInt),
  receipts: Schema.Array(RefReceipt)
})
export type Refs = typeof Refs.Type

export const ManifestFile = Schema.Struct({ path: Schema.String, sha256: Schema.String })
export type ManifestFile = typeof ManifestFile.Type

export const ManifestSignature = Schema.Struct({
  alg: Schema.String,
  key_id: Schema.String,
  sig: Schema.String,
  signed_digest: optionalExact(Schema.String)
})
export type ManifestSignature = typeof ManifestSignature.Type

export const Manifest = Schema.Struct({
  ...recordHeaderFields,
  run_id: Schema.String,
  capture_mode: Schema.String,
  files: Schema.Array(ManifestFile),
  manifest_digest: Schema.String,
  signatures: optionalExact(Schema.Array(ManifestSignature))
})
export type Manifest = typeof Manifest.Type

/**
 * What goes into a runpack. Empty schema ids, versions, times, producer versions and run ids are
 * defaulted as the reference's recorder does; digests must be present (the producer computes them).
 */
export interface RunpackContent {
  readonly run: Run
  readonly intents: ReadonlyArray<IntentRecord>
  readonly results: ReadonlyArray<ResultRecord>
  readonly refs: Refs
  /** `reference` (default) strips `args` and `result`; `raw` keeps them. */
  readonly captureMode?: string | undefined
}

export const HashMismatch = Schema.Struct({ path: Schema.String, expected: Schema.String, actual: Schema.String })
export type HashMismatch = typeof HashMismatch.Type

export const SignatureStatus = Schema.Literal("missing", "skipped", "verified", "failed")
export type SignatureStatus = typeof SignatureStatus.Type

export const RunpackVerification = Schema.Struct({
  run_id: Schema.String,
  manifest_digest: Schema.String,
  files_checked: Schema.NonNegativeInt,
  missing_files: optionalExact(Schema.Array(Schema.String)),
  hash_mismatches: optionalExact(Schema.Array(HashMismatch)),
  signature_status: SignatureStatus,
  signature_errors: optionalExact(Schema.Array(Schema.String)),
  signatures_total: Schema.NonNegativeInt,
  signatures_valid: Schema.NonNegativeInt
})
export type RunpackVerification = typeof RunpackVerification.Type

// ---------------------------------------------------------------------------------------------
// Time and environment

const GO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/

/**
 * Re-renders an RFC 3339 timestamp as Go marshals a parsed `time.Time`: the offset is kept, a zero
 * offset becomes `Z`, the fraction is cut to nanoseconds and trailing zeros are trimmed.
 */
export const goTimestamp = (text: string): Option.Option<string> => {
  const m = GO_TIME.exec(text)
  if (m === null) return Option.none()
  const fraction = (m[1] ?? "").slice(0, 9).replace(/0+$/, "")
  const offset = m[2] === "+00:00" || m[2] === "-00:00" ? "Z" : (m[2] ?? "Z")
  const rendered = `${text.slice(0, 19)}${fraction === "" ? "" : `.${fraction}`}${offset}`
  return Option.isSome(parseRfc3339(rendered)) ? Option.some(rendered) : Option.none()
}

const goTime = (text: string): string => Option.getOrElse(goTimestamp(text), () => text)

/** The same instant in UTC (Go `.UTC()`); text that is not a timestamp is kept. */
const utcTime = (text: string): string => Option.match(parseRfc3339(text), { onNone: () => text, onSome: formatRfc3339Nano })

/** The host as the reference names it (GOOS, GOARCH, runtime "go"), so digests match on the same inputs. */
export const goRunEnv = (): RunEnv => ({ ...goHost(), runtime: "go" })

// ---------------------------------------------------------------------------------------------
// Checkpoint runpack (§7.6)

export interface CheckpointRunpackInput {
  /** The new events of this checkpoint, in sequence order. */
  readonly events: ReadonlyArray<SessionEvent>
  readonly sessionId: string
  /** `<journal run_id>_cp_NNNN`. */
  readonly checkpointRunId: string
  /** The checkpoint time (RFC 3339). */
  readonly createdAt: string
  readonly producerVersion: string
  readonly checkpointIndex: number
}

// Go's JSON decoder turns lone surrogates into U+FFFD before anything is hashed; doing the same
// here keeps every string canonicalizable.
const wf = (s: string | undefined): string => (s ?? "").toWellFormed()

/** sha256(JCS(value)) for values built from well-formed strings and safe integers only. */
const digestOfWellFormed = (value: unknown): string =>
  sha256Hex(Either.getOrElse(canonicalize(value), () => JSON.stringify(value)))

/** The derived args digest of an event without `intent_digest` (§7.6). */
export const sessionEventArgsDigest = (sessionId: string, event: SessionEvent): string =>
  digestOfWellFormed({
    session_id: wf(sessionId),
    sequence: event.sequence,
    trace_id: wf(event.trace_id),
    trace_path: wf(event.trace_path)
  })

const wfList = (list: ReadonlyArray<string> | undefined): ReadonlyArray<string> | null =>
  list === undefined ? null : list.map(wf)

/** §7.6: digest of verdict, reason codes, violations and trace; absent lists hash as `null`. */
export const sessionEventResultDigest = (event: SessionEvent): string =>
  digestOfWellFormed({
    verdict: wf(event.verdict),
    reason_codes: wfList(event.reason_codes),
    violations: wfList(event.violations),
    trace_id: wf(event.trace_id),
    trace_path: wf(event.trace_path)
  })

/** The runpack a checkpoint writes (§7.6): one intent and one result per event, unsigned refs. */
export const checkpointRunpack = (input: CheckpointRunpackInput): RunpackContent => {
  const runId = wf(input.checkpointRunId)
  const producerVersion = wf(input.producerVersion) || DEFAULT_PRODUCER_VERSION
  const createdAt = utcTime(wf(input.createdAt))
  const sessionId = wf(input.sessionId)
  const intents: Array<IntentRecord> = []
  const results: Array<ResultRecord> = []
  const timeline: Array<TimelineEvent> = []
  input.events.forEach((event, i) => {
    const at = utcTime(wf(event.created_at))
    const intentId = trim(wf(event.intent_id)) || `intent_${i + 1}`
    const intentDigest = wf(event.intent_digest)
    const verdict = wf(event.verdict)
    const traceId = wf(event.trace_id)
    const common = { created_at: at, producer_version: producerVersion, run_id: runId, intent_id: intentId }
    intents.push({
      schema_id: INTENT_SCHEMA,
      schema_version: SCHEMA_VERSION,
      ...common,
      tool_name: wf(event.tool_name),
      args_digest: intentDigest === "" ? sessionEventArgsDigest(sessionId, event) : intentDigest
    })
    results.push({
      schema_id: RESULT_SCHEMA,
      schema_version: SCHEMA_VERSION,
      ...common,
      status: verdict === "block" || verdict === "require_approval" ? "error" : "ok",
      result_digest: sessionEventResultDigest(event)
    })
    const relationship = timelineRelationship({
      event: "session_event",
      runId,
      refId: sessionId,
      traceId,
      toolName: wf(event.tool_name),
      policyDigest: wf(event.policy_digest)
    })
    timeline.push({
      event: "session_event",
      ts: at,
      ...(traceId === "" ? {} : { ref: traceId }),
      ...(relationship === undefined ? {} : { relationship })
    })
  })
  const checkpointRef = `checkpoint:${input.checkpointIndex}`
  const emitted = timelineRelationship({ event: "session_checkpoint_emitted", runId, refId: checkpointRef })
  timeline.push({
    event: "session_checkpoint_emitted",
    ts: createdAt,
    ref: checkpointRef,
    ...(emitted === undefined ? {} : { relationship: emitted })
  })
  const header = { created_at: createdAt, producer_version: producerVersion, run_id: runId }
  return {
    run: { schema_id: RUN_SCHEMA, schema_version: SCHEMA_VERSION, ...header, env: goRunEnv(), timeline },
    intents,
    results,
    refs: { schema_id: REFS_SCHEMA, schema_version: SCHEMA_VERSION, ...header, receipts: [] },
    captureMode: "reference"
  }
}

// ---------------------------------------------------------------------------------------------
// Build (§7.1–7.4)

interface Normalized {
  readonly run: Run
  readonly intents: ReadonlyArray<IntentRecord>
  readonly results: ReadonlyArray<ResultRecord>
  readonly refs: Refs
  readonly captureMode: string
}

const isEmptyObject = (o: Readonly<Record<string, unknown>> | undefined): boolean =>
  o === undefined || Object.keys(o).length === 0

const or = (value: string, fallback: string): string => (value === "" ? fallback : value)

/** The reference recorder's defaults, refs normalisation and capture-mode payload policy. */
const normalizeContent = (content: RunpackContent, now: string): Normalized => {
  const host = goRunEnv()
  const r = content.run
  const run: Run = {
    schema_id: or(r.schema_id, RUN_SCHEMA),
    schema_version: or(r.schema_version, SCHEMA_VERSION),
    created_at: goTime(or(r.created_at, now)),
    producer_version: or(r.producer_version, DEFAULT_PRODUCER_VERSION),
    run_id: r.run_id,
    env: { os: or(r.env.os, host.os), arch: or(r.env.arch, host.arch), runtime: or(r.env.runtime, host.runtime) },
    timeline: r.timeline.map((t) => ({ ...t, ts: goTime(t.ts) }))
  }
  const captureMode = or(content.captureMode ?? "", "reference")
  const stripPayloads = lowerTrim(captureMode) === "reference"
  const header = <T extends { created_at: string; producer_version: string; run_id: string }>(rec: T): T => ({
    ...rec,
    created_at: goTime(or(rec.created_at, run.created_at)),
    producer_version: or(rec.producer_version, run.producer_version),
    run_id: or(rec.run_id, run.run_id)
  })
  const intents = content.intents.map((raw): IntentRecord => {
    const { args, ...rest } = header(raw)
    return {
      ...rest,
      schema_id: or(rest.schema_id, INTENT_SCHEMA),
      schema_version: or(rest.schema_version, SCHEMA_VERSION),
      ...(stripPayloads || isEmptyObject(args) || args === undefined ? {} : { args })
    }
  })
  const results = content.results.map((raw): ResultRecord => {
    const { result, ...rest } = header(raw)
    return {
      ...rest,
      schema_id: or(rest.schema_id, RESULT_SCHEMA),
      schema_version: or(rest.schema_version, SCHEMA_VERSION),
      ...(stripPayloads || isEmptyObject(result) || result === undefined ? {} : { result })
    }
  })
  const receipts = content.refs.receipts
    .map((raw): RefReceipt => {
      const { immutability, freshness_sla_seconds, sensitivity_label, retrieval_params, ...rest } = raw
      return {
        ...rest,
        query_digest: lowerTrim(rest.query_digest),
        content_digest: lowerTrim(rest.content_digest),
        retrieved_at: rest.retrieved_at === "" ? DEFAULT_CREATED_AT : utcTime(rest.retrieved_at),
        immutability: or(lowerTrim(immutability ?? ""), "unknown"),
        ...(freshness_sla_seconds === undefined || freshness_sla_seconds === 0 ? {} : { freshness_sla_seconds }),
        ...(sensitivity_label === undefined || sensitivity_label === "" ? {} : { sensitivity_label }),
        ...(retrieval_params === undefined || isEmptyObject(retrieval_params) ? {} : { retrieval_params })
      }
    })
    .sort((a, b) => compareBytes(a.ref_id, b.ref_id))
  const { context_set_digest, context_evidence_mode, context_ref_count, ...refsRest } = header(content.refs)
  const setDigest = lowerTrim(context_set_digest ?? "")
  const evidenceMode = lowerTrim(context_evidence_mode ?? "")
  const refCount = (context_ref_count ?? 0) === 0 ? receipts.length : (context_ref_count ?? 0)
  const refs: Refs = {
    ...refsRest,
    schema_id: or(refsRest.schema_id, REFS_SCHEMA),
    schema_version: or(refsRest.schema_version, SCHEMA_VERSION),
    ...(setDigest === "" ? {} : { context_set_digest: setDigest }),
    ...(evidenceMode === "" ? {} : { context_evidence_mode: evidenceMode }),
    ...(refCount === 0 ? {} : { context_ref_count: refCount }),
    receipts
  }
  return { run, intents, results, refs, captureMode }
}

const encoder = new TextEncoder()

const canonicalBytes = (value: unknown): Either.Either<Uint8Array, CanonicalJsonError> =>
  Either.map(canonicalize(value), (text) => encoder.encode(text))

const canonicalLines = (records: ReadonlyArray<unknown>): Either.Either<Uint8Array, CanonicalJsonError> =>
  Either.map(Either.all(records.map(canonicalize)), (lines) => encoder.encode(lines.map((l) => `${l}\n`).join("")))

/** §7.3: sha256(JCS(manifest)) with `manifest_digest: ""` kept and `signatures` left out. */
export const manifestDigestOf = (manifest: Manifest | ParsedManifest): Either.Either<string, CanonicalJsonError> => {
  const { signatures: _signatures, ...unsigned } = manifest
  return Either.map(canonicalize({ ...unsigned, manifest_digest: "" }), sha256Hex)
}

export interface RunpackSigner<E> {
  readonly keyId: string
  /** Ed25519 over the 32 raw bytes of the digest (the `Keys` service's `signDigest`). */
  readonly signDigest: (digest: Uint8Array) => Effect.Effect<Uint8Array, E>
}

export interface BuildRunpackOptions<E> {
  readonly sign?: RunpackSigner<E> | undefined
}

export interface BuiltRunpack {
  readonly zip: Uint8Array
  readonly manifest: Manifest
  readonly manifestDigest: string
  /** The exact bytes of every zip entry, by name. */
  readonly entries: Readonly<Record<string, Uint8Array>>
}

// fflate derives the DOS date from local-time fields, so a local-time date gives the same
// 1980-01-01 00:00:00 in every time zone.
const ZIP_MTIME = new Date(1980, 0, 1, 0, 0, 0)
/** Extended-timestamp extra field (0x5455) with mtime 315532800, as Go's writer adds. */
const EXTENDED_TIMESTAMP_ID = 0x5455
const EXTENDED_TIMESTAMP = new Uint8Array([1, 0x00, 0xa6, 0xce, 0x12])
const ZIP_ENTRY_OPTIONS = {
  level: 5,
  mtime: ZIP_MTIME,
  os: 3,
  attrs: 0o100644 << 16,
  extra: { [EXTENDED_TIMESTAMP_ID]: EXTENDED_TIMESTAMP }
} as const

/** Entries sorted by name, deflate level 5, fixed time and mode: same input, same bytes. */
export const deterministicZip = (entries: Readonly<Record<string, Uint8Array>>): Uint8Array => {
  const names = Object.keys(entries).sort(compareBytes)
  if (names.length === 0) return new Uint8Array(0)
  const zippable: Record<string, [Uint8Array, typeof ZIP_ENTRY_OPTIONS]> = {}
  for (const name of names) zippable[name] = [entries[name] ?? new Uint8Array(0), ZIP_ENTRY_OPTIONS]
  return zipSync(zippable)
}

/** Serialises, hashes, optionally signs and zips a runpack (§7.1–7.4). */
export const buildRunpack = <E = never>(
  content: RunpackContent,
  options: BuildRunpackOptions<E> = {}
): Effect.Effect<BuiltRunpack, E | CanonicalJsonError> =>
  Effect.gen(function* () {
    const now = formatRfc3339Nano(BigInt(yield* Clock.currentTimeMillis) * 1_000_000n)
    const n = normalizeContent(content, now)
    const files: Record<string, Uint8Array> = {
      "intents.jsonl": yield* canonicalLines(n.intents),
      "refs.json": yield* canonicalBytes(n.refs),
      "results.jsonl": yield* canonicalLines(n.results),
      "run.json": yield* canonicalBytes(n.run)
    }
    const unsigned: Manifest = {
      schema_id: MANIFEST_SCHEMA,
      schema_version: SCHEMA_VERSION,
      created_at: n.run.created_at,
      producer_version: n.run.producer_version,
      run_id: n.run.run_id,
      capture_mode: n.captureMode,
      files: RUNPACK_FILES.map((path) => ({ path, sha256: sha256Hex(files[path] ?? new Uint8Array(0)) })),
      manifest_digest: ""
    }
    const manifestDigest = yield* manifestDigestOf(unsigned)
    let manifest: Manifest = { ...unsigned, manifest_digest: manifestDigest }
    if (options.sign !== undefined) {
      // The signed digest covers the manifest with its digest filled in and without `signatures`.
      const signedDigest = sha256Hex(yield* canonicalBytes(manifest))
      const sig = yield* options.sign.signDigest(new Uint8Array(Buffer.from(signedDigest, "hex")))
      manifest = {
        ...manifest,
        signatures: [{ alg: SignatureAlg, key_id: options.sign.keyId, sig: encodeBase64(sig), signed_digest: signedDigest }]
      }
    }
    const entries = { ...files, [MANIFEST_ENTRY]: yield* canonicalBytes(manifest) }
    return { zip: deterministicZip(entries), manifest, manifestDigest, entries }
  })

// ---------------------------------------------------------------------------------------------
// Zip reading

interface ZipEntry {
  readonly name: string
  readonly method: number
  readonly crc: number
  readonly compressedSize: number
  readonly uncompressedSize: number
  readonly localOffset: number
}

const invalid = (reason: RunpackInvalidReason, detail: string) => new RunpackInvalid({ reason, detail })

const u16 = (b: Uint8Array, at: number): number => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8)
const u32 = (b: Uint8Array, at: number): number => (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0

const EOCD = 0x06054b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50
const NOT_A_ZIP = "open zip: zip: not a valid zip file"

const findEndOfCentralDirectory = (zip: Uint8Array): number => {
  const floor = Math.max(0, zip.length - 22 - 0xffff)
  for (let at = zip.length - 22; at >= floor; at--) if (u32(zip, at) === EOCD) return at
  return -1
}

const nameDecoder = new TextDecoder("utf-8")

const readCentralDirectory = (zip: Uint8Array, maxEntries: number): Either.Either<ReadonlyArray<ZipEntry>, RunpackInvalid> => {
  const end = findEndOfCentralDirectory(zip)
  if (end < 0) return Either.left(invalid("zip_unreadable", NOT_A_ZIP))
  const count = u16(zip, end + 10)
  const size = u32(zip, end + 12)
  const offset = u32(zip, end + 16)
  if (count === 0xffff || offset === 0xffffffff) {
    return Either.left(invalid("zip_unreadable", "open zip: zip64 archives are not supported"))
  }
  if (count > maxEntries) {
    return Either.left(invalid("too_many_entries", `zip has ${count} entries; at most ${maxEntries} are accepted`))
  }
  if (offset + size > end) return Either.left(invalid("zip_unreadable", NOT_A_ZIP))
  const entries: Array<ZipEntry> = []
  let at = offset
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || u32(zip, at) !== CENTRAL) return Either.left(invalid("zip_unreadable", NOT_A_ZIP))
    const nameLength = u16(zip, at + 28)
    const next = at + 46 + nameLength + u16(zip, at + 30) + u16(zip, at + 32)
    if (next > end) return Either.left(invalid("zip_unreadable", NOT_A_ZIP))
    entries.push({
      name: nameDecoder.decode(zip.subarray(at + 46, at + 46 + nameLength)),
      method: u16(zip, at + 10),
      crc: u32(zip, at + 16),
      compressedSize: u32(zip, at + 20),
      uncompressedSize: u32(zip, at + 24),
      localOffset: u32(zip, at + 42)
    })
    at = next
  }
  return Either.right(entries)
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** Decompresses one entry, refusing more than `limit` bytes whatever its header claims. */
const readEntry = (zip: Uint8Array, entry: ZipEntry, limit: number, context: string): Either.Either<Uint8Array, RunpackInvalid> => {
  const tooLarge = (size: number) => invalid("entry_too_large", `${context}: zip entry too large: ${size}`)
  const unreadable = (why: string) => invalid("entry_unreadable", `${context}: zip: ${why}`)
  if (entry.uncompressedSize > limit) return Either.left(tooLarge(entry.uncompressedSize))
  const local = entry.localOffset
  if (local + 30 > zip.length || u32(zip, local) !== LOCAL) return Either.left(unreadable("not a valid zip file"))
  const start = local + 30 + u16(zip, local + 26) + u16(zip, local + 28)
  const stop = start + entry.compressedSize
  if (stop > zip.length) return Either.left(unreadable("not a valid zip file"))
  const raw = zip.subarray(start, stop)
  let data: Uint8Array
  if (entry.method === 0) {
    data = raw
  } else if (entry.method === 8) {
    const inflated = Either.try({
      try: () => new Uint8Array(inflateRawSync(raw, { maxOutputLength: limit })),
      catch: (e) => (e instanceof RangeError ? tooLarge(limit + 1) : unreadable("invalid compressed data"))
    })
    if (Either.isLeft(inflated)) return inflated
    data = inflated.right
  } else {
    return Either.left(unreadable("unsupported compression algorithm"))
  }
  if (data.length > limit) return Either.left(tooLarge(data.length))
  if (data.length !== entry.uncompressedSize || crc32(data) !== entry.crc) return Either.left(unreadable("checksum error"))
  return Either.right(data)
}

const entryKey = (name: string): string => trim(name).replaceAll("\\", "/")

// ---------------------------------------------------------------------------------------------
// Manifest parsing with Go's decoding rules

/** A manifest as Go's decoder yields it: unknown fields dropped, null lists kept as null. */
export interface ParsedManifest {
  readonly schema_id: string
  readonly schema_version: string
  readonly created_at: string
  readonly producer_version: string
  readonly run_id: string
  readonly capture_mode: string
  readonly files: ReadonlyArray<ManifestFile> | null
  readonly manifest_digest: string
  readonly signatures: ReadonlyArray<ManifestSignature> | null
}

type Decoded<A> = Either.Either<A, string>

const jsonType = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v

const mismatch = (v: unknown, field: string, type: string): string =>
  `json: cannot unmarshal ${jsonType(v)} into Go struct field ${field} of type ${type}`

/** Go matches keys exactly or case-insensitively; for repeated matches the last key wins. */
const goFields = (obj: Readonly<Record<string, unknown>>, names: ReadonlyArray<string>): Map<string, unknown> => {
  const out = new Map<string, unknown>()
  for (const key of Object.keys(obj)) {
    const name = names.includes(key) ? key : names.find((n) => n.toLowerCase() === key.toLowerCase())
    if (name !== undefined) out.set(name, obj[key])
  }
  return out
}

const goString = (v: unknown, field: string): Decoded<string> =>
  v === undefined || v === null ? Either.right("") : typeof v === "string" ? Either.right(v) : Either.left(mismatch(v, field, "string"))

const goTimeField = (v: unknown, field: string): Decoded<string> => {
  if (v === undefined || v === null) return Either.right(GO_ZERO_TIME)
  if (typeof v !== "string") return Either.left(mismatch(v, field, "time.Time"))
  return Option.match(goTimestamp(v), {
    onNone: () => Either.left(`parsing time ${JSON.stringify(v)}: not an RFC 3339 timestamp`),
    onSome: Either.right
  })
}

const goStruct = <A>(
  v: unknown,
  type: string,
  field: string,
  names: ReadonlyArray<string>,
  build: (fields: Map<string, unknown>) => Decoded<A>
): Decoded<A> => {
  if (v === undefined || v === null) return build(new Map())
  if (jsonType(v) !== "object") return Either.left(mismatch(v, field, type))
  return build(goFields(v as Record<string, unknown>, names))
}

const goList = <A>(v: unknown, field: string, type: string, element: (item: unknown) => Decoded<A>): Decoded<ReadonlyArray<A> | null> => {
  if (v === undefined || v === null) return Either.right(null)
  if (!Array.isArray(v)) return Either.left(mismatch(v, field, type))
  return Either.all(v.map(element))
}

const decodeFile = (v: unknown): Decoded<ManifestFile> =>
  goStruct(v, "runpack.ManifestFile", "Manifest.files", ["path", "sha256"], (f) =>
    Either.all({ path: goString(f.get("path"), "Manifest.files.path"), sha256: goString(f.get("sha256"), "Manifest.files.sha256") })
  )

const decodeSignature = (v: unknown): Decoded<ManifestSignature> =>
  goStruct(v, "runpack.Signature", "Manifest.signatures", ["alg", "key_id", "sig", "signed_digest"], (f) =>
    Either.all({
      alg: goString(f.get("alg"), "Manifest.signatures.alg"),
      key_id: goString(f.get("key_id"), "Manifest.signatures.key_id"),
      sig: goString(f.get("sig"), "Manifest.signatures.sig"),
      signed_digest: goString(f.get("signed_digest"), "Manifest.signatures.signed_digest")
    })
  )

const MANIFEST_FIELDS = [
  "schema_id",
  "schema_version",
  "created_at",
  "producer_version",
  "run_id",
  "capture_mode",
  "files",
  "manifest_digest",
  "signatures"
] as const

/** Decodes a parsed JSON value into the manifest struct the way Go's `json.Unmarshal` does. */
const decodeManifest = (value: unknown): Decoded<ParsedManifest> => {
  if (value === null) return decodeManifest({})
  if (jsonType(value) !== "object") {
    return Either.left(`json: cannot unmarshal ${jsonType(value)} into Go value of type runpack.Manifest`)
  }
  const f = goFields(value as Record<string, unknown>, MANIFEST_FIELDS)
  const str = (name: string) => goString(f.get(name), `Manifest.${name}`)
  return Either.all({
    schema_id: str("schema_id"),
    schema_version: str("schema_version"),
    created_at: goTimeField(f.get("created_at"), "Manifest.created_at"),
    producer_version: str("producer_version"),
    run_id: str("run_id"),
    capture_mode: str("capture_mode"),
    files: goList(f.get("files"), "Manifest.files", "[]runpack.ManifestFile", decodeFile),
    manifest_digest: str("manifest_digest"),
    signatures: goList(f.get("signatures"), "Manifest.signatures", "[]runpack.Signature", decodeSignature)
  })
}

/** Lone surrogates become U+FFFD, as Go's decoder does, in keys and values. */
const wellFormedJson = (v: unknown): unknown => {
  if (typeof v === "string") return v.toWellFormed()
  if (Array.isArray(v)) return v.map(wellFormedJson)
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[k.toWellFormed()] = wellFormedJson(x)
    return out
  }
  return v
}

// A BOM is kept so that JSON.parse rejects it, as Go does; invalid UTF-8 becomes U+FFFD in both.
const manifestDecoder = new TextDecoder("utf-8", { ignoreBOM: true })

const parseJson = (bytes: Uint8Array): Decoded<unknown> =>
  Either.try({
    try: () => wellFormedJson(JSON.parse(manifestDecoder.decode(bytes))),
    catch: (e) => (e instanceof Error ? e.message : String(e))
  })

// ---------------------------------------------------------------------------------------------
// Verification (§7.5)

export interface VerifyRunpackOptions {
  /** Raw 32-byte Ed25519 public key; without it, signatures are `skipped`. */
  readonly publicKey?: Uint8Array | undefined
  readonly requireSignature: boolean
  readonly skipManifestDigestCheck?: boolean | undefined
  /** Lower limits than the defaults (100 MiB per entry, 64 entries), e.g. for tests. */
  readonly maxEntryBytes?: number | undefined
  readonly maxEntries?: number | undefined
}

const duplicateNames = (entries: ReadonlyArray<ZipEntry>): ReadonlyArray<string> => {
  const seen = new Set<string>()
  const duplicates = new Set<string>()
  for (const e of entries) {
    const key = entryKey(e.name)
    if (seen.has(key)) duplicates.add(key)
    seen.add(key)
  }
  return [...duplicates].sort(compareBytes)
}

const verifySignatures = (
  raw: Readonly<Record<string, unknown>>,
  signatures: ReadonlyArray<ManifestSignature>,
  publicKey: Uint8Array
): { readonly valid: number; readonly errors: ReadonlyArray<VerifyProblem> } => {
  // Each signature covers the raw manifest minus `signatures`, unknown fields included.
  const { signatures: _signatures, ...unsigned } = raw
  let valid = 0
  const errors: Array<VerifyProblem> = []
  for (const s of signatures) {
    const signature = { alg: s.alg, key_id: s.key_id, sig: s.sig, signed_digest: s.signed_digest ?? "" }
    const outcome = verifySignedDocument({ ...unsigned, signature }, publicKey)
    if (Either.isRight(outcome)) valid++
    else errors.push(outcome.left)
  }
  return { valid, errors }
}

/** Verifies a runpack zip (§7.5). Integrity findings are in the result; unusable input is an error. */
export const verifyRunpack = (
  zip: Uint8Array,
  options: VerifyRunpackOptions
): Either.Either<RunpackVerification, RunpackInvalid> =>
  Either.gen(function* () {
    const maxEntryBytes = options.maxEntryBytes ?? MAX_ENTRY_BYTES
    const entries = yield* readCentralDirectory(zip, options.maxEntries ?? MAX_ENTRIES)
    const duplicates = duplicateNames(entries)
    if (duplicates.length > 0) {
      return yield* Either.left(invalid("duplicate_entries", `zip contains duplicate entries: ${duplicates.join(", ")}`))
    }
    const byName = new Map(entries.map((e) => [entryKey(e.name), e]))
    const manifestEntry = byName.get(MANIFEST_ENTRY)
    if (manifestEntry === undefined) return yield* Either.left(invalid("missing_manifest", "missing manifest.json"))
    const manifestBytes = yield* readEntry(zip, manifestEntry, maxEntryBytes, "read manifest.json")
    const unparsable = (detail: string) => invalid("manifest_unparsable", `parse manifest.json: ${detail}`)
    const raw = yield* Either.mapLeft(parseJson(manifestBytes), unparsable)
    const manifest = yield* Either.mapLeft(decodeManifest(raw), unparsable)
    if (manifest.schema_id !== MANIFEST_SCHEMA) {
      return yield* Either.left(invalid("manifest_schema_id", "manifest schema_id must be gait.runpack.manifest"))
    }
    if (manifest.schema_version !== SCHEMA_VERSION) {
      return yield* Either.left(invalid("manifest_schema_version", "manifest schema_version must be 1.0.0"))
    }
    if (manifest.run_id === "") return yield* Either.left(invalid("manifest_missing_run_id", "manifest missing run_id"))

    const files = manifest.files ?? []
    const missing: Array<string> = []
    const mismatches: Array<HashMismatch> = []
    const hashes = new Map<string, string>()
    const declared = new Set<string>()
    for (const file of files) {
      const name = file.path.replaceAll("\\", "/")
      declared.add(name)
      const entry = byName.get(name)
      if (entry === undefined) {
        missing.push(name)
        continue
      }
      let actual = hashes.get(name)
      if (actual === undefined) {
        actual = sha256Hex(yield* readEntry(zip, entry, maxEntryBytes, `hash ${name}`))
        hashes.set(name, actual)
      }
      if (actual.toLowerCase() !== file.sha256.toLowerCase()) mismatches.push({ path: name, expected: file.sha256, actual })
    }
    for (const required of RUNPACK_FILES) if (!declared.has(required)) missing.push(required)

    if (options.skipManifestDigestCheck !== true) {
      // Strings were made well-formed while parsing, so the manifest always canonicalizes.
      const computed = Either.getOrElse(manifestDigestOf(manifest), () => "")
      if (computed.toLowerCase() !== manifest.manifest_digest.toLowerCase()) {
        mismatches.push({ path: MANIFEST_ENTRY, expected: manifest.manifest_digest, actual: computed })
      }
    }

    const signatures = manifest.signatures ?? []
    let status: SignatureStatus
    let valid = 0
    const signatureErrors: Array<string> = []
    if (signatures.length === 0) {
      status = "missing"
      if (options.requireSignature) signatureErrors.push("manifest has no signatures")
    } else if (options.publicKey === undefined) {
      status = "skipped"
      signatureErrors.push("public key not configured")
    } else {
      const checked = verifySignatures(raw as Record<string, unknown>, signatures, options.publicKey)
      valid = checked.valid
      signatureErrors.push(...checked.errors)
      status = valid > 0 ? "verified" : "failed"
    }

    missing.sort(compareBytes)
    mismatches.sort((a, b) => compareBytes(a.path, b.path))
    signatureErrors.sort(compareBytes)
    return {
      run_id: manifest.run_id,
      manifest_digest: manifest.manifest_digest,
      files_checked: files.length,
      ...(missing.length > 0 ? { missing_files: missing } : {}),
      ...(mismatches.length > 0 ? { hash_mismatches: mismatches } : {}),
      signature_status: status,
      ...(signatureErrors.length > 0 ? { signature_errors: signatureErrors } : {}),
      signatures_total: signatures.length,
      signatures_valid: valid
    }
  })

/** §7.7: no missing files, no mismatches, and a signature status the mode accepts. */
export const isVerified = (v: RunpackVerification, requireSignature: boolean): boolean =>
  (v.missing_files ?? []).length === 0 &&
  (v.hash_mismatches ?? []).length === 0 &&
  (requireSignature ? v.signature_status === "verified" : v.signature_status !== "failed")
