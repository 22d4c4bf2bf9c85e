/**
 * Tool calls in the shapes of several agent frameworks (spec mcp.md §2), decoded with Effect Schema
 * into one canonical `ToolCall`, then converted into a gate intent request (§2.6). Unknown fields are
 * ignored (compatibility contract); wrong types are errors with the reference's message prefixes.
 */
import { Either, Option, Schema } from "effect"
import type { IntentRequest } from "../gate/intent-schema.js"
import { DEFAULT_CREATED_AT, formatRfc3339Nano, GO_ZERO_TIME, parseRfc3339 } from "../kernel/time.js"
import { exceedsDepth, MAX_JSON_DEPTH } from "../kernel/json-depth.js"
import { firstProblem, formatPath } from "../kernel/schema-errors.js"
import { optionalNullable as opt, OptBoolean, OptString, OptStringList } from "../kernel/schema-fields.js"

export class ToolCallInvalid extends Schema.TaggedError<ToolCallInvalid>()("ToolCallInvalid", {
  adapter: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
type JsonObject = typeof JsonObject.Type

export const ToolCallTarget = Schema.Struct({
  kind: OptString,
  value: OptString,
  operation: OptString,
  sensitivity: OptString,
  discovery_method: OptString,
  discoveryMethod: OptString,
  read_only_hint: OptBoolean,
  readOnlyHint: OptBoolean,
  destructive_hint: OptBoolean,
  destructiveHint: OptBoolean,
  idempotent_hint: OptBoolean,
  idempotentHint: OptBoolean,
  open_world_hint: OptBoolean,
  openWorldHint: OptBoolean,
  annotations: opt(JsonObject)
})
type ToolCallTarget = typeof ToolCallTarget.Type

const Provenance = Schema.Struct({ arg_path: OptString, source: OptString, source_ref: OptString, integrity_digest: OptString })

export const ToolCall = Schema.Struct({
  name: OptString,
  args: opt(JsonObject),
  script: opt(
    Schema.Struct({
      steps: opt(
        Schema.Array(
          Schema.Struct({ name: OptString, args: opt(JsonObject), targets: opt(Schema.Array(ToolCallTarget)), arg_provenance: opt(Schema.Array(Provenance)) })
        )
      )
    })
  ),
  target: OptString,
  targets: opt(Schema.Array(ToolCallTarget)),
  arg_provenance: opt(Schema.Array(Provenance)),
  server: opt(JsonObject),
  context: opt(
    Schema.Struct({
      identity: OptString,
      workspace: OptString,
      risk_class: OptString,
      phase: OptString,
      job_id: OptString,
      session_id: OptString,
      request_id: OptString,
      run_id: OptString,
      auth_mode: OptString,
      oauth_evidence: opt(JsonObject),
      auth_context: opt(JsonObject),
      credential_scopes: OptStringList,
      environment_fingerprint: OptString,
      context_envelope_path: OptString
    })
  ),
  delegation: opt(
    Schema.Struct({
      requester_identity: OptString,
      scope_class: OptString,
      token_refs: OptStringList,
      chain: opt(
        Schema.Array(
          Schema.Struct({ delegator_identity: OptString, delegate_identity: OptString, scope_class: OptString, token_ref: OptString })
        )
      )
    })
  ),
  created_at: OptString
}).annotations({ identifier: "ToolCall", title: "gait MCP tool call (canonical mcp adapter shape)" })
export type ToolCall = typeof ToolCall.Type

const decodeCall = Schema.decodeUnknownEither(ToolCall, { errors: "first", onExcessProperty: "ignore" })

const fail = (adapter: string, detail: string) => Either.left(new ToolCallInvalid({ adapter, detail }))

const parseJson = (text: string): Either.Either<unknown, string> =>
  Either.try({ try: (): unknown => JSON.parse(text), catch: (e) => (e instanceof Error ? e.message : String(e)) })

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v)

/** An object as is; absent/null → {}; a string holding a JSON object (blank → {}); anything else is an error. */
const decodeArguments = (value: unknown, adapter: string, label: string): Either.Either<JsonObject, ToolCallInvalid> => {
  if (value === undefined || value === null) return Either.right({})
  if (isObject(value)) return Either.right(value)
  if (typeof value === "string") {
    if (value.trim() === "") return Either.right({})
    const parsed = parseJson(value)
    if (Either.isLeft(parsed)) return fail(adapter, `${label}: ${parsed.left}`)
    if (parsed.right === null) return Either.right({})
    return isObject(parsed.right) ? Either.right(parsed.right) : fail(adapter, `${label}: expected a JSON object`)
  }
  return fail(adapter, `${label}: expected a JSON object`)
}

const parsePayload = (payload: string, adapter: string, label: string): Either.Either<unknown, ToolCallInvalid> => {
  const parsed = parseJson(payload)
  if (Either.isLeft(parsed)) return fail(adapter, `${label}: ${parsed.left}`)
  if (exceedsDepth(parsed.right, MAX_JSON_DEPTH)) return fail(adapter, `${label}: exceeded max depth (${MAX_JSON_DEPTH} nested levels)`)
  return Either.right(parsed.right)
}

const asCall = (value: unknown, adapter: string, label: string): Either.Either<ToolCall, ToolCallInvalid> =>
  Either.mapLeft(decodeCall(value), (error) => {
    const problem = firstProblem(error)
    return new ToolCallInvalid({ adapter, detail: `${label}: ${formatPath(problem.path) || "call"}: ${problem.message}` })
  })

/** A field that must be a string when present; absent or null reads as "". */
const stringField = (record: JsonObject, key: string, adapter: string, label: string): Either.Either<string, ToolCallInvalid> => {
  const v = record[key]
  if (v === undefined || v === null) return Either.right("")
  return typeof v === "string" ? Either.right(v) : fail(adapter, `${label}: ${key} must be a string`)
}

const CLAUDE_TOOL_NAMES: Record<string, string> = {
  read: "tool.read",
  grep: "tool.read",
  glob: "tool.read",
  webfetch: "tool.read",
  websearch: "tool.read",
  write: "tool.write",
  edit: "tool.write",
  notebookedit: "tool.write",
  bash: "tool.exec",
  task: "tool.delegate"
}

export const claudeToolName = (raw: string): string => {
  const name = raw.trim()
  const mapped = CLAUDE_TOOL_NAMES[name.toLowerCase().replace(/[ _-]/g, "")]
  if (mapped !== undefined) return mapped
  if (name.includes(".")) return name.toLowerCase()
  return `tool.${name.toLowerCase().replace(/[ -]/g, "_")}`
}

const firstString = (args: JsonObject, keys: ReadonlyArray<string>): string | undefined => {
  for (const key of keys) {
    const v = args[key]
    if (typeof v === "string" && v.trim() !== "") return v.trim()
  }
  return undefined
}

const claudeTargets = (tool: string, args: JsonObject): Array<ToolCallTarget> => {
  const pathKeys = ["path", "file_path", "filepath", "file"]
  const out: Array<ToolCallTarget> = []
  if (tool === "tool.read") {
    const path = firstString(args, pathKeys)
    if (path !== undefined) out.push({ kind: "path", value: path, operation: "read" })
    const url = firstString(args, ["url", "uri"])
    if (url !== undefined) out.push({ kind: "url", value: url, operation: "read" })
  } else if (tool === "tool.write") {
    const path = firstString(args, pathKeys)
    if (path !== undefined) out.push({ kind: "path", value: path, operation: "write" })
  } else if (tool === "tool.exec") {
    const command = firstString(args, ["command", "cmd", "script"])
    if (command !== undefined) out.push({ kind: "other", value: command, operation: "execute" })
  } else if (tool === "tool.delegate") {
    const task = firstString(args, ["task", "prompt", "description"])
    if (task !== undefined) out.push({ kind: "other", value: task, operation: "delegate" })
  }
  return out
}

/** Decodes a payload in an adapter's shape into the canonical tool call. */
export const decodeToolCall = (adapter: string, payload: string): Either.Either<ToolCall, ToolCallInvalid> => {
  const kind = adapter.trim().toLowerCase()
  switch (kind) {
    case "":
    case "mcp":
      return Either.flatMap(parsePayload(payload, kind, "parse mcp tool call"), (v) => asCall(v, kind, "parse mcp tool call"))
    case "openai":
      return Either.gen(function* () {
        const v = yield* parsePayload(payload, kind, "parse openai tool call")
        if (!isObject(v)) return yield* fail(kind, "parse openai tool call: expected a JSON object")
        if (v.function !== undefined && v.function !== null && !isObject(v.function)) {
          return yield* fail(kind, "parse openai tool call: function must be an object")
        }
        const fn = isObject(v.function) ? v.function : {}
        const name = yield* stringField(fn, "name", kind, "parse openai tool call")
        const args = yield* decodeArguments(fn.arguments, kind, "decode openai arguments")
        return { name, args }
      })
    case "anthropic":
      return Either.gen(function* () {
        const v = yield* parsePayload(payload, kind, "parse anthropic tool call")
        if (!isObject(v)) return yield* fail(kind, "parse anthropic tool call: expected a JSON object")
        if (v.input !== undefined && v.input !== null && !isObject(v.input)) {
          return yield* fail(kind, "parse anthropic tool call: input must be a JSON object")
        }
        const name = yield* stringField(v, "name", kind, "parse anthropic tool call")
        return { name, args: isObject(v.input) ? v.input : {} }
      })
    case "langchain":
      return Either.gen(function* () {
        const v = yield* parsePayload(payload, kind, "parse langchain tool call")
        if (!isObject(v)) return yield* fail(kind, "parse langchain tool call: expected a JSON object")
        const name = yield* stringField(v, "tool", kind, "parse langchain tool call")
        const args = yield* decodeArguments(v.tool_input, kind, "decode langchain tool_input")
        return { name, args }
      })
    case "claude_code":
    case "claude-code":
    case "claudecode":
      return Either.gen(function* () {
        const v = yield* parsePayload(payload, kind, "parse claude code tool call")
        if (!isObject(v)) return yield* fail(kind, "parse claude code tool call: expected a JSON object")
        const label = "parse claude code tool call"
        const rawName = (yield* stringField(v, "tool_name", kind, label)).trim() || (yield* stringField(v, "name", kind, label)).trim()
        if (rawName === "") return yield* fail(kind, "claude code tool call name is required")
        const input = v.tool_input === undefined || v.tool_input === null ? v.input : v.tool_input
        const args = yield* decodeArguments(input, kind, "decode claude code tool_input")
        const name = claudeToolName(rawName)
        const sessionId = (yield* stringField(v, "session_id", kind, label)).trim()
        const hook = (yield* stringField(v, "hook_event_name", kind, label)).trim()
        const context = {
          ...(sessionId === "" ? {} : { session_id: sessionId }),
          ...(hook === "" ? {} : { auth_context: { hook_event_name: hook, adapter: "claude_code" } })
        }
        const targets = claudeTargets(name, args)
        return {
          name,
          args,
          ...(targets.length === 0 ? {} : { targets }),
          ...(Object.keys(context).length === 0 ? {} : { context })
        }
      })
    default:
      return fail(adapter, `unsupported adapter: ${adapter}`)
  }
}

/** A hint from an annotation: a bool, or the strings "true"/"false"; anything else is ignored. */
const annotationBool = (annotations: JsonObject | null | undefined, keys: ReadonlyArray<string>): boolean | undefined => {
  for (const key of keys) {
    const v = annotations?.[key]
    if (typeof v === "boolean") return v
    if (typeof v === "string") {
      const t = v.trim().toLowerCase()
      if (t === "true") return true
      if (t === "false") return false
    }
  }
  return undefined
}

const toIntentTarget = (t: ToolCallTarget) => {
  const a = t.annotations
  const hint = (snake: string, camel: string, base: boolean | null | undefined, alias: boolean | null | undefined) =>
    annotationBool(a, [snake, camel]) ?? (base === true || alias === true)
  // Any annotation string overrides (even ""); otherwise the snake field, then its camel alias.
  const discovery = (
    typeof a?.discovery_method === "string"
      ? a.discovery_method
      : typeof a?.discoveryMethod === "string"
        ? a.discoveryMethod
        : (t.discovery_method ?? "").trim() || (t.discoveryMethod ?? "")
  ).trim()
  return {
    kind: (t.kind ?? "").trim(),
    value: (t.value ?? "").trim(),
    operation: (t.operation ?? "").trim(),
    sensitivity: (t.sensitivity ?? "").trim(),
    discovery_method: discovery,
    read_only_hint: hint("read_only_hint", "readOnlyHint", t.read_only_hint, t.readOnlyHint),
    destructive_hint: hint("destructive_hint", "destructiveHint", t.destructive_hint, t.destructiveHint),
    idempotent_hint: hint("idempotent_hint", "idempotentHint", t.idempotent_hint, t.idempotentHint),
    open_world_hint: hint("open_world_hint", "openWorldHint", t.open_world_hint, t.openWorldHint)
  }
}

const inferTarget = (value: string) => ({
  kind: value.includes("://") ? "url" : value.includes("/") ? "path" : "host",
  value
})

const trimProvenance = (p: typeof Provenance.Type) => ({
  arg_path: (p.arg_path ?? "").trim(),
  source: (p.source ?? "").trim(),
  source_ref: (p.source_ref ?? "").trim(),
  integrity_digest: (p.integrity_digest ?? "").trim()
})

/** The call's created_at in UTC (unparsable text is passed on, so the intent decoder reports it). */
const createdAtOf = (raw: string | null | undefined): string => {
  const text = (raw ?? "").trim()
  if (text === "") return DEFAULT_CREATED_AT
  const parsed = parseRfc3339(text)
  if (Option.isNone(parsed)) return text
  const formatted = formatRfc3339Nano(parsed.value)
  return formatted === GO_ZERO_TIME ? DEFAULT_CREATED_AT : formatted
}

/** §2.6: the gate intent request of a tool call; `strict` is the oss-prod context rule. */
export const toIntentRequest = (call: ToolCall, options: { readonly strict: boolean }): Either.Either<IntentRequest, ToolCallInvalid> =>
  Either.gen(function* () {
    const steps = call.script?.steps ?? []
    const name = (call.name ?? "").trim()
    if (name === "" && steps.length === 0) return yield* fail("", "tool call name is required")
    for (const [i, step] of steps.entries()) {
      if ((step.name ?? "").trim() === "") return yield* fail("", `script.steps[${i}].name is required`)
    }
    const ctx = call.context ?? {}
    const identity = (ctx.identity ?? "").trim()
    const workspace = (ctx.workspace ?? "").trim()
    const sessionId = (ctx.session_id ?? "").trim()
    if (options.strict) {
      if (identity === "") return yield* fail("", "context.identity is required in strict profile")
      if (workspace === "") return yield* fail("", "context.workspace is required in strict profile")
      if (sessionId === "") return yield* fail("", "context.session_id is required in strict profile")
    }
    const authContext: Record<string, unknown> = { ...(ctx.auth_context ?? {}) }
    const authMode = (ctx.auth_mode ?? "").trim()
    if (authMode !== "") authContext.auth_mode = authMode
    if (ctx.oauth_evidence !== undefined && ctx.oauth_evidence !== null) authContext.oauth_evidence = ctx.oauth_evidence
    const legacy = (call.target ?? "").trim()
    const targets = (call.targets ?? []).length > 0 ? (call.targets ?? []).map(toIntentTarget) : legacy === "" ? [] : [inferTarget(legacy)]
    const d = call.delegation
    const request: IntentRequest = {
      schema_id: "gait.gate.intent_request",
      schema_version: "1.0.0",
      created_at: createdAtOf(call.created_at),
      producer_version: "0.0.0-dev",
      tool_name: steps.length > 0 ? "script" : name,
      args: steps.length > 0 ? {} : (call.args ?? {}),
      targets,
      arg_provenance: (call.arg_provenance ?? []).map(trimProvenance),
      ...(steps.length === 0
        ? {}
        : {
            script: {
              steps: steps.map((s) => ({
                tool_name: (s.name ?? "").trim(),
                args: s.args ?? {},
                targets: (s.targets ?? []).map(toIntentTarget),
                arg_provenance: (s.arg_provenance ?? []).map(trimProvenance)
              }))
            }
          }),
      ...(d === undefined || d === null
        ? {}
        : {
            delegation: {
              requester_identity: (d.requester_identity ?? "").trim(),
              scope_class: (d.scope_class ?? "").trim(),
              token_refs: (d.token_refs ?? []).map((r) => r.trim()),
              chain: (d.chain ?? []).map((l) => ({
                delegator_identity: (l.delegator_identity ?? "").trim(),
                delegate_identity: (l.delegate_identity ?? "").trim(),
                scope_class: (l.scope_class ?? "").trim(),
                token_ref: (l.token_ref ?? "").trim()
              }))
            }
          }),
      context: {
        identity: identity || "mcp-proxy",
        workspace: workspace || ".",
        risk_class: (ctx.risk_class ?? "").trim() || "high",
        phase: (ctx.phase ?? "").trim(),
        job_id: (ctx.job_id ?? "").trim(),
        session_id: sessionId,
        request_id: (ctx.request_id ?? "").trim(),
        environment_fingerprint: (ctx.environment_fingerprint ?? "").trim(),
        credential_scopes: (ctx.credential_scopes ?? []).map((s) => s.trim()),
        ...(Object.keys(authContext).length === 0 ? {} : { auth_context: authContext })
      }
    }
    return request
  })

/** §3 step 13: the standard profile filled in context the call did not carry. */
export const usedContextFallback = (call: ToolCall): boolean => {
  const ctx = call.context ?? {}
  return [ctx.identity, ctx.workspace, ctx.session_id].some((v) => (v ?? "").trim() === "")
}

export const CONTEXT_FALLBACK_WARNING =
  "standard profile applied fallback intent context; use --profile oss-prod for strict context enforcement"
