/**
 * `gait mcp serve` as an `@effect/platform` HTTP app (spec mcp.md §5): `GET /healthz`,
 * `POST /v1/evaluate` (JSON), `/v1/evaluate/sse` (one event) and `/v1/evaluate/stream` (one NDJSON
 * line). Checks run in the reference's order — method (405), auth (401), content type (415), body
 * size (413), body shape (400) — and every error body is JSON, on every route. Evaluation goes
 * through the same pipeline as `gait mcp proxy`.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { Effect, Either, Option, Schema } from "effect"
import type { Profile } from "../gate/decision.js"
import { diagnose, diagnoseDefect, isGaitError } from "../diagnostics/diagnostics.js"
import { exceedsDepth, MAX_JSON_DEPTH } from "../kernel/json-depth.js"
import { renderJsonRecord } from "../kernel/json-output.js"
import { firstProblem, formatPath } from "../kernel/schema-errors.js"
import { evaluateToolCallPayload, type ProxyDecision } from "../mcp/proxy.js"
import { Auth } from "./auth.js"
import { readBoundedBody } from "./body.js"
import { confinePath } from "./confine.js"
import { RequestRejected, RequestTooLarge } from "./errors.js"
import { Retention } from "./retention.js"
import { SessionStore } from "../session/store.js"
import * as NodePath from "node:path"

export interface ServeSettings {
  readonly policyPath: string
  readonly adapter: string
  readonly profile: Profile
  readonly maxRequestBytes: number
  readonly verdictStatus: "compat" | "strict"
  readonly allowClientArtifactPaths: boolean
  readonly traceDir: string
  /** Directory of per-session journals ("" disables journaling). */
  readonly sessionDir?: string | undefined
  /** Directory for checkpoint runpacks; checkpoints need it. */
  readonly runpackDir?: string | undefined
  readonly exportLogOut?: string | undefined
  readonly exportOtelOut?: string | undefined
}

/** The request body; unknown top-level fields are refused (the `call` itself is free-form). */
export const EvaluateRequest = Schema.Struct({
  adapter: Schema.optional(Schema.String),
  call: Schema.optional(Schema.NullOr(Schema.Unknown)),
  run_id: Schema.optional(Schema.String),
  session_id: Schema.optional(Schema.String),
  session_journal: Schema.optional(Schema.String),
  checkpoint_interval: Schema.optional(Schema.Int),
  trace_path: Schema.optional(Schema.String),
  runpack_out: Schema.optional(Schema.String),
  emit_runpack: Schema.optional(Schema.Boolean),
  pack_out: Schema.optional(Schema.String),
  emit_pack: Schema.optional(Schema.Boolean)
})
const decodeRequest = Schema.decodeUnknownEither(EvaluateRequest, { errors: "first", onExcessProperty: "error" })

const badRequest = (detail: string) => new RequestRejected({ status: 400, detail })

const jsonResponse = (body: unknown, status: number, headers?: Record<string, string>) =>
  HttpServerResponse.text(`${renderJsonRecord(body)}\n`, { status, contentType: "application/json", headers })

/**
 * Every failure becomes a JSON body with the status of its diagnostics row; defects never leak.
 * A 413 closes the connection: keeping it alive would make Node drain (read) the rest of the body,
 * up to the whole declared Content-Length, before the next request could be parsed.
 */
const errorResponse = (e: unknown) => {
  const d = isGaitError(e) ? diagnose(e, undefined) : diagnoseDefect(undefined)
  return jsonResponse(d.body, d.httpStatus, e instanceof RequestTooLarge ? { connection: "close" } : undefined)
}

const healthz = Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
  request.method === "GET"
    ? jsonResponse({ ok: true, service: "gait.mcp.serve" }, 200)
    : errorResponse(new RequestRejected({ status: 405, detail: "expected GET" }))
)

const verdictStatus = (settings: ServeSettings, decision: ProxyDecision): number => {
  if (settings.verdictStatus !== "strict") return 200
  if (decision.verdict === "block") return 403
  if (decision.verdict === "require_approval" || decision.verdict === "dry_run") return 409
  return 200
}

const CLIENT_PATH_FIELDS = ["trace_path", "runpack_out", "pack_out", "session_journal"] as const

type Framing = "json" | "sse" | "stream"

const evaluate = (settings: ServeSettings, framing: Framing) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.method !== "POST") return yield* new RequestRejected({ status: 405, detail: "expected POST" })
    const auth = yield* Auth
    yield* auth.authorize({ headers: request.headers, remoteAddress: Option.getOrUndefined(request.remoteAddress) })
    const contentType = request.headers["content-type"]
    if (contentType !== undefined && contentType.split(";")[0]?.trim().toLowerCase() !== "application/json") {
      return yield* new RequestRejected({ status: 415, detail: "content-type must be application/json" })
    }
    const text = yield* readBoundedBody(NodeHttpServerRequest.toIncomingMessage(request), settings.maxRequestBytes)
    if (text.trim() === "") return yield* badRequest("decode request: EOF")
    const parsed = Either.try({ try: (): unknown => JSON.parse(text), catch: (e) => (e instanceof Error ? e.message : String(e)) })
    if (Either.isLeft(parsed)) {
      return yield* badRequest(
        /after JSON/.test(parsed.left)
          ? `request body must contain a single JSON object (${parsed.left})`
          : `decode request: ${parsed.left}`
      )
    }
    // Deeper documents would overflow the stack when the call is re-serialised for the adapter.
    if (exceedsDepth(parsed.right, MAX_JSON_DEPTH)) {
      return yield* badRequest(`decode request: exceeded max depth (${MAX_JSON_DEPTH} nested levels)`)
    }
    if (parsed.right === null || typeof parsed.right !== "object" || Array.isArray(parsed.right)) {
      return yield* badRequest("decode request: the body must be a JSON object")
    }
    const body = yield* Either.mapLeft(decodeRequest(parsed.right), (error) => {
      const problem = firstProblem(error)
      return badRequest(
        problem.unexpected
          ? `decode request: unknown field "${String(problem.path[0])}"`
          : `decode request: ${formatPath(problem.path) || "body"}: ${problem.message}`
      )
    })
    const call = body.call
    if (call === undefined || call === null || (typeof call === "object" && !Array.isArray(call) && Object.keys(call).length === 0)) {
      return yield* badRequest("request.call is required")
    }
    if (typeof call !== "object" || Array.isArray(call)) return yield* badRequest("decode request: call must be a JSON object")
    for (const field of CLIENT_PATH_FIELDS) {
      if ((body[field] ?? "").trim() === "") continue
      if (!settings.allowClientArtifactPaths) return yield* badRequest(`request.${field} is not allowed by server configuration`)
      // Runpacks and packs are not written for clients by this build; refuse rather than ignore.
      if (field === "runpack_out" || field === "pack_out") return yield* badRequest(`request.${field} is not supported by this server`)
    }
    const traceOut =
      settings.allowClientArtifactPaths && (body.trace_path ?? "").trim() !== ""
        ? yield* confinePath("trace_path", settings.traceDir, body.trace_path ?? "")
        : undefined
    const clientJournal =
      settings.allowClientArtifactPaths && (body.session_journal ?? "").trim() !== ""
        ? yield* confinePath("session_journal", settings.sessionDir ?? ".", body.session_journal ?? "")
        : undefined
    if (body.emit_pack === true) return yield* badRequest("request.emit_pack requires server --pack-dir")
    const decision = yield* evaluateToolCallPayload({
      adapter: body.adapter ?? settings.adapter,
      payload: JSON.stringify(call),
      policyPath: settings.policyPath,
      profile: settings.profile,
      runId: body.run_id,
      traceOut,
      traceDir: settings.traceDir,
      exportLogOut: settings.exportLogOut,
      exportOtelOut: settings.exportOtelOut
    })
    const journaled = yield* journal(settings, body, decision, clientJournal)
    // Rotation after every successful decision; it only ever adds warnings.
    const retention = yield* Effect.serviceOption(Retention)
    const rotated = [...journaled, ...(Option.isSome(retention) ? yield* retention.value.sweep : [])]
    const { exit_code, ...rest } = decision
    const decisionWithWarnings: ProxyDecision =
      rotated.length === 0 ? decision : { ...rest, warnings: [...(decision.warnings ?? []), ...rotated], exit_code }
    return respond(settings, framing, decisionWithWarnings)
  }).pipe(Effect.catchAll(errorResponse), Effect.catchAllDefect(errorResponse))

/** Longest session id (after sanitising) and run id, in UTF-8 bytes, a journal file name is built from. */
export const MAX_SESSION_NAME_BYTES = 100

/** `sess/a b:c` → `sess_a_b_c` (spec §5.7): safe as one file name inside the session directory. */
export const sessionFileBase = (id: string): string =>
  id.trim().replace(/[/\\ :]/g, "_").replace(/^[._]+|[._]+$/g, "") || "session"

/**
 * Per-request session journaling (§5.7): one event per decision in `<session-dir>/<id>.journal.jsonl`
 * through the `SessionStore` (locks, crash tolerance and sequences included), and a checkpoint every
 * `checkpoint_interval` events when a runpack directory is configured. Returns warnings.
 */
const journal = (settings: ServeSettings, body: typeof EvaluateRequest.Type, decision: ProxyDecision, clientJournal: string | undefined) =>
  Effect.gen(function* () {
    const store = yield* Effect.serviceOption(SessionStore)
    const sessionId = (body.session_id ?? "").trim() || (decision.session_id ?? "")
    const dir = settings.sessionDir ?? ""
    if (Option.isNone(store) || sessionId === "" || (dir === "" && clientJournal === undefined)) return []
    const base = sessionFileBase(sessionId)
    // Server-named journals embed both ids; past a file-name length the file system would refuse
    // them (a 500). Names are limited in bytes, not characters.
    const tooLong = (id: string) => Buffer.byteLength(id) > MAX_SESSION_NAME_BYTES
    if (clientJournal === undefined && (tooLong(base) || tooLong(decision.run_id))) {
      return yield* badRequest(`session_id and run_id must be at most ${MAX_SESSION_NAME_BYTES} bytes to be journaled`)
    }
    let journalPath = clientJournal ?? NodePath.join(dir, `${base}.journal.jsonl`)
    const started = yield* Effect.either(store.value.start(journalPath, { sessionId, runId: decision.run_id }))
    if (Either.isLeft(started)) {
      if (started.left._tag !== "SessionIdentityMismatch" || clientJournal !== undefined) return yield* started.left
      journalPath = NodePath.join(dir, `${base}_${decision.run_id}.journal.jsonl`)
      yield* store.value.start(journalPath, { sessionId, runId: decision.run_id })
    }
    const event = yield* store.value.append(journalPath, {
      toolName: decision.tool_name,
      verdict: decision.verdict,
      traceId: decision.trace_id,
      tracePath: decision.trace_path,
      intentDigest: decision.intent_digest,
      policyDigest: decision.policy_digest,
      policyId: decision.policy_id,
      policyVersion: decision.policy_version,
      reasonCodes: decision.reason_codes,
      violations: decision.violations
    })
    const warnings = [`session_journal=${journalPath} sequence=${event.sequence}`]
    const interval = body.checkpoint_interval ?? 0
    const runpackDir = settings.runpackDir ?? ""
    if (interval > 0 && runpackDir !== "" && event.sequence % interval === 0) {
      const out = NodePath.join(runpackDir, `${base}_cp_${String(event.sequence).padStart(6, "0")}.zip`)
      const cp = yield* store.value.checkpoint(journalPath, { out })
      warnings.push(`session_checkpoint=${out} chain=${cp.chainPath}`)
    }
    return warnings
  })

const respond = (settings: ServeSettings, framing: Framing, decision: ProxyDecision) => {
    const status = verdictStatus(settings, decision)
    if (framing === "sse") {
      return HttpServerResponse.text(`event: evaluate\ndata: ${renderJsonRecord(decision)}\n\n`, {
        status,
        contentType: "text/event-stream",
        headers: { "cache-control": "no-cache" }
      })
    }
    if (framing === "stream") {
      return HttpServerResponse.text(`${renderJsonRecord(decision)}\n`, { status, contentType: "application/x-ndjson" })
    }
    return jsonResponse(decision, status)
}

export const makeRouter = (settings: ServeSettings) =>
  HttpRouter.empty.pipe(
    HttpRouter.all("/healthz", healthz),
    HttpRouter.all("/v1/evaluate", evaluate(settings, "json")),
    HttpRouter.all("/v1/evaluate/sse", evaluate(settings, "sse")),
    HttpRouter.all("/v1/evaluate/stream", evaluate(settings, "stream"))
  )

const ROUTES = new Set(["/healthz", "/v1/evaluate", "/v1/evaluate/sse", "/v1/evaluate/stream"])
const notFound = jsonResponse({ ok: false, error: "not found", error_code: "not_found" }, 404)

/**
 * The HTTP app with JSON 404s. Paths match exactly (case, trailing and doubled slashes included):
 * the router alone would also accept `/v1/evaluate/` or `/HEALTHZ`.
 */
export const makeApp = (settings: ServeSettings) => {
  const router = makeRouter(settings).pipe(Effect.catchTag("RouteNotFound", () => Effect.succeed(notFound)))
  return Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    ROUTES.has(request.url.split("?")[0] ?? "") ? router : Effect.succeed(notFound)
  )
}
