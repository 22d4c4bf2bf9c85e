/**
 * The `Gate` service: load a policy, load an intent, decide. The default layer reads files through
 * the platform `FileSystem` and decides with the pure evaluator; an integrator can swap it (e.g. for
 * a policy server) without touching the CLI or the HTTP edge.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Clock, Context, Effect, Either, Layer, Option, Schema } from "effect"
import type { InputUnreadable } from "../kernel/errors.js"
import { readBoundedText } from "../kernel/files.js"
import { exceedsDepth, MAX_JSON_DEPTH } from "../kernel/json-depth.js"
import { firstProblem, formatPath } from "../kernel/schema-errors.js"
import { type Decision, type DecisionRequest, decide } from "./decision.js"
import {
  IntentUnparsable,
  type IntentInvalid,
  type PolicyInvalid,
  type PolicyLegacyFields,
  type PolicyUnparsable,
  type RawCredentialRejected,
  type UnsupportedFeature
} from "./errors.js"
import { type PreparedIntent, prepareIntent } from "./intent.js"
import { IntentRequest } from "./intent-schema.js"
import { type LoadedPolicy, loadPolicyText } from "./policy.js"

/** Largest intent file accepted; intents are small JSON documents, anything bigger is refused unread. */
export const MAX_INTENT_BYTES = 1024 * 1024
/** Largest policy file accepted. */
export const MAX_POLICY_BYTES = 4 * 1024 * 1024

export type PolicyLoadError = InputUnreadable | PolicyUnparsable | PolicyLegacyFields | PolicyInvalid
export type IntentLoadError = InputUnreadable | IntentUnparsable | IntentInvalid | RawCredentialRejected

export interface GateApi {
  readonly loadPolicy: (path: string) => Effect.Effect<LoadedPolicy, PolicyLoadError>
  readonly loadIntent: (path: string) => Effect.Effect<PreparedIntent, IntentLoadError>
  readonly decide: (request: DecisionRequest) => Effect.Effect<Decision, UnsupportedFeature>
}

export class Gate extends Context.Tag("gait/Gate")<Gate, GateApi>() {}

const decodeIntent = Schema.decodeUnknownEither(IntentRequest, { errors: "first", onExcessProperty: "ignore" })

const describeJsonError = (e: unknown): string =>
  e instanceof SyntaxError ? e.message.replace(/^JSON\.parse: /, "") : String(e)

/** JSON text → decoded request (syntax, object shape, field types); unknown fields are ignored. */
export const parseIntentText = (text: string, path: string): Either.Either<IntentRequest, IntentUnparsable> => {
  if (text.trim() === "") return Either.left(new IntentUnparsable({ path, detail: "unexpected end of JSON input (empty file)" }))
  const parsed = Either.try({ try: (): unknown => JSON.parse(text), catch: describeJsonError })
  if (Either.isLeft(parsed)) return Either.left(new IntentUnparsable({ path, detail: parsed.left }))
  const value = parsed.right
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value
    return Either.left(new IntentUnparsable({ path, detail: `intent must be a JSON object, got ${kind}` }))
  }
  if (exceedsDepth(value, MAX_JSON_DEPTH)) {
    return Either.left(new IntentUnparsable({ path, detail: `exceeded max depth (${MAX_JSON_DEPTH} nested levels)` }))
  }
  return Either.mapLeft(decodeIntent(value), (error) => {
    const problem = firstProblem(error)
    return new IntentUnparsable({ path, detail: `${formatPath(problem.path) || "intent"}: ${problem.message}` })
  })
}

/** Parsed policies by (path, exact text): a server re-reads the file per request but parses it only when it changed. */
const POLICY_CACHE_SIZE = 16

/**
 * A policy file's content is reused without reading it again while its (device, inode, size, mtime)
 * are unchanged, but only once it was read at least this long after its last modification. A write
 * after that read gets a later mtime; a write within the same timestamp tick as the read (file times
 * advance in steps of milliseconds) can only happen while the file is younger than this, and then it
 * is read every time — the "racy clean" rule version-control tools use for the same problem.
 */
const POLICY_STABLE_AFTER_MS = 2_000

interface FileIdentity {
  readonly dev: number
  readonly ino: number
  readonly size: bigint
  readonly mtimeMs: number
}

const identityOf = (info: FileSystem.File.Info): Option.Option<FileIdentity> =>
  info.type !== "File"
    ? Option.none()
    : Option.map(Option.all({ ino: info.ino, mtime: info.mtime }), ({ ino, mtime }) => ({
        dev: info.dev,
        ino,
        size: BigInt(info.size),
        mtimeMs: mtime.getTime()
      }))

const sameIdentity = (a: FileIdentity, b: FileIdentity): boolean =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs

interface PolicySnapshot {
  readonly identity: FileIdentity
  readonly readAtMs: number
  readonly loaded: LoadedPolicy
}

export const make = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const withFs = Effect.provideService(FileSystem.FileSystem, fs)
  const parsed = new Map<string, LoadedPolicy>()
  const parseCached = (text: string, path: string) => {
    const key = `${path}\u0000${text}`
    const hit = parsed.get(key)
    if (hit !== undefined) return Either.right(hit)
    const loaded = loadPolicyText(text, path)
    if (Either.isRight(loaded)) {
      if (parsed.size >= POLICY_CACHE_SIZE) parsed.delete(parsed.keys().next().value as string)
      parsed.set(key, loaded.right)
    }
    return loaded
  }
  const snapshots = new Map<string, PolicySnapshot>()
  const readPolicy = (path: string) =>
    readBoundedText("policy", path, MAX_POLICY_BYTES).pipe(
      withFs,
      Effect.flatMap((text) => parseCached(text, path))
    )
  const api: GateApi = {
    // One stat per call while the file is unchanged (a server loads the policy for every request);
    // anything unexpected (stat fails, no inode or mtime) falls back to reading the file.
    loadPolicy: (path) =>
      Effect.gen(function* () {
        const checkedAtMs = yield* Clock.currentTimeMillis
        const identity = Option.flatMap(yield* Effect.option(fs.stat(path)), identityOf)
        if (Option.isNone(identity)) return yield* readPolicy(path)
        const known = snapshots.get(path)
        if (known !== undefined && sameIdentity(known.identity, identity.value) && known.readAtMs - known.identity.mtimeMs >= POLICY_STABLE_AFTER_MS) {
          return known.loaded
        }
        const loaded = yield* readPolicy(path)
        if (snapshots.size >= POLICY_CACHE_SIZE && !snapshots.has(path)) snapshots.delete(snapshots.keys().next().value as string)
        snapshots.set(path, { identity: identity.value, readAtMs: checkedAtMs, loaded })
        return loaded
      }).pipe(Effect.withSpan("Gate.loadPolicy")),
    loadIntent: (path) =>
      readBoundedText("intent", path, MAX_INTENT_BYTES).pipe(
        withFs,
        Effect.flatMap((text) => parseIntentText(text, path)),
        Effect.flatMap(prepareIntent),
        Effect.withSpan("Gate.loadIntent")
      ),
    decide: (request) => decide(request)
  }
  return api
})

export const layer: Layer.Layer<Gate, never, FileSystem.FileSystem> = Layer.effect(Gate, make)
