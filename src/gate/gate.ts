/**
 * The `Gate` service: load a policy, load an intent, decide. The default layer reads files through
 * the platform `FileSystem` and decides with the pure evaluator; an integrator can swap it (e.g. for
 * a policy server) without touching the CLI or the HTTP edge.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Context, Effect, Either, Layer, Schema } from "effect"
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
  const api: GateApi = {
    loadPolicy: (path) =>
      readBoundedText("policy", path, MAX_POLICY_BYTES).pipe(
        withFs,
        Effect.flatMap((text) => parseCached(text, path)),
        Effect.withSpan("Gate.loadPolicy")
      ),
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
