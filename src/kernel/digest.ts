import { createHash } from "node:crypto"
import { Either } from "effect"
import { type CanonicalJsonError, canonicalize } from "./canonical-json.js"

/** Lowercase hex sha256 of a UTF-8 string or raw bytes. */
export const sha256Hex = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")

/** `sha256hex(JCS(value))`: the digest every gait artifact uses. */
export const digestJson = (value: unknown): Either.Either<string, CanonicalJsonError> =>
  Either.map(canonicalize(value), sha256Hex)

const SHA256_HEX = /^[a-f0-9]{64}$/

export const isSha256Hex = (value: string): boolean => SHA256_HEX.test(value)
