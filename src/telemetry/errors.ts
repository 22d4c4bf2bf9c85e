import { Schema } from "effect"

const Log = Schema.Literal("operational", "adoption")

/** An event about to be appended breaks its log's rules (§5.2, §5.3); nothing was written. */
export class TelemetryEventInvalid extends Schema.TaggedError<TelemetryEventInvalid>()("TelemetryEventInvalid", {
  log: Log,
  detail: Schema.String
}) {
  override get message(): string {
    return `validate ${this.log} event: ${this.detail}`
  }
}

/** A telemetry log could not be loaded: unreadable, a line that is not an event, or a rule broken. */
export class TelemetryLogInvalid extends Schema.TaggedError<TelemetryLogInvalid>()("TelemetryLogInvalid", {
  log: Log,
  path: Schema.String,
  stage: Schema.Literal("open", "read", "parse", "validate"),
  /** 1-based physical line number (blank lines count); absent for `open`. */
  line: Schema.optionalWith(Schema.Number, { exact: true }),
  detail: Schema.String
}) {
  override get message(): string {
    return this.line === undefined
      ? `${this.stage} ${this.log} log: ${this.detail}`
      : `${this.stage} ${this.log} log line ${this.line}: ${this.detail}`
  }
}
