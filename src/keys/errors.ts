import { Schema } from "effect"

/** The signing key configuration or key material is unusable. */
export class KeyInvalid extends Schema.TaggedError<KeyInvalid>()("KeyInvalid", {
  reason: Schema.Literal(
    "unsupported_mode",
    "dev_mode_explicit_source",
    "missing_source",
    "ambiguous_source",
    "env_not_set",
    "not_base64",
    "wrong_length",
    "public_half_mismatch"
  ),
  detail: Schema.String,
  /** The key file or environment variable the key came from, when there is one. */
  source: Schema.optionalWith(Schema.String, { exact: true })
}) {
  override get message(): string {
    return this.detail
  }
}

/** The signer refused or failed to sign (e.g. a remote KMS layer was unreachable). */
export class SigningFailed extends Schema.TaggedError<SigningFailed>()("SigningFailed", {
  key_id: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `sign with key ${this.key_id}: ${this.detail}`
  }
}
