/**
 * The JSONL journal (spec session.md §2.1–2.2): reading with the reference's validation rules, torn
 * tail detection, and single-`write` appends.
 *
 * Torn tail (a deliberate fix of the reference, which stays wedged): a process killed in the middle
 * of an append leaves a final segment without its newline. Every record is written as one `write`
 * of `json + "\n"`, so a final segment that lacks the newline and does not parse is exactly such a
 * torn, never-acknowledged record (the writer exits 0 only after the whole line is written). The
 * reader reports its byte offset and the store truncates it away under the lock — but only when the
 * segment starts like a gait record, so a file that was never a journal is not cut. An invalid line
 * anywhere else is corruption and stays an error.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect, Either, Option, Schema } from "effect"
import { cleanPath } from "../kernel/text.js"
import { SessionJournalInvalid, SessionJournalMissing, SessionPathInvalid } from "./errors.js"
import { checkpointDigestOf } from "./chain-digest.js"
import {
  JournalRecord,
  SCHEMA_VERSION,
  SESSION_JOURNAL_SCHEMA,
  SessionCheckpoint,
  SessionEvent,
  SessionHeader
} from "./schema.js"

export interface JournalModel {
  readonly header: SessionHeader
  readonly events: ReadonlyArray<SessionEvent>
  readonly checkpoints: ReadonlyArray<SessionCheckpoint>
}

export interface JournalScan {
  /** Undefined when no complete header record exists (empty file, or a torn header). */
  readonly header: SessionHeader | undefined
  readonly events: ReadonlyArray<SessionEvent>
  readonly checkpoints: ReadonlyArray<SessionCheckpoint>
  /** Byte length of the complete records. */
  readonly validBytes: number
  /** Total bytes on disk; larger than `validBytes` when the tail is torn. */
  readonly sizeBytes: number
  readonly tornTail: boolean
  /** The last record is complete but has no newline (hand-edited file): the next append adds one. */
  readonly missingFinalNewline: boolean
}

const MAX_LINE_BYTES = 8 * 1024 * 1024

/** §0.3: trimmed, cleaned, not empty, not `.`/`/`, no relative `..`. */
export const normalizeJournalPath = (raw: string): Either.Either<string, SessionPathInvalid> => {
  const trimmed = raw.trim()
  const cleaned = cleanPath(trimmed)
  if (trimmed === "" || cleaned === "." || cleaned === "/") {
    return Either.left(new SessionPathInvalid({ path: raw, detail: "runpack output path is required" }))
  }
  if (!cleaned.startsWith("/") && cleaned.split("/").includes("..")) {
    return Either.left(
      new SessionPathInvalid({ path: raw, detail: "relative runpack output path must not traverse parent directories" })
    )
  }
  return Either.right(cleaned)
}

const decodeRecord = Schema.decodeUnknownEither(JournalRecord)
const decodeHeader = Schema.decodeUnknownEither(SessionHeader)
const decodeEvent = Schema.decodeUnknownEither(SessionEvent)
const decodeCheckpoint = Schema.decodeUnknownEither(SessionCheckpoint)

const tryJson = (text: string): Either.Either<unknown, string> =>
  Either.try({ try: (): unknown => JSON.parse(text), catch: (e) => (e instanceof Error ? e.message : String(e)) })

const RECORD_PREFIX = '{"record_type":"'
const looksLikeRecordStart = (text: string): boolean =>
  text.length >= RECORD_PREFIX.length ? text.startsWith(RECORD_PREFIX) : RECORD_PREFIX.startsWith(text)

/** Validates journal bytes (§2.2); pure, so it is shared by every store layer. */
export const parseJournal = (path: string, bytes: Uint8Array): Either.Either<JournalScan, SessionJournalInvalid> => {
  const invalid = (detail: string, line?: number) =>
    Either.left(new SessionJournalInvalid({ path, detail, ...(line === undefined ? {} : { line }) }))
  const decoder = new TextDecoder("utf-8")
  let header: SessionHeader | undefined
  const events: Array<SessionEvent> = []
  const checkpoints: Array<SessionCheckpoint> = []
  let expected = 1
  let lastCheckpoint: SessionCheckpoint | undefined
  let offset = 0
  let lineNo = 0
  let validBytes = 0
  let missingFinalNewline = false
  while (offset < bytes.length) {
    lineNo++
    const newline = bytes.indexOf(0x0a, offset)
    const end = newline < 0 ? bytes.length : newline
    if (end - offset > MAX_LINE_BYTES) return invalid("read session journal: line too long", lineNo)
    const text = decoder.decode(bytes.subarray(offset, end)).replace(/\r$/, "").trim()
    const complete = newline >= 0
    offset = complete ? newline + 1 : bytes.length
    if (text === "") {
      if (complete) validBytes = offset
      continue
    }
    const json = tryJson(text)
    if (Either.isLeft(json)) {
      // Only what gait's writer could have started is treated as torn; anything else (a file that
      // was never a journal) is reported, never truncated.
      if (!complete && looksLikeRecordStart(text)) return Either.right(finish(true))
      return invalid(`session journal parse line ${lineNo}: ${json.left}`, lineNo)
    }
    const record = decodeRecord(json.right)
    if (Either.isLeft(record)) return invalid(`session journal parse line ${lineNo}: not a journal record`, lineNo)
    const { record_type: type } = record.right
    if (type === "header") {
      if (record.right.header === undefined) return invalid(`session journal line ${lineNo} missing header payload`, lineNo)
      if (header !== undefined) return invalid("session journal contains duplicate header", lineNo)
      const h = decodeHeader({ schema_id: "", schema_version: "", ...(record.right.header as object) })
      if (Either.isLeft(h)) return invalid(`session journal parse line ${lineNo}: invalid header`, lineNo)
      if (h.right.session_id.trim() === "" || h.right.run_id.trim() === "") {
        return invalid("session journal header missing session_id or run_id", lineNo)
      }
      header = { ...h.right, schema_id: h.right.schema_id || SESSION_JOURNAL_SCHEMA, schema_version: h.right.schema_version || SCHEMA_VERSION }
    } else if (type === "event") {
      if (header === undefined) return invalid("session journal event encountered before header", lineNo)
      if (record.right.event === undefined) return invalid(`session journal line ${lineNo} missing event payload`, lineNo)
      const e = decodeEvent(record.right.event)
      if (Either.isLeft(e)) return invalid(`session journal parse line ${lineNo}: invalid event`, lineNo)
      if (e.right.sequence !== expected) {
        return invalid(`session event sequence mismatch line ${lineNo}: got ${e.right.sequence} want ${expected}`, lineNo)
      }
      if (e.right.session_id !== header.session_id || e.right.run_id !== header.run_id) {
        return invalid(`session event identity mismatch at line ${lineNo}`, lineNo)
      }
      events.push(e.right)
      expected++
    } else if (type === "checkpoint") {
      if (header === undefined) return invalid("session journal checkpoint encountered before header", lineNo)
      if (record.right.checkpoint === undefined) return invalid(`session journal line ${lineNo} missing checkpoint payload`, lineNo)
      const c = decodeCheckpoint(record.right.checkpoint)
      if (Either.isLeft(c)) return invalid(`session journal parse line ${lineNo}: invalid checkpoint`, lineNo)
      const cp = c.right
      if (cp.session_id !== header.session_id || cp.run_id !== header.run_id) {
        return invalid(`session checkpoint identity mismatch at line ${lineNo}`, lineNo)
      }
      if (cp.checkpoint_index !== (lastCheckpoint?.checkpoint_index ?? 0) + 1) {
        return invalid(`session checkpoint index mismatch at line ${lineNo}`, lineNo)
      }
      if (cp.sequence_start < 1 || cp.sequence_end < cp.sequence_start) {
        return invalid(`session checkpoint sequence range invalid at line ${lineNo}`, lineNo)
      }
      if (cp.sequence_start <= (lastCheckpoint?.sequence_end ?? 0)) {
        return invalid(`session checkpoint sequence overlap at line ${lineNo}`, lineNo)
      }
      if (lastCheckpoint !== undefined && (cp.prev_checkpoint_digest ?? "").toLowerCase() !== lastCheckpoint.checkpoint_digest.toLowerCase()) {
        return invalid(`session checkpoint digest linkage mismatch at line ${lineNo}`, lineNo)
      }
      if (checkpointDigestOf(cp) !== cp.checkpoint_digest.toLowerCase()) {
        return invalid(`session checkpoint digest invalid at line ${lineNo}`, lineNo)
      }
      checkpoints.push(cp)
      lastCheckpoint = cp
      if (expected <= cp.sequence_end) expected = cp.sequence_end + 1
    } else {
      return invalid(`session journal line ${lineNo} has unsupported record_type "${type}"`, lineNo)
    }
    validBytes = offset
    if (!complete) missingFinalNewline = true
  }
  return Either.right(finish(false))

  function finish(torn: boolean): JournalScan {
    return {
      header,
      events,
      checkpoints,
      validBytes,
      sizeBytes: bytes.length,
      tornTail: torn,
      missingFinalNewline
    }
  }
}

/** The journal of a scan, or the reference's error when it has no header. */
export const requireHeader = (path: string, scan: JournalScan): Either.Either<JournalModel, SessionJournalInvalid> =>
  scan.header === undefined
    ? Either.left(new SessionJournalInvalid({ path, detail: "session journal missing header" }))
    : Either.right({ header: scan.header, events: scan.events, checkpoints: scan.checkpoints })

/** Reads and validates the journal; a missing file is `SessionJournalMissing`. */
export const readJournal = Effect.fn("Journal.read")(function* (path: string) {
  const fs = yield* FileSystem.FileSystem
  const bytes = yield* fs.readFile(path).pipe(
    Effect.mapError((e) =>
      e._tag === "SystemError" && e.reason === "NotFound"
        ? new SessionJournalMissing({ path })
        : new SessionJournalInvalid({ path, detail: `open session journal: ${e.message}` })
    )
  )
  return yield* parseJournal(path, bytes)
})

/** The line of a record: envelope `{record_type, <payload>}` as compact JSON plus `\n`. */
export const recordLine = (type: "header" | "event" | "checkpoint", payload: unknown): string =>
  `${JSON.stringify({ record_type: type, [type]: payload })}\n`

/** Appends bytes with one `write` (O_APPEND), fsynced when asked; returns the journal size afterwards. */
export const appendToJournal = Effect.fn("Journal.append")(function* (path: string, text: string, fsync: boolean) {
  const fs = yield* FileSystem.FileSystem
  return yield* Effect.scoped(
    Effect.gen(function* () {
      const file = yield* fs.open(path, { flag: "a", mode: 0o600 })
      yield* file.writeAll(new TextEncoder().encode(text))
      if (fsync) yield* file.sync
      const info = yield* file.stat
      return Number(info.size)
    })
  )
})

export const journalSize = (path: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    Effect.map(Effect.option(fs.stat(path)), Option.match({ onNone: () => -1, onSome: (i) => Number(i.size) }))
  )
