import { Schema } from "effect"

export const LockProfile = Schema.Literal("standard", "swarm")
export type LockProfile = typeof LockProfile.Type

/** Everything a user needs to understand and tune a lock timeout. */
export const LockDiagnostic = Schema.Struct({
  path: Schema.String,
  /** pid written by the holder, when its lock file could be read. */
  holder_pid: Schema.optionalWith(Schema.Number, { exact: true }),
  /** Age of the holder's lock, from its `created_at`. */
  holder_age_ms: Schema.optionalWith(Schema.Number, { exact: true }),
  /** false when the lock file had no parsable metadata (such a lock is never considered stale). */
  holder_readable: Schema.Boolean,
  waited_ms: Schema.Number,
  attempts: Schema.Number,
  timeout_ms: Schema.Number,
  retry_ms: Schema.Number,
  stale_after_ms: Schema.Number,
  profile: LockProfile
})
export type LockDiagnostic = typeof LockDiagnostic.Type

/** Another process held the session lock for the whole timeout. Retryable. */
export class SessionLockContention extends Schema.TaggedError<SessionLockContention>()("SessionLockContention", {
  lock: LockDiagnostic
}) {
  override get message(): string {
    const l = this.lock
    const holder = l.holder_pid === undefined ? (l.holder_readable ? "" : " holder=unreadable-lock-file") : ` holder_pid=${l.holder_pid}`
    return `session state contention: lock timeout (path=${l.path} waited=${l.waited_ms}ms attempts=${l.attempts} timeout=${l.timeout_ms}ms retry=${l.retry_ms}ms profile=${l.profile}${holder})`
  }
}

/** The lock file could not be created for a reason other than contention (e.g. permissions). */
export class SessionLockFailed extends Schema.TaggedError<SessionLockFailed>()("SessionLockFailed", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `acquire session lock: ${this.detail}`
  }
}

/** A journal, chain or runpack path that is empty, `.`/`/`, or climbs out of the working tree. */
export class SessionPathInvalid extends Schema.TaggedError<SessionPathInvalid>()("SessionPathInvalid", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/** The journal does not exist. */
export class SessionJournalMissing extends Schema.TaggedError<SessionJournalMissing>()("SessionJournalMissing", {
  path: Schema.String
}) {
  override get message(): string {
    return `open session journal: ${this.path}: no such file or directory`
  }
}

/** The journal breaks a structural rule (bad JSON in a complete line, sequence gap, identity mismatch …). */
export class SessionJournalInvalid extends Schema.TaggedError<SessionJournalInvalid>()("SessionJournalInvalid", {
  path: Schema.String,
  line: Schema.optionalWith(Schema.Number, { exact: true }),
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/** `start` on a journal that belongs to another session or run. */
export class SessionIdentityMismatch extends Schema.TaggedError<SessionIdentityMismatch>()("SessionIdentityMismatch", {
  path: Schema.String,
  session_id: Schema.String,
  run_id: Schema.String,
  existing_session_id: Schema.String,
  existing_run_id: Schema.String
}) {
  override get message(): string {
    return "session journal already initialized with different session/run"
  }
}

/** `checkpoint` with nothing new since the last checkpoint. */
export class SessionNoNewEvents extends Schema.TaggedError<SessionNoNewEvents>()("SessionNoNewEvents", {
  path: Schema.String,
  last_sequence: Schema.Number
}) {
  override get message(): string {
    return "no new session events available for checkpoint"
  }
}

/** A chain file that cannot be read or is not a session chain. */
export class SessionChainInvalid extends Schema.TaggedError<SessionChainInvalid>()("SessionChainInvalid", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}
