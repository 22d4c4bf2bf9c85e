/**
 * Session journal records (spec session.md §2): the header, events and checkpoints of a JSONL
 * journal, the state index, and the chain file. Field order is the reference's struct order, which is
 * the order of the written JSON. Unknown fields are ignored when reading (compatibility contract).
 */
import { Schema } from "effect"
import { optionalExact, recordHeaderFields } from "../kernel/schema-fields.js"


export const SESSION_JOURNAL_SCHEMA = "gait.runpack.session_journal"
export const SESSION_EVENT_SCHEMA = "gait.runpack.session_event"
export const SESSION_CHECKPOINT_SCHEMA = "gait.runpack.session_checkpoint"
export const SESSION_STATE_SCHEMA = "gait.runpack.session_state"
export const SESSION_CHAIN_SCHEMA = "gait.runpack.session_chain"
export const SESSION_LOCK_SCHEMA = "gait.runpack.session_lock"
export const SCHEMA_VERSION = "1.0.0"

const EntityRef = Schema.Struct({ kind: Schema.String, id: Schema.String })

/** Relationship envelope (§2.7); every part optional. */
export const Relationship = Schema.Struct({
  parent_ref: optionalExact(EntityRef),
  entity_refs: optionalExact(Schema.Array(EntityRef)),
  policy_ref: optionalExact(
    Schema.Struct({
      policy_id: optionalExact(Schema.String),
      policy_version: optionalExact(Schema.String),
      policy_digest: optionalExact(Schema.String),
      matched_rule_ids: optionalExact(Schema.Array(Schema.String))
    })
  ),
  agent_chain: optionalExact(Schema.Array(Schema.Struct({ identity: Schema.String, role: Schema.String }))),
  edges: optionalExact(Schema.Array(Schema.Struct({ kind: Schema.String, from: EntityRef, to: EntityRef }))),
  parent_record_id: optionalExact(Schema.String),
  related_record_ids: optionalExact(Schema.Array(Schema.String)),
  related_entity_ids: optionalExact(Schema.Array(Schema.String)),
  agent_lineage: optionalExact(Schema.Array(Schema.Unknown))
})
export type Relationship = typeof Relationship.Type

export const SessionHeader = Schema.Struct({
  ...recordHeaderFields,
  session_id: Schema.String,
  run_id: Schema.String,
  started_at: Schema.String,
  events: optionalExact(Schema.NullOr(Schema.Array(Schema.Unknown)))
})
export type SessionHeader = typeof SessionHeader.Type

export const SessionEvent = Schema.Struct({
  ...recordHeaderFields,
  session_id: Schema.String,
  run_id: Schema.String,
  sequence: Schema.Int,
  intent_id: optionalExact(Schema.String),
  tool_name: optionalExact(Schema.String),
  intent_digest: optionalExact(Schema.String),
  policy_digest: optionalExact(Schema.String),
  policy_id: optionalExact(Schema.String),
  policy_version: optionalExact(Schema.String),
  matched_rule_ids: optionalExact(Schema.Array(Schema.String)),
  trace_id: optionalExact(Schema.String),
  trace_path: optionalExact(Schema.String),
  verdict: optionalExact(Schema.String),
  reason_codes: optionalExact(Schema.Array(Schema.String)),
  violations: optionalExact(Schema.Array(Schema.String)),
  relationship: optionalExact(Relationship),
  safety_invariant_version: optionalExact(Schema.String),
  safety_invariant_hash: optionalExact(Schema.String)
})
export type SessionEvent = typeof SessionEvent.Type

export const SessionCheckpoint = Schema.Struct({
  ...recordHeaderFields,
  session_id: Schema.String,
  run_id: Schema.String,
  checkpoint_index: Schema.Int,
  sequence_start: Schema.Int,
  sequence_end: Schema.Int,
  runpack_path: Schema.String,
  manifest_digest: Schema.String,
  prev_checkpoint_digest: optionalExact(Schema.String),
  checkpoint_digest: Schema.String,
  relationship: optionalExact(Relationship),
  safety_invariant_version: optionalExact(Schema.String),
  safety_invariant_hash: optionalExact(Schema.String)
})
export type SessionCheckpoint = typeof SessionCheckpoint.Type

/** One journal line: `record_type` plus the matching payload. */
export const JournalRecord = Schema.Struct({
  record_type: Schema.String,
  header: optionalExact(Schema.Unknown),
  event: optionalExact(Schema.Unknown),
  checkpoint: optionalExact(Schema.Unknown)
})

export const SessionState = Schema.Struct({
  schema_id: Schema.String,
  schema_version: Schema.String,
  updated_at: Schema.String,
  producer_version: Schema.String,
  session_id: Schema.String,
  run_id: Schema.String,
  created_at: Schema.String,
  started_at: Schema.String,
  event_count: Schema.NonNegativeInt,
  last_sequence: Schema.NonNegativeInt,
  checkpoint_count: Schema.NonNegativeInt,
  last_checkpoint_index: Schema.NonNegativeInt,
  last_checkpoint_sequence: Schema.NonNegativeInt,
  last_checkpoint_digest: optionalExact(Schema.String),
  journal_size_bytes: Schema.NonNegativeInt
})
export type SessionState = typeof SessionState.Type

export const SessionChain = Schema.Struct({
  ...recordHeaderFields,
  session_id: Schema.String,
  run_id: Schema.String,
  checkpoints: Schema.NullOr(Schema.Array(SessionCheckpoint))
}).annotations({ identifier: "SessionChain", title: "gait.runpack.session_chain" })
export type SessionChain = typeof SessionChain.Type

/** The seven status fields every session command reports. */
export interface SessionStatus {
  readonly session_id: string
  readonly run_id: string
  readonly created_at: string
  readonly started_at: string
  readonly event_count: number
  readonly checkpoint_count: number
  readonly last_sequence: number
}
