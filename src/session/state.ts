/**
 * The state index `<journal>.state.json` (spec session.md §2.3): a cache that makes appends O(1).
 * It is trusted only when its `journal_size_bytes` equals the journal's size, and rebuilt from the
 * journal otherwise (crash between append and state write, lost or corrupt state, torn tail).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect, Either, Option, Schema } from "effect"
import { writeFileAtomic } from "../kernel/files.js"
import { renderJsonFile } from "../kernel/json-output.js"
import type { JournalModel } from "./journal.js"
import { SCHEMA_VERSION, SESSION_STATE_SCHEMA, SessionState, type SessionStatus } from "./schema.js"

export const statePathOf = (journal: string): string => `${journal}.state.json`

const decodeState = Schema.decodeUnknownEither(SessionState)

/** The state file if it parses and is self-consistent; `None` means "rebuild". */
export const readState = (journal: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.readFileString(statePathOf(journal)).pipe(
      Effect.map((text) => {
        const parsed = Either.try(() => JSON.parse(text) as unknown)
        if (Either.isLeft(parsed)) return Option.none<SessionState>()
        const state = decodeState(parsed.right)
        if (Either.isLeft(state)) return Option.none<SessionState>()
        const s = state.right
        const valid =
          s.schema_id.trim() === SESSION_STATE_SCHEMA &&
          s.schema_version.trim() === SCHEMA_VERSION &&
          s.session_id !== "" &&
          s.run_id !== ""
        return valid ? Option.some(s) : Option.none<SessionState>()
      }),
      Effect.orElseSucceed(() => Option.none<SessionState>())
    )
  )

export const writeState = (journal: string, state: SessionState) =>
  writeFileAtomic(statePathOf(journal), renderJsonFile(state), { mode: 0o600 })

/**
 * State derived from the journal alone. `last_sequence` is the larger of the last event and the last
 * checkpoint's end: after a compaction that pruned every event the reference reset it to 0 and the
 * next append reused sequence 1; gait continues the sequence.
 */
export const stateFromJournal = (
  journal: JournalModel,
  sizeBytes: number,
  now: string,
  producerVersion?: string
): SessionState => {
  const lastEvent = journal.events[journal.events.length - 1]
  const lastCheckpoint = journal.checkpoints[journal.checkpoints.length - 1]
  const h = journal.header
  const createdAt = h.created_at || h.started_at || now
  return {
    schema_id: SESSION_STATE_SCHEMA,
    schema_version: SCHEMA_VERSION,
    updated_at: now,
    producer_version: producerVersion || h.producer_version || "0.0.0-dev",
    session_id: h.session_id,
    run_id: h.run_id,
    created_at: createdAt,
    started_at: h.started_at || createdAt,
    event_count: journal.events.length,
    last_sequence: Math.max(lastEvent?.sequence ?? 0, lastCheckpoint?.sequence_end ?? 0),
    checkpoint_count: journal.checkpoints.length,
    last_checkpoint_index: lastCheckpoint?.checkpoint_index ?? 0,
    last_checkpoint_sequence: lastCheckpoint?.sequence_end ?? 0,
    ...(lastCheckpoint === undefined ? {} : { last_checkpoint_digest: lastCheckpoint.checkpoint_digest }),
    journal_size_bytes: sizeBytes
  }
}

export const statusOf = (s: SessionState): SessionStatus => ({
  session_id: s.session_id,
  run_id: s.run_id,
  created_at: s.created_at,
  started_at: s.started_at,
  event_count: s.event_count,
  checkpoint_count: s.checkpoint_count,
  last_sequence: s.last_sequence
})
