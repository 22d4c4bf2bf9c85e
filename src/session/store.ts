/**
 * The `SessionStore` service: session journals with a verifiable checkpoint chain (spec
 * session.md §1–§5). Its interface speaks sessions, events and checkpoints; the journal path is the
 * user's own handle for a session, so a database-backed layer can implement the same interface.
 *
 * The file layer keeps the reference's on-disk format: the JSONL journal is the source of truth,
 * `<journal>.state.json` is an O(1) index over it, and every operation runs under `SessionLock`.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Clock, Context, Effect, Layer, Option } from "effect"
import * as NodePath from "node:path"
import type { CanonicalJsonError } from "../kernel/canonical-json.js"
import { ArtifactWriteFailed } from "../kernel/errors.js"
import { ensureDirectory, writeFileAtomic } from "../kernel/files.js"
import { renderJsonFile } from "../kernel/json-output.js"
import { uniqueSorted } from "../kernel/text.js"
import { formatRfc3339Nano } from "../kernel/time.js"
import type { SigningFailed } from "../keys/errors.js"
import type { KeysApi } from "../keys/keys.js"
import { VERSION } from "../version.js"
import { checkpointDigestOf } from "./chain-digest.js"
import {
  SessionIdentityMismatch,
  SessionJournalInvalid,
  SessionJournalMissing,
  type SessionLockContention,
  type SessionLockFailed,
  SessionNoNewEvents,
  type SessionPathInvalid
} from "./errors.js"
import {
  appendToJournal,
  type JournalModel,
  type JournalScan,
  journalSize,
  normalizeJournalPath,
  parseJournal,
  recordLine,
  requireHeader
} from "./journal.js"
import { SessionLock } from "./lock.js"
import type { LockSettings } from "./lock-config.js"
import { checkpointRelationship, eventRelationship } from "./relationship.js"
import { buildRunpack, checkpointRunpack } from "./runpack.js"
import {
  SCHEMA_VERSION,
  SESSION_CHAIN_SCHEMA,
  SESSION_CHECKPOINT_SCHEMA,
  SESSION_EVENT_SCHEMA,
  SESSION_JOURNAL_SCHEMA,
  type SessionChain,
  type SessionCheckpoint,
  type SessionEvent,
  type SessionHeader,
  type SessionState,
  type SessionStatus
} from "./schema.js"
import { readState, stateFromJournal, statusOf, writeState } from "./state.js"

export interface AppendInput {
  readonly toolName: string
  /** Lowercased verdict (allow, block, dry_run, require_approval); validated by the caller. */
  readonly verdict: string
  readonly intentId?: string | undefined
  readonly traceId?: string | undefined
  readonly tracePath?: string | undefined
  readonly intentDigest?: string | undefined
  readonly policyDigest?: string | undefined
  readonly policyId?: string | undefined
  readonly policyVersion?: string | undefined
  readonly matchedRuleIds?: ReadonlyArray<string> | undefined
  readonly reasonCodes?: ReadonlyArray<string> | undefined
  readonly violations?: ReadonlyArray<string> | undefined
  readonly agentChain?: ReadonlyArray<{ readonly identity: string; readonly role: string }> | undefined
  readonly actorIdentity?: string | undefined
  readonly safetyInvariantVersion?: string | undefined
  readonly safetyInvariantHash?: string | undefined
}

export interface CheckpointOptions {
  /** Where the checkpoint runpack zip goes (recorded in the chain as given). */
  readonly out: string
  /** An extra copy of the chain file. */
  readonly chainOut?: string | undefined
  /** Signs each checkpoint manifest (the reference never signed from the CLI). */
  readonly signer?: KeysApi | undefined
}

export interface CheckpointResult {
  readonly checkpoint: SessionCheckpoint
  readonly chainPath: string
}

export interface CompactOptions {
  readonly out?: string | undefined
  readonly dryRun: boolean
}

export interface CompactionReport {
  readonly journal_path: string
  readonly output_path: string
  readonly dry_run: boolean
  readonly compacted: boolean
  readonly events_before: number
  readonly events_after: number
  readonly checkpoints: number
  readonly last_checkpoint_sequence: number
  readonly bytes_before: number
  readonly bytes_after: number
}

export type SessionStoreError =
  | SessionLockContention
  | SessionLockFailed
  | SessionPathInvalid
  | SessionJournalMissing
  | SessionJournalInvalid
  | SessionIdentityMismatch
  | SessionNoNewEvents
  | ArtifactWriteFailed
  | CanonicalJsonError
  | SigningFailed

export interface SessionStoreApi {
  readonly start: (journal: string, ids: { readonly sessionId: string; readonly runId: string }) => Effect.Effect<SessionStatus, SessionStoreError>
  readonly append: (journal: string, input: AppendInput) => Effect.Effect<SessionEvent, SessionStoreError>
  readonly status: (journal: string) => Effect.Effect<SessionStatus, SessionStoreError>
  readonly checkpoint: (journal: string, options: CheckpointOptions) => Effect.Effect<CheckpointResult, SessionStoreError>
  readonly compact: (journal: string, options: CompactOptions) => Effect.Effect<CompactionReport, SessionStoreError>
}

export class SessionStore extends Context.Tag("gait/SessionStore")<SessionStore, SessionStoreApi>() {}

/** `sessions/demo.journal.jsonl` → `sessions/demo.journal_chain.json` (§1.4, Go's `filepath.Ext` rules). */
export const chainPathOf = (journal: string): string => {
  const base = NodePath.basename(journal)
  const dot = base.lastIndexOf(".")
  const stem = dot < 0 ? base : base.slice(0, dot)
  return NodePath.join(NodePath.dirname(journal), stem === "" ? "session_chain.json" : `${stem}_chain.json`)
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === "" ? undefined : v.trim())

/** Sorted unique non-empty values, or undefined (omitted) when there are none. */
const sortedOrOmit = (values: ReadonlyArray<string> | undefined): ReadonlyArray<string> | undefined => {
  const out = uniqueSorted(values)
  return out.length === 0 ? undefined : out
}

/** Members that may be undefined become optional members that are absent (exact optional types). */
type WithoutUndefined<A> = { [K in keyof A as undefined extends A[K] ? never : K]: A[K] } & {
  [K in keyof A as undefined extends A[K] ? K : never]?: Exclude<A[K], undefined>
}

const dropUndefined = <A extends object>(value: A): WithoutUndefined<A> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as WithoutUndefined<A>

export const makeFileStore = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const lock = yield* SessionLock
  const withFs = Effect.provideService(FileSystem.FileSystem, fs)
  const now = Effect.map(Clock.currentTimeNanos, formatRfc3339Nano)

  const normalized = (raw: string) => normalizeJournalPath(raw)

  /**
   * Reads the journal under the caller's lock and repairs its tail so the next record starts on a
   * line of its own: a torn final record is truncated away, a complete final record without its
   * newline gets one. `repair: false` (dry runs) only reads.
   */
  const scanRepairing = (journal: string, options: { readonly repair: boolean } = { repair: true }) =>
    Effect.gen(function* () {
      const bytes = yield* fs.readFile(journal).pipe(
        Effect.mapError((e) =>
          e._tag === "SystemError" && e.reason === "NotFound"
            ? new SessionJournalMissing({ path: journal })
            : new SessionJournalInvalid({ path: journal, detail: `open session journal: ${e.message}` })
        )
      )
      const scan = yield* parseJournal(journal, bytes)
      if (!options.repair) return scan
      const writeFailed = (stage: string) => (e: { readonly message: string }) =>
        new ArtifactWriteFailed({ path: journal, stage, detail: e.message })
      if (scan.tornTail) {
        yield* fs.truncate(journal, scan.validBytes).pipe(Effect.mapError(writeFailed("truncate")))
        yield* Effect.logWarning(`session journal ${journal}: removed a torn final record (${scan.sizeBytes - scan.validBytes} bytes)`)
      }
      if (scan.missingFinalNewline) {
        const size = yield* appendToJournal(journal, "\n", true).pipe(withFs, Effect.mapError(writeFailed("write")))
        return { ...scan, validBytes: size, sizeBytes: size, missingFinalNewline: false }
      }
      return scan
    })

  /** §2.3 loadOrRebuild: trust the index when it matches the journal size, else rebuild. */
  const loadState = (journal: string): Effect.Effect<SessionState, SessionStoreError> =>
    Effect.gen(function* () {
      const size = yield* journalSize(journal).pipe(withFs)
      if (size < 0) return yield* new SessionJournalMissing({ path: journal })
      const cached = yield* readState(journal).pipe(withFs)
      if (Option.isSome(cached) && cached.value.journal_size_bytes === size) return cached.value
      const scan = yield* scanRepairing(journal)
      const model = yield* requireHeader(journal, scan)
      const state = stateFromJournal(model, scan.validBytes, yield* now)
      yield* writeState(journal, state).pipe(withFs)
      return state
    })

  const writeHeader = (journal: string, sessionId: string, runId: string) =>
    Effect.gen(function* () {
      const at = yield* now
      const header: SessionHeader = {
        schema_id: SESSION_JOURNAL_SCHEMA,
        schema_version: SCHEMA_VERSION,
        created_at: at,
        producer_version: VERSION,
        session_id: sessionId,
        run_id: runId,
        started_at: at,
        events: []
      }
      yield* ensureDirectory(NodePath.dirname(journal))
      const size = yield* appendToJournal(journal, recordLine("header", header), true).pipe(
        Effect.mapError((e) => new ArtifactWriteFailed({ path: journal, stage: "write", detail: e.message }))
      )
      const state = stateFromJournal({ header, events: [], checkpoints: [] }, size, at, VERSION)
      yield* writeState(journal, state)
      return state
    }).pipe(withFs)

  const start: SessionStoreApi["start"] = (raw, ids) =>
    Effect.gen(function* () {
      const journal = yield* normalized(raw)
      return yield* lock.withLock(journal, () =>
        Effect.gen(function* () {
          const size = yield* journalSize(journal).pipe(withFs)
          if (size < 0) return statusOf(yield* writeHeader(journal, ids.sessionId, ids.runId))
          const scan: JournalScan = yield* scanRepairing(journal)
          // A journal without a complete header (its creator died before `start` returned) starts over.
          if (scan.header === undefined && scan.validBytes === 0) {
            yield* fs.truncate(journal, 0).pipe(Effect.ignore)
            yield* fs.remove(journal).pipe(Effect.ignore)
            return statusOf(yield* writeHeader(journal, ids.sessionId, ids.runId))
          }
          const model = yield* requireHeader(journal, scan)
          if (model.header.session_id !== ids.sessionId || model.header.run_id !== ids.runId) {
            return yield* new SessionIdentityMismatch({
              path: journal,
              session_id: ids.sessionId,
              run_id: ids.runId,
              existing_session_id: model.header.session_id,
              existing_run_id: model.header.run_id
            })
          }
          return statusOf(yield* loadState(journal))
        })
      )
    }).pipe(Effect.withSpan("SessionStore.start"))

  const append: SessionStoreApi["append"] = (raw, input) =>
    Effect.gen(function* () {
      const journal = yield* normalized(raw)
      return yield* lock.withLock(journal, (settings: LockSettings) =>
        Effect.gen(function* () {
          const state = yield* loadState(journal)
          const sequence = state.last_sequence + 1
          const createdAt = yield* now
          const toolName = nonEmpty(input.toolName)
          const traceId = nonEmpty(input.traceId)
          const policyDigest = nonEmpty(input.policyDigest)?.toLowerCase()
          const matchedRuleIds = sortedOrOmit(input.matchedRuleIds)
          const event: SessionEvent = dropUndefined({
            schema_id: SESSION_EVENT_SCHEMA,
            schema_version: SCHEMA_VERSION,
            created_at: createdAt,
            producer_version: VERSION,
            session_id: state.session_id,
            run_id: state.run_id,
            sequence,
            intent_id: nonEmpty(input.intentId),
            tool_name: toolName,
            intent_digest: nonEmpty(input.intentDigest)?.toLowerCase(),
            policy_digest: policyDigest,
            policy_id: nonEmpty(input.policyId),
            policy_version: nonEmpty(input.policyVersion),
            matched_rule_ids: matchedRuleIds,
            trace_id: traceId,
            trace_path: nonEmpty(input.tracePath),
            verdict: nonEmpty(input.verdict),
            reason_codes: sortedOrOmit(input.reasonCodes),
            violations: sortedOrOmit(input.violations),
            relationship: eventRelationship({
              sessionId: state.session_id,
              runId: state.run_id,
              toolName,
              traceId,
              policyDigest,
              policyId: nonEmpty(input.policyId),
              policyVersion: nonEmpty(input.policyVersion),
              matchedRuleIds,
              agentChain: input.agentChain,
              actorIdentity: nonEmpty(input.actorIdentity)
            }),
            safety_invariant_version: nonEmpty(input.safetyInvariantVersion),
            safety_invariant_hash: nonEmpty(input.safetyInvariantHash)?.toLowerCase()
          })
          const size = yield* appendToJournal(journal, recordLine("event", event), settings.fsyncAppends).pipe(
            withFs,
            Effect.mapError((e) => new ArtifactWriteFailed({ path: journal, stage: "write", detail: e.message }))
          )
          yield* writeState(journal, {
            ...state,
            updated_at: createdAt,
            producer_version: VERSION,
            last_sequence: sequence,
            event_count: state.event_count + 1,
            journal_size_bytes: size
          }).pipe(withFs)
          return event
        })
      )
    }).pipe(Effect.withSpan("SessionStore.append"))

  const status: SessionStoreApi["status"] = (raw) =>
    Effect.gen(function* () {
      const journal = yield* normalized(raw)
      return yield* lock.withLock(journal, () => Effect.map(loadState(journal), statusOf))
    }).pipe(Effect.withSpan("SessionStore.status"))

  const chainOf = (model: JournalModel, at: string): SessionChain => ({
    schema_id: SESSION_CHAIN_SCHEMA,
    schema_version: SCHEMA_VERSION,
    created_at: model.header.created_at || model.header.started_at || at,
    producer_version: model.header.producer_version || "0.0.0-dev",
    session_id: model.header.session_id,
    run_id: model.header.run_id,
    checkpoints: model.checkpoints
  })

  const checkpoint: SessionStoreApi["checkpoint"] = (raw, options) =>
    Effect.gen(function* () {
      const journal = yield* normalized(raw)
      const out = yield* normalizeJournalPath(options.out)
      const chainOut = options.chainOut === undefined ? undefined : yield* normalizeJournalPath(options.chainOut)
      const { result, chain } = yield* lock.withLock(journal, () =>
        Effect.gen(function* () {
          if ((yield* journalSize(journal).pipe(withFs)) < 0) return yield* new SessionJournalMissing({ path: journal })
          const model = yield* requireHeader(journal, yield* scanRepairing(journal))
          const last = model.checkpoints[model.checkpoints.length - 1]
          const lastSeq = last?.sequence_end ?? 0
          const index = model.checkpoints.length + 1
          const fresh = model.events.filter((e) => e.sequence > lastSeq)
          const first = fresh[0]
          const final = fresh[fresh.length - 1]
          if (first === undefined || final === undefined) {
            return yield* new SessionNoNewEvents({ path: journal, last_sequence: lastSeq })
          }
          const createdAt = yield* now
          const checkpointRunId = `${model.header.run_id}_cp_${String(index).padStart(4, "0")}`
          const content = checkpointRunpack({
            events: fresh,
            sessionId: model.header.session_id,
            checkpointRunId,
            createdAt,
            producerVersion: VERSION,
            checkpointIndex: index
          })
          const signer = options.signer
          const built = yield* buildRunpack(
            content,
            signer === undefined ? {} : { sign: { keyId: signer.keyId, signDigest: signer.signDigest } }
          )
          yield* ensureDirectory(NodePath.dirname(out)).pipe(withFs)
          yield* writeFileAtomic(out, built.zip, { mode: 0o600 }).pipe(withFs)
          const prev = last?.checkpoint_digest
          const digest = checkpointDigestOf({
            manifest_digest: built.manifestDigest,
            prev_checkpoint_digest: prev,
            checkpoint_index: index,
            sequence_start: first.sequence,
            sequence_end: final.sequence
          })
          const latestInvariant = [...fresh]
            .reverse()
            .find((e) => (e.safety_invariant_version ?? "") !== "" && (e.safety_invariant_hash ?? "") !== "")
          const record: SessionCheckpoint = dropUndefined({
            schema_id: SESSION_CHECKPOINT_SCHEMA,
            schema_version: SCHEMA_VERSION,
            created_at: createdAt,
            producer_version: VERSION,
            session_id: model.header.session_id,
            run_id: model.header.run_id,
            checkpoint_index: index,
            sequence_start: first.sequence,
            sequence_end: final.sequence,
            runpack_path: out,
            manifest_digest: built.manifestDigest,
            prev_checkpoint_digest: prev,
            checkpoint_digest: digest,
            relationship: checkpointRelationship({
              sessionId: model.header.session_id,
              runId: model.header.run_id,
              checkpointRunId,
              checkpointDigest: digest,
              manifestDigest: built.manifestDigest
            }),
            safety_invariant_version: latestInvariant?.safety_invariant_version,
            safety_invariant_hash: latestInvariant?.safety_invariant_hash?.toLowerCase()
          })
          const size = yield* appendToJournal(journal, recordLine("checkpoint", record), true).pipe(
            withFs,
            Effect.mapError((e) => new ArtifactWriteFailed({ path: journal, stage: "write", detail: e.message }))
          )
          const updated: JournalModel = { ...model, checkpoints: [...model.checkpoints, record] }
          yield* writeState(journal, stateFromJournal(updated, size, createdAt, VERSION)).pipe(withFs)
          return { result: record, chain: chainOf(updated, createdAt) }
        })
      )
      // Chain files are written after the lock is released, as the reference does; a later
      // checkpoint rewrites them completely from the journal, so a failure here heals itself.
      const derived = chainPathOf(journal)
      yield* writeFileAtomic(derived, renderJsonFile(chain), { mode: 0o600 }).pipe(withFs)
      if (chainOut !== undefined) yield* writeFileAtomic(chainOut, renderJsonFile(chain), { mode: 0o600 }).pipe(withFs)
      return { checkpoint: result, chainPath: options.chainOut?.trim() ?? derived }
    }).pipe(Effect.withSpan("SessionStore.checkpoint"))

  const compact: SessionStoreApi["compact"] = (raw, options) =>
    Effect.gen(function* () {
      const journal = yield* normalized(raw)
      const output = options.out === undefined || options.out.trim() === "" ? journal : yield* normalizeJournalPath(options.out)
      return yield* lock.withLock(journal, () =>
        Effect.gen(function* () {
          if ((yield* journalSize(journal).pipe(withFs)) < 0) return yield* new SessionJournalMissing({ path: journal })
          const scan = yield* scanRepairing(journal, { repair: !options.dryRun })
          const model = yield* requireHeader(journal, scan)
          const lastCp = model.checkpoints[model.checkpoints.length - 1]?.sequence_end ?? 0
          const retained = model.events.filter((e) => e.sequence > lastCp)
          const header: SessionHeader = {
            schema_id: SESSION_JOURNAL_SCHEMA,
            schema_version: SCHEMA_VERSION,
            created_at: model.header.created_at,
            producer_version: model.header.producer_version,
            session_id: model.header.session_id,
            run_id: model.header.run_id,
            started_at: model.header.started_at,
            events: null
          }
          const text = [
            recordLine("header", header),
            ...model.checkpoints.map((c) => recordLine("checkpoint", c)),
            ...retained.map((e) => recordLine("event", e))
          ].join("")
          const bytes = new TextEncoder().encode(text)
          const compacted =
            retained.length !== model.events.length || output !== journal || bytes.length !== scan.validBytes
          if (!options.dryRun && compacted) {
            yield* writeFileAtomic(output, bytes, { mode: 0o600 }).pipe(withFs)
            if (output === journal) {
              const at = yield* now
              yield* writeState(
                journal,
                stateFromJournal({ header, events: retained, checkpoints: model.checkpoints }, bytes.length, at, VERSION)
              ).pipe(withFs)
            }
          }
          const report: CompactionReport = {
            journal_path: journal,
            output_path: output,
            dry_run: options.dryRun,
            compacted,
            events_before: model.events.length,
            events_after: retained.length,
            checkpoints: model.checkpoints.length,
            last_checkpoint_sequence: lastCp,
            bytes_before: scan.validBytes,
            bytes_after: bytes.length
          }
          return report
        })
      )
    }).pipe(Effect.withSpan("SessionStore.compact"))

  return { start, append, status, checkpoint, compact } satisfies SessionStoreApi
})

export const layerFile: Layer.Layer<SessionStore, never, FileSystem.FileSystem | SessionLock> = Layer.effect(
  SessionStore,
  makeFileStore
)

