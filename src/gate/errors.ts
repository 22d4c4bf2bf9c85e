import { Schema } from "effect"

/** The intent file is not a decodable intent request (JSON syntax, shape or types). */
export class IntentUnparsable extends Schema.TaggedError<IntentUnparsable>()("IntentUnparsable", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `parse intent json: ${this.detail}`
  }
}

/** The intent decoded but violates a normalization rule (missing required field, bad enum, …). */
export class IntentInvalid extends Schema.TaggedError<IntentInvalid>()("IntentInvalid", {
  detail: Schema.String
}) {
  override get message(): string {
    return `normalize intent: ${this.detail}`
  }
}

/** A credential-looking key carries what looks like a raw secret; gait refuses to sign or store it. */
export class RawCredentialRejected extends Schema.TaggedError<RawCredentialRejected>()("RawCredentialRejected", {
  /** Location of the value, e.g. `args.headers.api_key` (the value itself is never echoed). */
  at: Schema.String
}) {
  override get message(): string {
    return `normalize intent: ${this.at} must not contain raw credential material; use credential references or digests instead`
  }
}

/** The policy YAML could not be parsed or has keys/types the schema does not allow. */
export class PolicyUnparsable extends Schema.TaggedError<PolicyUnparsable>()("PolicyUnparsable", {
  path: Schema.String,
  detail: Schema.String,
  line: Schema.optionalWith(Schema.Number, { exact: true }),
  column: Schema.optionalWith(Schema.Number, { exact: true })
}) {
  override get message(): string {
    const at = this.line === undefined ? "" : `${this.path}:${this.line}:${this.column ?? 1}: `
    return `parse policy yaml: ${at}${this.detail}`
  }
}

/** The policy uses the legacy proposal format; carries the migration the envelope reports. */
export class PolicyLegacyFields extends Schema.TaggedError<PolicyLegacyFields>()("PolicyLegacyFields", {
  path: Schema.String,
  deprecated_fields: Schema.Array(Schema.String),
  field_replacements: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `parse policy yaml: legacy policy proposal fields are not supported [${this.deprecated_fields.join(", ")}]: ${this.field_replacements.join("; ")}`
  }
}

/** The policy parsed but a value is out of range or inconsistent (the reference's exact messages). */
export class PolicyInvalid extends Schema.TaggedError<PolicyInvalid>()("PolicyInvalid", {
  path: Schema.String,
  detail: Schema.String,
  rule: Schema.optionalWith(Schema.String, { exact: true })
}) {
  override get message(): string {
    return this.detail
  }
}

/** A runtime profile requirement is not met (e.g. oss-prod without a prod key). */
export class ProfileViolation extends Schema.TaggedError<ProfileViolation>()("ProfileViolation", {
  profile: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/**
 * The policy or the command needs a control this build does not enforce yet. Gait fails closed:
 * it refuses to decide rather than decide without the control.
 */
export class UnsupportedFeature extends Schema.TaggedError<UnsupportedFeature>()("UnsupportedFeature", {
  feature: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.feature} is not supported by this gait build: ${this.detail}`
  }
}

/** The trace destination is not acceptable (empty, `.`, `/`, or a relative path that climbs out). */
export class TracePathInvalid extends Schema.TaggedError<TracePathInvalid>()("TracePathInvalid", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}
