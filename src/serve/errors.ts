import { Schema } from "effect"

/** A request the HTTP edge refuses before evaluation; `status` is the HTTP status it maps to. */
export class RequestRejected extends Schema.TaggedError<RequestRejected>()("RequestRejected", {
  status: Schema.Literal(400, 401, 404, 405, 408, 415, 431),
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/** The body is (or declares itself) larger than `max_request_bytes`; reading stopped at the limit. */
export class RequestTooLarge extends Schema.TaggedError<RequestTooLarge>()("RequestTooLarge", {
  limit_bytes: Schema.Number,
  received_at_least: Schema.Number
}) {
  override get message(): string {
    return "request body exceeds max-request-bytes"
  }
}

/** `mcp serve` settings that make no sense (bad listen address, non-loopback without token auth, …). */
export class ServeConfigInvalid extends Schema.TaggedError<ServeConfigInvalid>()("ServeConfigInvalid", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}
