/**
 * Session chain verification (spec session.md §6.1): the chain's linkage (indexes, prev digests,
 * non-overlapping ranges, recomputed checkpoint digests) and every checkpoint runpack (file hashes,
 * manifest digest against the chain, signatures when required). Findings are data, not errors: an
 * unreadable chain is an error, a chain that does not verify is a result with its reasons.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect, Either, Schema } from "effect"
import { checkpointDigestOf } from "./chain-digest.js"
import { SessionChainInvalid } from "./errors.js"
import { verifyRunpack } from "./runpack.js"
import { SCHEMA_VERSION, SESSION_CHAIN_SCHEMA, SessionChain } from "./schema.js"

export interface ChainVerification {
  readonly session_id: string
  readonly run_id: string
  readonly checkpoints_checked: number
  readonly linkage_errors?: ReadonlyArray<string>
  readonly checkpoint_errors?: ReadonlyArray<string>
}

const MAX_CHAIN_BYTES = 64 * 1024 * 1024
const MAX_RUNPACK_BYTES = 512 * 1024 * 1024

const decodeChain = Schema.decodeUnknownEither(SessionChain)

export const parseChain = (path: string, text: string): Either.Either<SessionChain, SessionChainInvalid> => {
  const invalid = (detail: string) => Either.left(new SessionChainInvalid({ path, detail }))
  const json = Either.try({ try: (): unknown => JSON.parse(text), catch: (e) => (e instanceof Error ? e.message : String(e)) })
  if (Either.isLeft(json)) return invalid(`parse session chain: ${json.left}`)
  const decoded = decodeChain(json.right)
  if (Either.isLeft(decoded)) return invalid("parse session chain: not a session chain document")
  const chain = decoded.right
  const schemaId = chain.schema_id.trim() || SESSION_CHAIN_SCHEMA
  const schemaVersion = chain.schema_version.trim() || SCHEMA_VERSION
  if (schemaId !== SESSION_CHAIN_SCHEMA || schemaVersion !== SCHEMA_VERSION) return invalid("unsupported session chain schema")
  if (chain.session_id.trim() === "" || chain.run_id.trim() === "") return invalid("session chain missing session_id/run_id")
  if ((chain.checkpoints ?? []).length === 0) return invalid("session chain has no checkpoints")
  return Either.right(chain)
}

export const readChain = Effect.fn("SessionChain.read")(function* (path: string) {
  const fs = yield* FileSystem.FileSystem
  const info = yield* fs.stat(path).pipe(Effect.mapError((e) => new SessionChainInvalid({ path, detail: `read session chain: ${e.message}` })))
  if (info.type !== "File") return yield* new SessionChainInvalid({ path, detail: "read session chain: not a regular file" })
  if (Number(info.size) > MAX_CHAIN_BYTES) return yield* new SessionChainInvalid({ path, detail: "read session chain: file too large" })
  const text = yield* fs.readFileString(path).pipe(Effect.mapError((e) => new SessionChainInvalid({ path, detail: `read session chain: ${e.message}` })))
  return yield* parseChain(path, text)
})

export interface VerifyChainOptions {
  readonly requireSignature: boolean
  readonly publicKey?: Uint8Array | undefined
}

export const verifySessionChain = Effect.fn("SessionChain.verify")(function* (path: string, options: VerifyChainOptions) {
  const fs = yield* FileSystem.FileSystem
  const chain = yield* readChain(path)
  const linkage: Array<string> = []
  const failures: Array<string> = []
  let lastDigest = ""
  let lastIndex = 0
  let lastEnd = 0
  for (const [position, c] of (chain.checkpoints ?? []).entries()) {
    const index = c.checkpoint_index
    if (index !== lastIndex + 1) linkage.push(`checkpoint index mismatch at position ${position}`)
    if (index > 1 && (c.prev_checkpoint_digest ?? "").toLowerCase() !== lastDigest.toLowerCase()) {
      linkage.push(`prev_checkpoint_digest mismatch at checkpoint ${index}`)
    }
    if (c.sequence_start <= lastEnd) linkage.push(`sequence overlap at checkpoint ${index}`)
    if (checkpointDigestOf(c) !== c.checkpoint_digest.toLowerCase()) linkage.push(`checkpoint_digest mismatch at checkpoint ${index}`)

    const zip = yield* fs.stat(c.runpack_path).pipe(
      Effect.flatMap(
        (info): Effect.Effect<Uint8Array, string> =>
          Number(info.size) > MAX_RUNPACK_BYTES
            ? Effect.fail("runpack too large")
            : Effect.mapError(fs.readFile(c.runpack_path), (e) => e.message)
      ),
      Effect.mapError((e) => (typeof e === "string" ? e : e.message)),
      Effect.either
    )
    if (Either.isLeft(zip)) {
      const reason = zip.left
      failures.push(`checkpoint ${index} verify error: open zip: ${c.runpack_path}: ${reason}`)
    } else {
      const verified = verifyRunpack(zip.right, {
        requireSignature: options.requireSignature,
        ...(options.publicKey === undefined ? {} : { publicKey: options.publicKey })
      })
      if (Either.isLeft(verified)) failures.push(`checkpoint ${index} verify error: ${verified.left.message}`)
      else {
        const r = verified.right
        if (r.manifest_digest.toLowerCase() !== c.manifest_digest.toLowerCase()) failures.push(`checkpoint ${index} manifest digest mismatch`)
        else if ((r.missing_files ?? []).length > 0 || (r.hash_mismatches ?? []).length > 0) {
          failures.push(`checkpoint ${index} runpack integrity failure`)
        } else if (options.requireSignature && r.signature_status !== "verified") {
          failures.push(`checkpoint ${index} signature verification failed`)
        } else if (r.signature_status === "failed") {
          // Stricter than the reference's chain verifier: a signature that is present but wrong is a failure.
          failures.push(`checkpoint ${index} signature verification failed`)
        }
      }
    }
    lastDigest = c.checkpoint_digest
    lastIndex = index
    lastEnd = c.sequence_end
  }
  const result: ChainVerification = {
    session_id: chain.session_id,
    run_id: chain.run_id,
    checkpoints_checked: (chain.checkpoints ?? []).length,
    ...(linkage.length > 0 ? { linkage_errors: linkage } : {}),
    ...(failures.length > 0 ? { checkpoint_errors: failures } : {})
  }
  return result
})
