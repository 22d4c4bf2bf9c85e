import { Schema } from "effect"

/** A file gait produces (trace, key, state) could not be written; nothing partial was left behind. */
export class ArtifactWriteFailed extends Schema.TaggedError<ArtifactWriteFailed>()("ArtifactWriteFailed", {
  path: Schema.String,
  /** Which step failed: `validate`, `create_temp`, `write`, `sync`, `chmod`, `rename`, `link`, `mkdir`. */
  stage: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `write ${this.path}: ${this.stage}: ${this.detail}`
  }
}

/** A file gait was asked to read could not be read (missing, a directory, too large, unreadable). */
export class InputUnreadable extends Schema.TaggedError<InputUnreadable>()("InputUnreadable", {
  /** What the file was meant to be: `policy`, `intent`, `private key`, `project config`, … */
  kind: Schema.String,
  path: Schema.String,
  reason: Schema.Literal("not_found", "is_directory", "too_large", "permission_denied", "io_error"),
  detail: Schema.String,
  limit_bytes: Schema.optionalWith(Schema.Number, { exact: true })
}) {
  override get message(): string {
    return `read ${this.kind}: ${this.detail}`
  }
}

/** Bad command-line usage: unknown flag, missing argument, bad flag value. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}
