/**
 * Ed25519 over digests, as every gait artifact signs: the signature covers the 32 raw bytes of
 * `sha256(JCS(object without "signature"))`, not the JSON text. Keys travel as standard base64 of the
 * raw 32-byte public key or the 64-byte private key (seed ‖ public key), and `key_id` is the hex
 * sha256 of the raw public key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto"
import { Either, Option, Schema } from "effect"
import type { CanonicalJsonError } from "./canonical-json.js"
import { digestJson, sha256Hex } from "./digest.js"

export const SignatureAlg = "ed25519"

export const Signature = Schema.Struct({
  alg: Schema.String,
  key_id: Schema.String,
  sig: Schema.String,
  signed_digest: Schema.String
})
export type Signature = typeof Signature.Type

export interface Ed25519KeyPair {
  readonly privateKey: KeyObject
  readonly publicKey: Uint8Array
  readonly keyId: string
}

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Strict standard base64 (padding required, no whitespace or URL alphabet), as Go's StdEncoding. */
export const decodeBase64Strict = (text: string): Option.Option<Uint8Array> =>
  STD_BASE64.test(text) ? Option.some(new Uint8Array(Buffer.from(text, "base64"))) : Option.none()

export const encodeBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64")

const base64Url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")

export const keyIdOf = (publicKey: Uint8Array): string => sha256Hex(publicKey)

const rawPublicKey = (key: KeyObject): Uint8Array => {
  const x = key.export({ format: "jwk" }).x ?? ""
  return new Uint8Array(Buffer.from(x, "base64url"))
}

export type KeyMaterialProblem =
  | { readonly _tag: "WrongLength"; readonly length: number }
  | { readonly _tag: "PublicHalfMismatch" }

/**
 * Builds a key pair from the 64-byte Go-style private key. Rejects a key whose public half does not
 * belong to its seed: signing with it would produce signatures no verifier accepts.
 */
export const keyPairFromPrivateKey = (bytes: Uint8Array): Either.Either<Ed25519KeyPair, KeyMaterialProblem> => {
  if (bytes.length !== 64) return Either.left({ _tag: "WrongLength", length: bytes.length })
  const seed = bytes.subarray(0, 32)
  const claimedPublic = bytes.subarray(32)
  const privateKey = createPrivateKey({
    key: { kty: "OKP", crv: "Ed25519", d: base64Url(seed), x: base64Url(claimedPublic) },
    format: "jwk"
  })
  const derived = rawPublicKey(createPublicKey(privateKey))
  if (!Buffer.from(derived).equals(Buffer.from(claimedPublic))) return Either.left({ _tag: "PublicHalfMismatch" })
  return Either.right({ privateKey, publicKey: derived, keyId: keyIdOf(derived) })
}

/** A fresh key pair from the operating system's CSPRNG. */
export const generateKeyPair = (): Ed25519KeyPair => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519")
  const raw = rawPublicKey(publicKey)
  return { privateKey, publicKey: raw, keyId: keyIdOf(raw) }
}

/** The 64-byte Go-style private key (seed ‖ public key) of a pair, for writing key files. */
export const privateKeyBytes = (pair: Ed25519KeyPair): Uint8Array => {
  const d = pair.privateKey.export({ format: "jwk" }).d ?? ""
  return new Uint8Array(Buffer.concat([Buffer.from(d, "base64url"), Buffer.from(pair.publicKey)]))
}

export const signDigestBytes = (privateKey: KeyObject, digest: Uint8Array): Uint8Array =>
  new Uint8Array(sign(null, digest, privateKey))

export const publicKeyObject = (publicKey: Uint8Array): KeyObject =>
  createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: base64Url(publicKey) }, format: "jwk" })

export const verifyDigestBytes = (publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean =>
  publicKey.length === 32 && signature.length === 64 && verify(null, digest, publicKeyObject(publicKey), signature)

/** The digest a signature over `unsigned` must cover (hex), i.e. `sha256(JCS(unsigned))`. */
export const signableDigest = (unsigned: unknown): Either.Either<string, CanonicalJsonError> => digestJson(unsigned)

/** Why a signed JSON object does not verify; the texts follow the reference verifier. */
export type VerifyProblem =
  | "missing signature"
  | "missing signed_digest"
  | "signed_digest mismatch"
  | `unsupported alg: ${string}`
  | "key id mismatch"
  | `decode sig: ${string}`
  | `invalid signature length: ${number}`
  | "signature verification failed"
  | "document cannot be canonicalized"

/**
 * Verifies `document.signature` against the canonical form of the document without it, in the
 * reference verifier's order of checks. The raw parsed object is canonicalized, so unknown fields
 * are covered by the signature rather than dropped.
 */
export const verifySignedDocument = (
  document: { readonly [key: string]: unknown },
  publicKey: Uint8Array
): Either.Either<void, VerifyProblem> => {
  const { signature, ...unsigned } = document
  const decoded = Schema.decodeUnknownOption(Signature)(signature)
  if (Option.isNone(decoded)) return Either.left("missing signature")
  const sig = decoded.value
  if (sig.signed_digest === "") return Either.left("missing signed_digest")
  const digest = signableDigest(unsigned)
  if (Either.isLeft(digest)) return Either.left("document cannot be canonicalized")
  if (digest.right !== sig.signed_digest) return Either.left("signed_digest mismatch")
  if (sig.alg !== SignatureAlg) return Either.left(`unsupported alg: ${sig.alg}` as const)
  if (sig.key_id !== "" && sig.key_id !== keyIdOf(publicKey)) return Either.left("key id mismatch")
  const raw = decodeBase64Strict(sig.sig)
  if (Option.isNone(raw)) return Either.left("decode sig: illegal base64 data")
  if (raw.value.length !== 64) return Either.left(`invalid signature length: ${raw.value.length}` as const)
  return verifyDigestBytes(publicKey, Buffer.from(sig.signed_digest, "hex"), raw.value)
    ? Either.void
    : Either.left("signature verification failed")
}
