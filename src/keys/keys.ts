/**
 * The `Keys` service signs digests. Layers: `layerDev` (an ephemeral pair, generated once per layer
 * build), `layerProd` (a base64 64-byte Ed25519 private key from a file or an environment variable),
 * `layerFromKeyPair` (an in-memory pair, for tests and embedding). An integrator can provide any other
 * implementation (HSM, KMS) as long as it signs the 32 raw digest bytes with Ed25519.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import { Config, Context, Effect, Either, Layer, Option, Redacted } from "effect"
import type { InputUnreadable } from "../kernel/errors.js"
import { readBoundedText } from "../kernel/files.js"
import { nonBlank } from "../kernel/text.js"
import {
  decodeBase64Strict,
  type Ed25519KeyPair,
  generateKeyPair,
  keyPairFromPrivateKey,
  signDigestBytes
} from "../kernel/signing.js"
import { KeyInvalid, SigningFailed } from "./errors.js"

export type KeyMode = "dev" | "prod"

export const DEV_MODE_WARNING = "dev mode: ephemeral keypair generated; signatures will not verify across machines"

export interface KeysApi {
  readonly mode: KeyMode
  readonly keyId: string
  readonly publicKey: Uint8Array
  /** Warnings the caller should surface (dev mode always has one). */
  readonly warnings: ReadonlyArray<string>
  /** Ed25519 signature over the 32 raw bytes of a sha256 digest. */
  readonly signDigest: (digest: Uint8Array) => Effect.Effect<Uint8Array, SigningFailed>
}

export class Keys extends Context.Tag("gait/Keys")<Keys, KeysApi>() {}

/** Wraps an in-memory pair as a `Keys` implementation. */
export const fromKeyPair = (pair: Ed25519KeyPair, mode: KeyMode, warnings: ReadonlyArray<string> = []): KeysApi => ({
  mode,
  keyId: pair.keyId,
  publicKey: pair.publicKey,
  warnings,
  signDigest: (digest) =>
    Effect.try({
      try: () => signDigestBytes(pair.privateKey, digest),
      catch: (e) => new SigningFailed({ key_id: pair.keyId, detail: String(e) })
    })
})

export const layerFromKeyPair = (pair: Ed25519KeyPair, mode: KeyMode = "prod"): Layer.Layer<Keys> =>
  Layer.succeed(Keys, fromKeyPair(pair, mode))

/** A fresh pair per layer build: one per CLI run, one per server process. */
export const layerDev: Layer.Layer<Keys> = Layer.sync(Keys, () => fromKeyPair(generateKeyPair(), "dev", [DEV_MODE_WARNING]))

/** Where a prod private key comes from: exactly one of a file path or an environment variable name. */
export interface PrivateKeySource {
  readonly path?: string | undefined
  readonly env?: string | undefined
}

/** Parses the text of a key file or variable: trimmed standard base64 of the 64-byte private key. */
export const parsePrivateKey = (text: string, source: string): Either.Either<Ed25519KeyPair, KeyInvalid> => {
  const raw = decodeBase64Strict(text.trim())
  if (Option.isNone(raw)) {
    return Either.left(
      new KeyInvalid({ reason: "not_base64", detail: "decode private key: illegal base64 data", source })
    )
  }
  return Either.mapLeft(keyPairFromPrivateKey(raw.value), (problem) =>
    problem._tag === "WrongLength"
      ? new KeyInvalid({ reason: "wrong_length", detail: `invalid private key length: ${problem.length}`, source })
      : new KeyInvalid({
          reason: "public_half_mismatch",
          detail: "invalid private key: public key half does not match the seed",
          source
        })
  )
}

const MAX_KEY_FILE_BYTES = 4096

/** Loads a prod key pair from its source; the variable is read through `Config`, so tests control it. */
export const loadPrivateKey = Effect.fn("Keys.loadPrivateKey")(function* (source: PrivateKeySource) {
  const path = nonBlank(source.path)
  const env = nonBlank(source.env)
  if (path !== undefined && env !== undefined) {
    return yield* new KeyInvalid({ reason: "ambiguous_source", detail: "private key source: set either path or env" })
  }
  if (path !== undefined) {
    const text = yield* readBoundedText("private key", path, MAX_KEY_FILE_BYTES)
    return yield* parsePrivateKey(text, path)
  }
  if (env !== undefined) {
    const value = yield* Config.option(Config.redacted(env)).pipe(Effect.orElseSucceed(() => Option.none()))
    const text = Option.getOrElse(Option.map(value, Redacted.value), () => "")
    if (text.trim() === "") {
      return yield* new KeyInvalid({ reason: "env_not_set", detail: `private key env not set: ${env}`, source: env })
    }
    return yield* parsePrivateKey(text, env)
  }
  return yield* new KeyInvalid({ reason: "missing_source", detail: "prod mode requires a private key source" })
})

export const layerProd = (source: PrivateKeySource): Layer.Layer<Keys, KeyInvalid | InputUnreadable, FileSystem.FileSystem> =>
  Layer.effect(
    Keys,
    Effect.map(loadPrivateKey(source), (pair) => fromKeyPair(pair, "prod"))
  )

/** Parses a `--key-mode` value (lower(trim), default dev). */
export const parseKeyMode = (raw: string | undefined): Either.Either<KeyMode, KeyInvalid> => {
  const mode = (raw ?? "").trim().toLowerCase()
  if (mode === "" || mode === "dev") return Either.right("dev")
  if (mode === "prod") return Either.right("prod")
  return Either.left(new KeyInvalid({ reason: "unsupported_mode", detail: `unsupported key mode: ${JSON.stringify(raw ?? "")}` }))
}

/**
 * The layer a key mode and source select, with the reference's rules: dev mode refuses explicit
 * sources (so a prod key is never silently ignored), prod mode requires exactly one.
 */
export const layerFor = (
  mode: KeyMode,
  source: PrivateKeySource
): Layer.Layer<Keys, KeyInvalid | InputUnreadable, FileSystem.FileSystem> => {
  if (mode === "prod") return layerProd(source)
  if (nonBlank(source.path) !== undefined || nonBlank(source.env) !== undefined) {
    return Layer.fail(new KeyInvalid({ reason: "dev_mode_explicit_source", detail: "dev mode does not accept explicit key sources" }))
  }
  return layerDev
}

/** Where a verify (public) key comes from: a public key or a private key, each as a file or a variable. */
export interface VerifyKeySource {
  readonly publicKeyPath?: string | undefined
  readonly publicKeyEnv?: string | undefined
  readonly privateKeyPath?: string | undefined
  readonly privateKeyEnv?: string | undefined
}

export const hasVerifyKeySource = (s: VerifyKeySource): boolean =>
  [s.publicKeyPath, s.publicKeyEnv, s.privateKeyPath, s.privateKeyEnv].some((v) => nonBlank(v) !== undefined)

/** Loads a raw 32-byte Ed25519 public key; a public source wins over a private one (reference rule). */
export const loadVerifyKey = Effect.fn("Keys.loadVerifyKey")(function* (source: VerifyKeySource) {
  const path = nonBlank(source.publicKeyPath)
  const env = nonBlank(source.publicKeyEnv)
  if (path !== undefined && env !== undefined) {
    return yield* new KeyInvalid({ reason: "ambiguous_source", detail: "public key source: set either path or env" })
  }
  if (path === undefined && env === undefined) {
    const pair = yield* loadPrivateKey({ path: source.privateKeyPath, env: source.privateKeyEnv })
    return pair.publicKey
  }
  const text =
    path !== undefined
      ? yield* readBoundedText("public key", path, MAX_KEY_FILE_BYTES)
      : Option.getOrElse(
          Option.map(yield* Config.option(Config.redacted(env ?? "")).pipe(Effect.orElseSucceed(() => Option.none())), Redacted.value),
          () => ""
        )
  const origin = path ?? env ?? ""
  if (text.trim() === "") {
    return yield* new KeyInvalid({ reason: "env_not_set", detail: `public key env not set: ${origin}`, source: origin })
  }
  const raw = decodeBase64Strict(text.trim())
  if (Option.isNone(raw)) {
    return yield* new KeyInvalid({ reason: "not_base64", detail: "decode public key: illegal base64 data", source: origin })
  }
  if (raw.value.length !== 32) {
    return yield* new KeyInvalid({ reason: "wrong_length", detail: `invalid public key length: ${raw.value.length}`, source: origin })
  }
  return raw.value
})
