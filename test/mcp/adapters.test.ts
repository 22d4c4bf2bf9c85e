// Tool-call adapters (spec mcp.md §2.1–§2.5) and the ToolCall → intent request conversion (§2.6);
// ports the adapter and conversion cases of core/mcp/proxy_test.go (§9) and the §10.1 payloads.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { prepareIntent } from "../../src/gate/intent.js"
import type { IntentRequest } from "../../src/gate/intent-schema.js"
import { decodeToolCall, type ToolCall, ToolCallInvalid, toIntentRequest } from "../../src/mcp/toolcall.js"

// ---------------------------------------------------------------------------------------------
// helpers

const unwrap = <A, E>(either: Either.Either<A, E>): A => {
  if (Either.isRight(either)) return either.right
  const left: unknown = either.left
  throw new Error(`expected Right, got Left: ${left instanceof Error ? `${left.name}: ${left.message}` : String(left)}`)
}

const unwrapLeft = <A, E>(either: Either.Either<A, E>): E => {
  if (Either.isLeft(either)) return either.left
  throw new Error(`expected Left, got Right: ${JSON.stringify(either.right)}`)
}

const text = (payload: unknown): string => (typeof payload === "string" ? payload : JSON.stringify(payload))

const decode = (adapter: string, payload: unknown): ToolCall => unwrap(decodeToolCall(adapter, text(payload)))

const decodeError = (adapter: string, payload: unknown): ToolCallInvalid => unwrapLeft(decodeToolCall(adapter, text(payload)))

/** A canonical (mcp adapter) call from a JSON-able object, so tests exercise the real decoder. */
const mcp = (payload: object): ToolCall => decode("mcp", payload)

const convert = (call: ToolCall, strict = false): IntentRequest => unwrap(toIntentRequest(call, { strict }))

const convertError = (call: ToolCall, strict = false): ToolCallInvalid => unwrapLeft(toIntentRequest(call, { strict }))

const expectInvalid = (error: ToolCallInvalid, message: string): void => {
  expect(error).toBeInstanceOf(ToolCallInvalid)
  expect(error._tag).toBe("ToolCallInvalid")
  expect(error.message).toBe(message)
  expect(error.detail).toBe(message)
}

/** The error's message starts with `prefix` and carries a non-empty cause after it. */
const expectPrefix = (error: ToolCallInvalid, prefix: string): void => {
  expect(error._tag).toBe("ToolCallInvalid")
  expect(error.message.slice(0, prefix.length)).toBe(prefix)
  expect(error.message.length).toBeGreaterThan(prefix.length)
  expect(error.detail).toBe(error.message)
}

/** Go's `omitempty` view of an object: drops "", false, null, undefined and empty lists. */
const compact = (value: object): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(value).filter(
      ([, v]) => v !== "" && v !== false && v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)
    )
  )

const callTargets = (call: ToolCall): Array<Record<string, unknown>> => (call.targets ?? []).map(compact)

const intentTargets = (intent: IntentRequest): Array<Record<string, unknown>> => (intent.targets ?? []).map(compact)

const argsOf = (call: ToolCall): unknown => call.args ?? {}

/** The converted intent must be accepted by the gate's normalisation. */
const prepared = (intent: IntentRequest) => unwrap(prepareIntent(intent))

// ---------------------------------------------------------------------------------------------
// adapter dispatch (§2 table)

describe("decodeToolCall: adapter dispatch (§2)", () => {
  it("§10.1 sample payloads decode through every adapter (TestDecodeToolCallAdapters)", () => {
    const openai = decode("openai", {
      type: "function",
      function: { name: "tool.write", arguments: JSON.stringify({ path: "/tmp/out.txt" }) }
    })
    expect(openai.name).toBe("tool.write")
    expect(argsOf(openai)).toEqual({ path: "/tmp/out.txt" })

    const anthropic = decode("anthropic", { type: "tool_use", name: "tool.fetch", input: { url: "https://example.local" } })
    expect(anthropic.name).toBe("tool.fetch")
    expect(argsOf(anthropic)).toEqual({ url: "https://example.local" })

    const claude = decode("claude_code", {
      session_id: "sess-claude-1",
      tool_name: "Bash",
      tool_input: { command: "npm test" },
      hook_event_name: "PreToolUse"
    })
    expect(claude.name).toBe("tool.exec")
    expect(argsOf(claude)).toEqual({ command: "npm test" })
    expect(claude.context?.session_id).toBe("sess-claude-1")
    expect(claude.context?.auth_context).toEqual({ hook_event_name: "PreToolUse", adapter: "claude_code" })
    expect(callTargets(claude)).toEqual([{ kind: "other", value: "npm test", operation: "execute" }])

    const langchain = decode("langchain", { tool: "tool.search", tool_input: { query: "gait" } })
    expect(langchain.name).toBe("tool.search")
    expect(argsOf(langchain)).toEqual({ query: "gait" })

    const legacy = decode("mcp", { name: "tool.read", args: { path: "/tmp/in.txt" }, target: "api.external.com" })
    expect(legacy.name).toBe("tool.read")
    expect(legacy.target).toBe("api.external.com")
    expect(argsOf(legacy)).toEqual({ path: "/tmp/in.txt" })
  })

  it("the adapter name is trimmed and lower-cased; empty means mcp", () => {
    const payload = { name: "tool.search", args: { query: "gait" } }
    for (const adapter of ["", "mcp", " MCP ", "Mcp\t"]) {
      const call = decode(adapter, payload)
      expect(call.name).toBe("tool.search")
      expect(argsOf(call)).toEqual({ query: "gait" })
    }
    expect(decode(" OpenAI ", { function: { name: "tool.a", arguments: "{}" } }).name).toBe("tool.a")
    expect(decode("ANTHROPIC", { name: "tool.b" }).name).toBe("tool.b")
    expect(decode(" LangChain", { tool: "tool.c" }).name).toBe("tool.c")
  })

  it("claude_code accepts the aliases claude-code and claudecode, in any case", () => {
    const payload = { tool_name: "Bash", tool_input: { command: "ls" } }
    for (const adapter of ["claude_code", "claude-code", "claudecode", " Claude_Code ", "CLAUDE-CODE", "ClaudeCode"]) {
      expect(decode(adapter, payload).name).toBe("tool.exec")
    }
  })

  it("an unknown adapter is rejected, naming the adapter exactly as passed", () => {
    expectInvalid(decodeError("unsupported", "{}"), "unsupported adapter: unsupported")
    expectInvalid(decodeError(" Gemini ", "{}"), "unsupported adapter:  Gemini ")
    expectInvalid(decodeError("claude code", "{}"), "unsupported adapter: claude code")
    expectInvalid(decodeError("openai_v2", "{}"), "unsupported adapter: openai_v2")
  })

  it("the adapter is checked before the payload is parsed", () => {
    expectInvalid(decodeError("nope", "{not json"), "unsupported adapter: nope")
  })

  it("ToolCallInvalid is a Schema.TaggedError whose message is its detail", () => {
    const error = decodeError("x", "{}")
    expect(error).toBeInstanceOf(Error)
    expect(error).toBeInstanceOf(ToolCallInvalid)
    expect(error.detail).toBe("unsupported adapter: x")
    expect(error.message).toBe(error.detail)
  })
})

// ---------------------------------------------------------------------------------------------
// §2.1 mcp

describe("decodeToolCall: mcp canonical shape (§2.1)", () => {
  it("keeps the §2.1 field names", () => {
    const call = mcp({
      name: "tool.write",
      args: { path: "/data/out.txt" },
      target: "api.external.com",
      targets: [
        {
          kind: "path",
          value: "/data/out.txt",
          operation: "write",
          sensitivity: "internal",
          discovery_method: "webmcp",
          read_only_hint: true,
          destructiveHint: true,
          annotations: { idempotent_hint: "true" }
        }
      ],
      arg_provenance: [{ arg_path: "$.path", source: "user", source_ref: "r", integrity_digest: "" }],
      server: { server_id: "github", server_name: "GitHub", publisher: "acme", source: "snyk", endpoint: "" },
      context: {
        identity: "alice",
        workspace: "/repo/gait",
        risk_class: "high",
        phase: "plan",
        job_id: "job-1",
        session_id: "sess-1",
        request_id: "req-1",
        run_id: "run_mcp_case",
        auth_mode: "oauth_dcr",
        oauth_evidence: { issuer: "https://auth.example.com", audience: ["gait"], client_id: "cli-123" },
        auth_context: { provider: "oidc" },
        credential_scopes: ["tool:tool.write"],
        environment_fingerprint: "env:test"
      },
      delegation: {
        requester_identity: "agent.specialist",
        scope_class: "write",
        token_refs: ["delegation_a"],
        chain: [{ delegator_identity: "agent.lead", delegate_identity: "agent.specialist", scope_class: "write", token_ref: "t" }]
      },
      script: { steps: [{ name: "tool.read", args: { path: "/a" } }] },
      created_at: "2026-02-05T00:00:00Z"
    })
    expect(call.name).toBe("tool.write")
    expect(call.args).toEqual({ path: "/data/out.txt" })
    expect(call.target).toBe("api.external.com")
    expect(call.targets?.[0]?.discovery_method).toBe("webmcp")
    expect(call.targets?.[0]?.read_only_hint).toBe(true)
    expect(call.targets?.[0]?.destructiveHint).toBe(true)
    expect(call.targets?.[0]?.annotations).toEqual({ idempotent_hint: "true" })
    expect(call.arg_provenance?.[0]?.arg_path).toBe("$.path")
    expect(call.context?.identity).toBe("alice")
    expect(call.context?.run_id).toBe("run_mcp_case")
    expect(call.context?.auth_mode).toBe("oauth_dcr")
    expect(call.context?.oauth_evidence).toEqual({ issuer: "https://auth.example.com", audience: ["gait"], client_id: "cli-123" })
    expect(call.context?.auth_context).toEqual({ provider: "oidc" })
    expect(call.context?.credential_scopes).toEqual(["tool:tool.write"])
    expect(call.delegation?.requester_identity).toBe("agent.specialist")
    expect(call.delegation?.chain?.[0]?.delegator_identity).toBe("agent.lead")
    expect(call.script?.steps?.[0]?.name).toBe("tool.read")
    expect(call.created_at).toBe("2026-02-05T00:00:00Z")
  })

  it("unknown fields are ignored, at the top level and inside targets", () => {
    const call = mcp({
      name: "tool.write",
      extra: { anything: 1 },
      targets: [{ kind: "path", value: "/a", destructive: true, surprise: "x" }]
    })
    expect(call.name).toBe("tool.write")
    expect(callTargets(call)).toEqual([{ kind: "path", value: "/a" }])
  })

  it("null for an object field reads as empty", () => {
    const call = mcp({ name: "tool.x", args: null, context: null, targets: null, script: null, delegation: null })
    expect(call.name).toBe("tool.x")
    const intent = convert(call)
    expect(intent.args).toEqual({})
    expect(intent.context?.identity).toBe("mcp-proxy")
    expect(intent.script ?? undefined).toBeUndefined()
    expect(intent.delegation ?? undefined).toBeUndefined()
  })

  it("malformed JSON is `parse mcp tool call: …`", () => {
    expectPrefix(decodeError("mcp", "{"), "parse mcp tool call: ")
    expectPrefix(decodeError("", "not json"), "parse mcp tool call: ")
    expectPrefix(decodeError("mcp", ""), "parse mcp tool call: ")
  })

  it("type mismatches are `parse mcp tool call: …`", () => {
    expectPrefix(decodeError("mcp", { name: "tool.x", args: "not-an-object" }), "parse mcp tool call: ")
    expectPrefix(decodeError("mcp", { name: 5 }), "parse mcp tool call: ")
    expectPrefix(decodeError("mcp", { name: "tool.x", targets: {} }), "parse mcp tool call: ")
    expectPrefix(decodeError("mcp", { name: "tool.x", context: "alice" }), "parse mcp tool call: ")
    expectPrefix(decodeError("mcp", { name: "tool.x", targets: [{ read_only_hint: "yes" }] }), "parse mcp tool call: ")
    expectPrefix(decodeError("mcp", []), "parse mcp tool call: ")
  })
})

// ---------------------------------------------------------------------------------------------
// §2.2 openai

describe("decodeToolCall: openai (§2.2)", () => {
  const fn = (fields: object) => ({ type: "function", function: fields })

  it("string arguments are parsed as a JSON object (§10.1)", () => {
    const call = decode("openai", fn({ name: "tool.search", arguments: '{"query":"gait"}' }))
    expect(call.name).toBe("tool.search")
    expect(argsOf(call)).toEqual({ query: "gait" })
  })

  it("object arguments are used as is (TestDecodeToolCallOpenAIArgumentShapes)", () => {
    const call = decode("openai", fn({ name: "tool.fetch", arguments: { url: "https://example.local/object" } }))
    expect(call.name).toBe("tool.fetch")
    expect(argsOf(call)).toEqual({ url: "https://example.local/object" })
  })

  it("null, absent, blank and JSON-null arguments give {}", () => {
    for (const fields of [
      { name: "tool.noop", arguments: null },
      { name: "tool.noop" },
      { name: "tool.noop", arguments: "" },
      { name: "tool.noop", arguments: "  \n " },
      { name: "tool.noop", arguments: "null" }
    ]) {
      const call = decode("openai", fn(fields))
      expect(call.name).toBe("tool.noop")
      expect(argsOf(call)).toEqual({})
    }
  })

  it("the type field is ignored", () => {
    expect(decode("openai", { type: "something_else", function: { name: "tool.a" } }).name).toBe("tool.a")
    expect(decode("openai", { function: { name: "tool.a" } }).name).toBe("tool.a")
  })

  it("arguments that are not a JSON object are `decode openai arguments: …`", () => {
    for (const args of ["{", "[1,2]", '"text"', "42", "gait", 42, [1, 2], true]) {
      expectPrefix(decodeError("openai", fn({ name: "tool.a", arguments: args })), "decode openai arguments: ")
    }
  })

  it("a payload that is not a JSON object is `parse openai tool call: …`", () => {
    expectPrefix(decodeError("openai", "{"), "parse openai tool call: ")
    expectPrefix(decodeError("openai", "[]"), "parse openai tool call: ")
    expectPrefix(decodeError("openai", '"x"'), "parse openai tool call: ")
  })

  it("type mismatches in the envelope are `parse openai tool call: …`", () => {
    expectPrefix(decodeError("openai", { function: "tool.a" }), "parse openai tool call: ")
    expectPrefix(decodeError("openai", { function: { name: 5, arguments: "{}" } }), "parse openai tool call: ")
  })

  it("a missing function.name decodes to an empty name, rejected by the conversion", () => {
    const call = decode("openai", fn({ arguments: "{}" }))
    expect(call.name ?? "").toBe("")
    expectInvalid(convertError(call), "tool call name is required")
    expectInvalid(convertError(decode("openai", {})), "tool call name is required")
  })

  it("produces only name and args: the context falls back to defaults, strict fails", () => {
    const call = decode("openai", fn({ name: "tool.search", arguments: '{"query":"gait"}' }))
    expect(call.context ?? undefined).toBeUndefined()
    expect(callTargets(call)).toEqual([])
    const intent = convert(call)
    expect(intent.context?.identity).toBe("mcp-proxy")
    expectInvalid(convertError(call, true), "context.identity is required in strict profile")
  })
})

// ---------------------------------------------------------------------------------------------
// §2.3 anthropic

describe("decodeToolCall: anthropic (§2.3)", () => {
  it("tool_use input becomes args", () => {
    const call = decode("anthropic", { type: "tool_use", name: "tool.search", input: { query: "gait" } })
    expect(call.name).toBe("tool.search")
    expect(argsOf(call)).toEqual({ query: "gait" })
  })

  it("absent or null input gives {}", () => {
    expect(argsOf(decode("anthropic", { type: "tool_use", name: "tool.a" }))).toEqual({})
    expect(argsOf(decode("anthropic", { type: "tool_use", name: "tool.a", input: null }))).toEqual({})
    expect(convert(decode("anthropic", { name: "tool.a", input: null })).args).toEqual({})
  })

  it("a non-object input is `parse anthropic tool call: …`", () => {
    for (const input of ['{"query":"gait"}', "gait", 5, [1], true]) {
      expectPrefix(decodeError("anthropic", { type: "tool_use", name: "tool.a", input }), "parse anthropic tool call: ")
    }
  })

  it("malformed payloads and type mismatches are `parse anthropic tool call: …`", () => {
    expectPrefix(decodeError("anthropic", "{"), "parse anthropic tool call: ")
    expectPrefix(decodeError("anthropic", "[]"), "parse anthropic tool call: ")
    expectPrefix(decodeError("anthropic", { name: 5, input: {} }), "parse anthropic tool call: ")
  })
})

// ---------------------------------------------------------------------------------------------
// §2.4 langchain

describe("decodeToolCall: langchain (§2.4)", () => {
  it("object tool_input is used as is", () => {
    const call = decode("langchain", { tool: "tool.search", tool_input: { query: "gait" } })
    expect(call.name).toBe("tool.search")
    expect(argsOf(call)).toEqual({ query: "gait" })
  })

  it("a string tool_input holding a JSON object is parsed", () => {
    expect(argsOf(decode("langchain", { tool: "tool.search", tool_input: '{"query":"gait"}' }))).toEqual({ query: "gait" })
  })

  it("null, absent and blank tool_input give {}", () => {
    for (const payload of [{ tool: "tool.a" }, { tool: "tool.a", tool_input: null }, { tool: "tool.a", tool_input: "   " }]) {
      expect(argsOf(decode("langchain", payload))).toEqual({})
    }
  })

  it("plain-text and non-object tool_input are `decode langchain tool_input: …`", () => {
    for (const input of ["gait", "{", "[1]", 5, [1, 2], true]) {
      expectPrefix(decodeError("langchain", { tool: "tool.search", tool_input: input }), "decode langchain tool_input: ")
    }
  })

  it("malformed payloads and type mismatches are `parse langchain tool call: …`", () => {
    expectPrefix(decodeError("langchain", "{"), "parse langchain tool call: ")
    expectPrefix(decodeError("langchain", "[]"), "parse langchain tool call: ")
    expectPrefix(decodeError("langchain", { tool: 5, tool_input: {} }), "parse langchain tool call: ")
  })
})

// ---------------------------------------------------------------------------------------------
// §2.5 claude_code

describe("decodeToolCall: claude_code (§2.5)", () => {
  const nameOf = (toolName: string): string => decode("claude_code", { tool_name: toolName, tool_input: {} }).name ?? ""

  it.each([
    ["Read", "tool.read"],
    ["Grep", "tool.read"],
    ["Glob", "tool.read"],
    ["WebFetch", "tool.read"],
    ["WebSearch", "tool.read"],
    ["Web Search", "tool.read"],
    ["web_fetch", "tool.read"],
    ["Write", "tool.write"],
    ["Edit", "tool.write"],
    ["NotebookEdit", "tool.write"],
    ["Notebook-Edit", "tool.write"],
    ["Bash", "tool.exec"],
    [" bash ", "tool.exec"],
    ["Task", "tool.delegate"],
    ["MultiEdit", "tool.multiedit"],
    ["Custom Action", "tool.custom_action"],
    ["Custom-Action", "tool.custom_action"],
    ["my_tool", "tool.my_tool"],
    ["tool.custom.ACTION", "tool.custom.action"],
    ["mcp__github.Create Issue", "mcp__github.create issue"]
  ])("normalises the tool name %j → %s", (raw, expected) => {
    expect(nameOf(raw)).toBe(expected)
  })

  it("NotebookEdit via claude-code maps to tool.write with a path write target", () => {
    const call = decode("claude-code", { tool_name: "NotebookEdit", tool_input: { file_path: "/tmp/notebook.ipynb" } })
    expect(call.name).toBe("tool.write")
    expect(callTargets(call)).toEqual([{ kind: "path", value: "/tmp/notebook.ipynb", operation: "write" }])
  })

  it("legacy name and input are used when tool_name / tool_input are absent (claudecode alias)", () => {
    const call = decode("claudecode", { name: "Custom Action", input: { arg: "value" } })
    expect(call.name).toBe("tool.custom_action")
    expect(argsOf(call)).toEqual({ arg: "value" })
    expect(callTargets(call)).toEqual([])
  })

  it("legacy name Read with input.url gives tool.read and a url read target", () => {
    const call = decode("claude_code", { name: "Read", input: { url: "https://example.local/resource" } })
    expect(call.name).toBe("tool.read")
    expect(callTargets(call)).toEqual([{ kind: "url", value: "https://example.local/resource", operation: "read" }])
  })

  it("the legacy fallbacks apply to empty or null tool_name and null tool_input; tool_name wins otherwise", () => {
    expect(decode("claude_code", { tool_name: "", name: "Read" }).name).toBe("tool.read")
    expect(decode("claude_code", { tool_name: "  ", name: "Write" }).name).toBe("tool.write")
    expect(decode("claude_code", { tool_name: null, name: "Bash" }).name).toBe("tool.exec")
    expect(decode("claude_code", { tool_name: "Bash", name: "Read" }).name).toBe("tool.exec")
    expect(argsOf(decode("claude_code", { tool_name: "Bash", tool_input: null, input: { command: "ls" } }))).toEqual({
      command: "ls"
    })
    expect(argsOf(decode("claude_code", { tool_name: "Bash", tool_input: { command: "a" }, input: { command: "b" } }))).toEqual({
      command: "a"
    })
  })

  it("tool_input goes through the argument decoder: JSON string, blank and null", () => {
    expect(argsOf(decode("claude_code", { tool_name: "Bash", tool_input: '{"command":"ls"}' }))).toEqual({ command: "ls" })
    expect(argsOf(decode("claude_code", { tool_name: "Bash", tool_input: " " }))).toEqual({})
    expect(argsOf(decode("claude_code", { tool_name: "Bash" }))).toEqual({})
  })

  it("errors: malformed JSON, blank name, non-object tool_input", () => {
    expectPrefix(decodeError("claude_code", "{"), "parse claude code tool call: ")
    expectPrefix(decodeError("claude_code", "[]"), "parse claude code tool call: ")
    expectInvalid(decodeError("claude_code", { tool_name: " " }), "claude code tool call name is required")
    expectInvalid(decodeError("claude_code", {}), "claude code tool call name is required")
    expectInvalid(decodeError("claude_code", { tool_name: "", name: "  " }), "claude code tool call name is required")
    expectPrefix(
      decodeError("claude_code", { tool_name: "Read", tool_input: ["not", "an", "object"] }),
      "decode claude code tool_input: "
    )
    expectPrefix(decodeError("claude_code", { tool_name: "Bash", tool_input: "npm test" }), "decode claude code tool_input: ")
    expectPrefix(decodeError("claude_code", { tool_name: "Bash", tool_input: 5 }), "decode claude code tool_input: ")
  })

  it("type mismatches in the envelope are `parse claude code tool call: …`", () => {
    expectPrefix(decodeError("claude_code", { tool_name: 5, name: "Read" }), "parse claude code tool call: ")
    expectPrefix(decodeError("claude_code", { tool_name: "Bash", session_id: 7 }), "parse claude code tool call: ")
  })

  it("session_id is trimmed into context; hook_event_name goes into auth_context with adapter claude_code", () => {
    const call = decode("claude_code", {
      session_id: "  sess-claude-case ",
      hook_event_name: "PreToolUse",
      tool_name: "WebSearch",
      tool_input: { query: "gait" }
    })
    expect(call.name).toBe("tool.read")
    expect(callTargets(call)).toEqual([])
    expect(call.context?.session_id).toBe("sess-claude-case")
    expect(call.context?.auth_context).toEqual({ hook_event_name: "PreToolUse", adapter: "claude_code" })
  })

  it("the hook event name is not validated", () => {
    const call = decode("claude_code", { tool_name: "Bash", hook_event_name: "SomethingNew" })
    expect(call.context?.auth_context).toEqual({ hook_event_name: "SomethingNew", adapter: "claude_code" })
  })

  it("no session_id and no hook_event_name leave the context empty", () => {
    const call = decode("claude_code", { tool_name: "Bash", session_id: "  ", tool_input: { command: "ls" } })
    expect(call.context?.session_id ?? "").toBe("")
    expect(call.context?.auth_context ?? undefined).toBeUndefined()
  })

  describe("target inference (TestInferClaudeCodeTargetsAndFirstNonEmptyString)", () => {
    const targetsOf = (toolName: string, input: object) => callTargets(decode("claude_code", { tool_name: toolName, tool_input: input }))

    it("read: path first, then url", () => {
      expect(targetsOf("Read", { file_path: "/tmp/read.txt", url: "https://example.local/read" })).toEqual([
        { kind: "path", value: "/tmp/read.txt", operation: "read" },
        { kind: "url", value: "https://example.local/read", operation: "read" }
      ])
      expect(targetsOf("WebFetch", { uri: " https://example.local/u ", prompt: "summarise" })).toEqual([
        { kind: "url", value: "https://example.local/u", operation: "read" }
      ])
      expect(targetsOf("Grep", { pattern: "x", path: "src" })).toEqual([{ kind: "path", value: "src", operation: "read" }])
    })

    it("the path keys are tried in order path, file_path, filepath, file", () => {
      expect(targetsOf("Read", { file: "/d", filepath: "/c", file_path: "/b", path: "/a" })).toEqual([
        { kind: "path", value: "/a", operation: "read" }
      ])
      expect(targetsOf("Read", { file: "/d", filepath: "/c", file_path: "/b" })).toEqual([
        { kind: "path", value: "/b", operation: "read" }
      ])
      expect(targetsOf("Read", { file: "/d", filepath: "/c" })).toEqual([{ kind: "path", value: "/c", operation: "read" }])
      expect(targetsOf("Read", { file: "/d" })).toEqual([{ kind: "path", value: "/d", operation: "read" }])
    })

    it("blank and non-string values are skipped; values are trimmed", () => {
      expect(targetsOf("Read", { path: "  ", file_path: 5, filepath: { x: 1 }, file: " /tmp/f.txt " })).toEqual([
        { kind: "path", value: "/tmp/f.txt", operation: "read" }
      ])
      expect(targetsOf("Read", { path: "", url: " " })).toEqual([])
    })

    it("write: a path write target", () => {
      expect(targetsOf("Write", { filepath: "/tmp/write.txt", content: "x" })).toEqual([
        { kind: "path", value: "/tmp/write.txt", operation: "write" }
      ])
      expect(targetsOf("Edit", { url: "https://example.local" })).toEqual([])
    })

    it("exec: command, cmd or script", () => {
      expect(targetsOf("Bash", { cmd: "npm test" })).toEqual([{ kind: "other", value: "npm test", operation: "execute" }])
      expect(targetsOf("Bash", { script: "./run.sh" })).toEqual([{ kind: "other", value: "./run.sh", operation: "execute" }])
      expect(targetsOf("Bash", { command: "make", cmd: "other" })).toEqual([{ kind: "other", value: "make", operation: "execute" }])
    })

    it("delegate: task, prompt or description", () => {
      expect(targetsOf("Task", { description: "review the failing run" })).toEqual([
        { kind: "other", value: "review the failing run", operation: "delegate" }
      ])
      expect(targetsOf("Task", { prompt: "p", description: "d" })).toEqual([{ kind: "other", value: "p", operation: "delegate" }])
      expect(targetsOf("Task", { task: "t", prompt: "p" })).toEqual([{ kind: "other", value: "t", operation: "delegate" }])
    })

    it("other tools get no targets", () => {
      expect(targetsOf("MultiEdit", { file_path: "/tmp/ignored" })).toEqual([])
      expect(targetsOf("tool.unknown", { path: "/tmp/ignored", command: "x" })).toEqual([])
    })
  })

  it("converts: session and hook context carried, standard defaults, strict fails on identity", () => {
    const call = decode("claude_code", {
      session_id: "sess-claude-1",
      tool_name: "Bash",
      tool_input: { command: "npm test" },
      hook_event_name: "PreToolUse"
    })
    const intent = convert(call)
    expect(intent.tool_name).toBe("tool.exec")
    expect(intentTargets(intent)).toEqual([{ kind: "other", value: "npm test", operation: "execute" }])
    expect(intent.context?.session_id).toBe("sess-claude-1")
    expect(intent.context?.identity).toBe("mcp-proxy")
    expect(intent.context?.workspace).toBe(".")
    expect(intent.context?.risk_class).toBe("high")
    expect(intent.context?.auth_context).toEqual({ hook_event_name: "PreToolUse", adapter: "claude_code" })
    expectInvalid(convertError(call, true), "context.identity is required in strict profile")
    const body = prepared(intent).body
    expect(body.tool_name).toBe("tool.exec")
    expect(body.context["session_id"]).toBe("sess-claude-1")
  })
})

// ---------------------------------------------------------------------------------------------
// §2.6 ToolCall → IntentRequest

describe("toIntentRequest: name, header fields and created_at (§2.6)", () => {
  it("an empty call or a blank name is `tool call name is required` (TestEvaluateToolCallValidationError)", () => {
    expectInvalid(convertError(mcp({})), "tool call name is required")
    expectInvalid(convertError(mcp({ name: "   ", args: { a: 1 } })), "tool call name is required")
    expectInvalid(convertError(mcp({ name: "", script: { steps: [] } })), "tool call name is required")
    expectInvalid(convertError(mcp({}), true), "tool call name is required")
  })

  it("the name is trimmed and the header fields are set (TestToIntentRequestWrapper)", () => {
    const intent = convert(
      mcp({ name: " tool.read ", args: { path: "/tmp/input.txt" }, targets: [{ kind: "path", value: "/tmp/input.txt", operation: "read" }] })
    )
    expect(intent.tool_name).toBe("tool.read")
    expect(intent.schema_id).toBe("gait.gate.intent_request")
    expect(intent.schema_version).toBe("1.0.0")
    expect(intent.producer_version).toBe("0.0.0-dev")
    expect(intent.args).toEqual({ path: "/tmp/input.txt" })
  })

  it("args default to {}", () => {
    expect(convert(mcp({ name: "tool.a" })).args).toEqual({})
  })

  it("created_at defaults to 1980-01-01T00:00:00Z", () => {
    expect(convert(mcp({ name: "tool.a" })).created_at).toBe("1980-01-01T00:00:00Z")
    expect(prepared(convert(mcp({ name: "tool.a" }))).createdAt).toBe("1980-01-01T00:00:00Z")
  })

  it("created_at is carried in UTC", () => {
    expect(convert(mcp({ name: "tool.a", created_at: "2026-02-05T00:00:00Z" })).created_at).toBe("2026-02-05T00:00:00Z")
    const intent = convert(mcp({ name: "tool.a", created_at: "2026-02-05T01:02:03+02:00" }))
    expect(intent.created_at).toBe("2026-02-04T23:02:03Z")
    expect(prepared(intent).createdAt).toBe("2026-02-04T23:02:03Z")
  })

  it("a created_at that is not RFC3339 never yields a prepared intent", () => {
    const decoded = decodeToolCall("mcp", JSON.stringify({ name: "tool.a", created_at: "yesterday" }))
    const outcome = Either.flatMap(decoded, (call) =>
      Either.flatMap(toIntentRequest(call, { strict: false }), (intent) => prepareIntent(intent))
    )
    expect(Either.isLeft(outcome)).toBe(true)
  })
})

describe("toIntentRequest: targets (§2.6)", () => {
  it.each([
    ["api.external.com", { kind: "host", value: "api.external.com" }],
    ["  api.external.com  ", { kind: "host", value: "api.external.com" }],
    ["https://api.example.com/v1", { kind: "url", value: "https://api.example.com/v1" }],
    ["s3://bucket/key", { kind: "url", value: "s3://bucket/key" }],
    ["/data/out.txt", { kind: "path", value: "/data/out.txt" }],
    ["reports/q1.csv", { kind: "path", value: "reports/q1.csv" }]
  ])("legacy target %j is inferred with an empty operation", (target, expected) => {
    expect(intentTargets(convert(mcp({ name: "tool.write", target })))).toEqual([expected])
  })

  it("a blank legacy target gives no targets", () => {
    expect(intentTargets(convert(mcp({ name: "tool.write", target: "   " })))).toEqual([])
  })

  it("targets win over the legacy target", () => {
    const intent = convert(mcp({ name: "tool.write", target: "api.external.com", targets: [{ kind: "path", value: "/a" }] }))
    expect(intentTargets(intent)).toEqual([{ kind: "path", value: "/a" }])
  })

  it("an empty targets list falls back to the legacy target", () => {
    const intent = convert(mcp({ name: "tool.write", target: "api.external.com", targets: [] }))
    expect(intentTargets(intent)).toEqual([{ kind: "host", value: "api.external.com" }])
  })

  it("§10.1 legacy-target call: host target, context carried, run_id not copied", () => {
    const intent = convert(
      mcp({
        name: "tool.write",
        args: { path: "/data/out.txt" },
        target: "api.external.com",
        context: { identity: "alice", workspace: "/repo/gait", risk_class: "high", run_id: "run_mcp_case" }
      })
    )
    expect(intentTargets(intent)).toEqual([{ kind: "host", value: "api.external.com" }])
    expect(intent.context?.identity).toBe("alice")
    expect(intent.context?.workspace).toBe("/repo/gait")
    expect(intent.context?.run_id ?? "").toBe("")
    const body = prepared(intent).body
    expect(body.targets.map((t) => [t.kind, t.value])).toEqual([["host", "api.external.com"]])
    expect(body.context["run_id"] ?? "").toBe("")
  })

  it("kind, value, operation and sensitivity are trimmed", () => {
    const intent = convert(
      mcp({ name: "tool.write", targets: [{ kind: " path ", value: " /a ", operation: " write ", sensitivity: " internal " }] })
    )
    expect(intentTargets(intent)).toEqual([{ kind: "path", value: "/a", operation: "write", sensitivity: "internal" }])
  })

  it("snake and camel hints are OR-ed", () => {
    const intent = convert(
      mcp({
        name: "tool.read",
        targets: [
          { kind: "path", value: "/a", read_only_hint: true, destructiveHint: true },
          { kind: "path", value: "/b", idempotent_hint: false, idempotentHint: true, openWorldHint: true },
          { kind: "path", value: "/c", read_only_hint: false, readOnlyHint: false }
        ]
      })
    )
    expect(intentTargets(intent)).toEqual([
      { kind: "path", value: "/a", read_only_hint: true, destructive_hint: true },
      { kind: "path", value: "/b", idempotent_hint: true, open_world_hint: true },
      { kind: "path", value: "/c" }
    ])
  })

  it("annotations override hints, as bools or the strings true/false (TestToIntentRequestCarriesTargetDiscoveryAndAnnotations)", () => {
    const intent = convert(
      mcp({
        name: "tool.read",
        args: { path: "/tmp/input.txt" },
        targets: [
          {
            kind: "path",
            value: "/tmp/input.txt",
            operation: "read",
            discoveryMethod: "webmcp",
            destructive_hint: true,
            open_world_hint: true,
            annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: "true", openWorldHint: "false" }
          }
        ]
      })
    )
    const target = intent.targets?.[0]
    expect(target?.discovery_method).toBe("webmcp")
    expect(target?.read_only_hint).toBe(true)
    expect(target?.destructive_hint ?? false).toBe(false)
    expect(target?.idempotent_hint).toBe(true)
    expect(target?.open_world_hint ?? false).toBe(false)
    const normalizedTarget = prepared(intent).body.targets[0]
    expect(normalizedTarget?.discovery_method).toBe("webmcp")
    expect(normalizedTarget?.read_only_hint).toBe(true)
    expect(normalizedTarget?.idempotent_hint).toBe(true)
    expect(normalizedTarget?.destructive_hint).toBeUndefined()
    expect(normalizedTarget?.open_world_hint).toBeUndefined()
  })

  it("annotation strings are trimmed and case-insensitive; other values are skipped", () => {
    const hintsOf = (annotations: object, base: object = {}) => {
      const t = convert(mcp({ name: "tool.a", targets: [{ kind: "host", value: "h", ...base, annotations }] })).targets?.[0]
      return [t?.read_only_hint === true, t?.destructive_hint === true]
    }
    expect(hintsOf({ read_only_hint: " TRUE ", destructive_hint: "False" }, { destructive_hint: true })).toEqual([true, false])
    // a non-bool, non-"true"/"false" value is skipped: the field value stands
    expect(hintsOf({ read_only_hint: "yes", destructive_hint: 1 }, { read_only_hint: true, destructive_hint: true })).toEqual([
      true,
      true
    ])
    expect(hintsOf({ read_only_hint: null, destructive_hint: { v: true } })).toEqual([false, false])
    // the snake key is checked first; a skipped snake value lets the camel key decide
    expect(hintsOf({ read_only_hint: false, readOnlyHint: true })).toEqual([false, false])
    expect(hintsOf({ read_only_hint: "maybe", readOnlyHint: true })).toEqual([true, false])
    expect(hintsOf({ destructive_hint: 0, destructiveHint: "false" }, { destructiveHint: true })).toEqual([false, false])
  })

  it("discovery_method: snake field, else camel alias, overridden by annotations (\"\" included)", () => {
    const discoveryOf = (target: object) =>
      convert(mcp({ name: "tool.a", targets: [{ kind: "host", value: "h", ...target }] })).targets?.[0]?.discovery_method ?? ""
    expect(discoveryOf({ discovery_method: "webmcp" })).toBe("webmcp")
    expect(discoveryOf({ discoveryMethod: "a2a" })).toBe("a2a")
    expect(discoveryOf({ discovery_method: "webmcp", discoveryMethod: "a2a" })).toBe("webmcp")
    expect(discoveryOf({ discovery_method: "", discoveryMethod: "a2a" })).toBe("a2a")
    expect(discoveryOf({ discovery_method: "   ", discoveryMethod: "a2a" })).toBe("a2a")
    expect(discoveryOf({ discovery_method: "webmcp", annotations: { discovery_method: "manual" } })).toBe("manual")
    expect(discoveryOf({ discovery_method: "webmcp", annotations: { discoveryMethod: "static_mcp" } })).toBe("static_mcp")
    expect(discoveryOf({ annotations: { discovery_method: "mcp", discoveryMethod: "a2a" } })).toBe("mcp")
    expect(discoveryOf({ discovery_method: "webmcp", annotations: { discovery_method: "" } })).toBe("")
    expect(discoveryOf({ discovery_method: "webmcp", annotations: { discovery_method: 5, discoveryMethod: "a2a" } })).toBe("a2a")
    expect(discoveryOf({ discovery_method: "webmcp", annotations: { discovery_method: 5 } })).toBe("webmcp")
  })

  it("arg_provenance fields are trimmed", () => {
    const intent = convert(
      mcp({
        name: "tool.a",
        arg_provenance: [{ arg_path: " $.path ", source: " user ", source_ref: " ref ", integrity_digest: " " }]
      })
    )
    expect((intent.arg_provenance ?? []).map(compact)).toEqual([{ arg_path: "$.path", source: "user", source_ref: "ref" }])
  })
})

describe("toIntentRequest: script (§2.6)", () => {
  const twoSteps = {
    steps: [
      { name: "tool.read", args: { path: "/tmp/input.txt" }, targets: [{ kind: "path", value: "/tmp/input.txt", operation: "read" }] },
      {
        name: " tool.write ",
        args: { path: "/tmp/output.txt" },
        targets: [{ kind: " path ", value: "/tmp/output.txt", operation: "write", readOnlyHint: true }],
        arg_provenance: [{ arg_path: " $.path ", source: " user " }]
      }
    ]
  }

  it("steps give tool_name script with the steps mapped (TestToIntentRequestScriptPayload)", () => {
    const intent = convert(mcp({ script: twoSteps, context: { identity: "alice", workspace: "/repo/gait", risk_class: "high" } }))
    expect(intent.tool_name).toBe("script")
    expect(intent.args).toEqual({})
    const steps = intent.script?.steps ?? []
    expect(steps).toHaveLength(2)
    expect(steps.map((s) => s.tool_name)).toEqual(["tool.read", "tool.write"])
    expect(steps[0]?.args).toEqual({ path: "/tmp/input.txt" })
    expect((steps[0]?.targets ?? []).map(compact)).toEqual([{ kind: "path", value: "/tmp/input.txt", operation: "read" }])
    expect((steps[1]?.targets ?? []).map(compact)).toEqual([
      { kind: "path", value: "/tmp/output.txt", operation: "write", read_only_hint: true }
    ])
    expect((steps[1]?.arg_provenance ?? []).map(compact)).toEqual([{ arg_path: "$.path", source: "user" }])
    const body = prepared(intent).body
    expect(body.tool_name).toBe("script")
    expect(body.script?.steps.map((s) => s.tool_name)).toEqual(["tool.read", "tool.write"])
    expect(body.script_hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it("the top-level name and args are ignored; top-level targets and provenance are carried", () => {
    const intent = convert(
      mcp({
        name: "tool.other",
        args: { ignored: true },
        targets: [{ kind: "host", value: "api.example.com" }],
        arg_provenance: [{ arg_path: "$.x", source: "user" }],
        script: { steps: [{ name: "tool.read" }] }
      })
    )
    expect(intent.tool_name).toBe("script")
    expect(intent.args).toEqual({})
    expect(intentTargets(intent)).toEqual([{ kind: "host", value: "api.example.com" }])
    expect((intent.arg_provenance ?? []).map(compact)).toEqual([{ arg_path: "$.x", source: "user" }])
    expect(intent.script?.steps?.[0]?.args).toEqual({})
    prepared(intent)
  })

  it("a step without a name is `script.steps[<i>].name is required`", () => {
    expectInvalid(
      convertError(mcp({ script: { steps: [{ name: "tool.read" }, { name: "  ", args: {} }] } })),
      "script.steps[1].name is required"
    )
    expectInvalid(convertError(mcp({ name: "tool.x", script: { steps: [{ args: {} }] } })), "script.steps[0].name is required")
  })
})

describe("toIntentRequest: context (§2.6)", () => {
  const full = {
    identity: "alice",
    workspace: "/repo/gait",
    risk_class: "high",
    session_id: "sess-1"
  }

  it("standard profile defaults identity, workspace and risk_class (TestEvaluateToolCallDefaultsAndLegacyTarget)", () => {
    for (const context of [undefined, {}, { identity: "  ", workspace: "", risk_class: " " }]) {
      const intent = convert(mcp(context === undefined ? { name: "tool.write" } : { name: "tool.write", context }))
      expect(intent.context?.identity).toBe("mcp-proxy")
      expect(intent.context?.workspace).toBe(".")
      expect(intent.context?.risk_class).toBe("high")
      const body = prepared(intent).body
      expect(body.context.identity).toBe("mcp-proxy")
      expect(body.context.workspace).toBe(".")
      expect(body.context.risk_class).toBe("high")
    }
  })

  it("given values are trimmed and kept", () => {
    const intent = convert(mcp({ name: "tool.a", context: { identity: " alice ", workspace: " /repo ", risk_class: " low " } }))
    expect(intent.context?.identity).toBe("alice")
    expect(intent.context?.workspace).toBe("/repo")
    expect(intent.context?.risk_class).toBe("low")
  })

  it("strict profile errors in order: identity, workspace, session_id", () => {
    const strictError = (context: object) => convertError(mcp({ name: "tool.write", context }), true)
    expectInvalid(strictError({}), "context.identity is required in strict profile")
    expectInvalid(strictError({ workspace: "/w", session_id: "s" }), "context.identity is required in strict profile")
    expectInvalid(strictError({ identity: "alice", session_id: "s" }), "context.workspace is required in strict profile")
    expectInvalid(strictError({ identity: "alice", workspace: " " }), "context.workspace is required in strict profile")
    expectInvalid(strictError({ identity: "alice", workspace: "/repo/gait", risk_class: "high" }), "context.session_id is required in strict profile")
    expectInvalid(strictError({ identity: "alice", workspace: "/w", session_id: "  " }), "context.session_id is required in strict profile")
    expectInvalid(convertError(mcp({ name: "tool.write" }), true), "context.identity is required in strict profile")
  })

  it("strict profile with a full context; risk_class still defaults to high (TestToIntentRequestWithStrictContext)", () => {
    const intent = convert(
      mcp({
        name: "tool.write",
        args: { path: "/tmp/out.txt" },
        context: {
          identity: "alice",
          workspace: "/repo/gait",
          session_id: "sess-1",
          auth_mode: "oauth_dcr",
          oauth_evidence: { issuer: "https://auth.example.com", client_id: "cli-123" },
          auth_context: { provider: "oidc" },
          credential_scopes: ["tool:tool.write"],
          environment_fingerprint: "env:test"
        },
        delegation: {
          requester_identity: "agent.specialist",
          scope_class: "write",
          token_refs: ["delegation_a"],
          chain: [{ delegator_identity: "agent.lead", delegate_identity: "agent.specialist", scope_class: "write" }]
        }
      }),
      true
    )
    expect(intent.context?.identity).toBe("alice")
    expect(intent.context?.workspace).toBe("/repo/gait")
    expect(intent.context?.risk_class).toBe("high")
    expect(intent.context?.session_id).toBe("sess-1")
    expect(intent.context?.phase ?? "").toBe("")
    expect(intent.context?.job_id ?? "").toBe("")
    expect(intent.delegation?.requester_identity).toBe("agent.specialist")
    expect(intent.context?.auth_context).toEqual({
      provider: "oidc",
      auth_mode: "oauth_dcr",
      oauth_evidence: { issuer: "https://auth.example.com", client_id: "cli-123" }
    })
    expect(intent.context?.credential_scopes).toEqual(["tool:tool.write"])
    expect(intent.context?.environment_fingerprint).toBe("env:test")
    expect(prepared(intent).body.context["session_id"]).toBe("sess-1")
  })

  it("phase, job_id, session_id, request_id, environment_fingerprint and credential_scopes are copied trimmed (TestToIntentRequestCarriesPhaseAndJobID)", () => {
    const intent = convert(
      mcp({
        name: "tool.delete",
        args: { path: "/tmp/out.txt" },
        targets: [{ kind: "path", value: "/tmp/out.txt", operation: "delete" }],
        context: {
          ...full,
          phase: " plan ",
          job_id: " job-123 ",
          session_id: " sess-1 ",
          request_id: " req-9 ",
          environment_fingerprint: " env:ci ",
          credential_scopes: [" repo:read "]
        }
      })
    )
    expect(intent.context?.phase).toBe("plan")
    expect(intent.context?.job_id).toBe("job-123")
    expect(intent.context?.session_id).toBe("sess-1")
    expect(intent.context?.request_id).toBe("req-9")
    expect(intent.context?.environment_fingerprint).toBe("env:ci")
    expect(intent.context?.credential_scopes).toEqual(["repo:read"])
    const body = prepared(intent).body
    expect(body.context.phase).toBe("plan")
    expect(body.context["job_id"]).toBe("job-123")
  })

  it("context.run_id is not copied into the intent", () => {
    const intent = convert(mcp({ name: "tool.a", context: { ...full, run_id: "run_mcp_case" } }))
    expect(intent.context?.run_id ?? "").toBe("")
    expect(JSON.stringify(intent)).not.toContain("run_mcp_case")
  })

  it("auth_context is a shallow copy; auth_mode is trimmed in; oauth_evidence is copied in", () => {
    const original = { provider: "oidc", nested: { a: 1 }, auth_mode: "stale" }
    const call = mcp({ name: "tool.a", context: { auth_mode: " token ", auth_context: original } })
    const intent = convert(call)
    expect(intent.context?.auth_context).toEqual({ provider: "oidc", nested: { a: 1 }, auth_mode: "token" })
    // the call's own auth_context is not modified by the conversion
    expect(call.context?.auth_context).toEqual(original)

    const noMode = convert(mcp({ name: "tool.a", context: { auth_mode: "  ", auth_context: { provider: "oidc" } } }))
    expect(noMode.context?.auth_context).toEqual({ provider: "oidc" })

    const evidence = convert(mcp({ name: "tool.a", context: { oauth_evidence: { issuer: "https://i", scopes: ["a"] } } }))
    expect(evidence.context?.auth_context).toEqual({ oauth_evidence: { issuer: "https://i", scopes: ["a"] } })
  })

  it("no auth data leaves auth_context empty", () => {
    const intent = convert(mcp({ name: "tool.a", context: full }))
    expect(intent.context?.auth_context ?? {}).toEqual({})
  })

  it("delegation is a trimmed copy", () => {
    const intent = convert(
      mcp({
        name: "tool.a",
        delegation: {
          requester_identity: " agent.specialist ",
          scope_class: " write ",
          token_refs: ["delegation_a"],
          chain: [{ delegator_identity: " agent.lead ", delegate_identity: " agent.specialist ", scope_class: " write ", token_ref: " t1 " }]
        }
      })
    )
    const delegation = intent.delegation
    expect(delegation?.requester_identity).toBe("agent.specialist")
    expect(delegation?.scope_class).toBe("write")
    expect(delegation?.token_refs).toEqual(["delegation_a"])
    expect((delegation?.chain ?? []).map(compact)).toEqual([
      { delegator_identity: "agent.lead", delegate_identity: "agent.specialist", scope_class: "write", token_ref: "t1" }
    ])
    expect(prepared(intent).body.delegation).toBeDefined()
  })
})

// ---------------------------------------------------------------------------------------------
// end to end: every §10.1 payload normalises through the gate

describe("decode → convert → prepareIntent for the §10.1 payloads", () => {
  it.each([
    ["mcp", { name: "tool.search", args: { query: "gait" } }, "tool.search", { query: "gait" }],
    [
      "mcp",
      {
        name: "tool.read",
        targets: [{ kind: "host", value: "api.github.com", operation: "read", discovery_method: "webmcp" }],
        server: { server_id: "github" },
        context: { identity: "alice", workspace: "/repo", risk_class: "high", session_id: "s1" }
      },
      "tool.read",
      {}
    ],
    ["openai", { type: "function", function: { name: "tool.search", arguments: '{"query":"gait"}' } }, "tool.search", { query: "gait" }],
    [
      "openai",
      { type: "function", function: { name: "tool.fetch", arguments: { url: "https://example.local/object" } } },
      "tool.fetch",
      { url: "https://example.local/object" }
    ],
    ["anthropic", { type: "tool_use", name: "tool.search", input: { query: "gait" } }, "tool.search", { query: "gait" }],
    ["langchain", { tool: "tool.search", tool_input: { query: "gait" } }, "tool.search", { query: "gait" }],
    [
      "claude_code",
      { session_id: "sess-claude-1", tool_name: "Bash", tool_input: { command: "npm test" }, hook_event_name: "PreToolUse" },
      "tool.exec",
      { command: "npm test" }
    ],
    ["claude_code", { session_id: "sess-claude-case", tool_name: "WebSearch", tool_input: { query: "gait" } }, "tool.read", { query: "gait" }]
  ])("%s payload %#", (adapter, payload, toolName, args) => {
    const intent = convert(decode(adapter, payload))
    expect(intent.tool_name).toBe(toolName)
    const result = prepared(intent)
    expect(result.body.tool_name).toBe(toolName)
    expect(result.body.args).toEqual(args)
    expect(result.intentDigest).toMatch(/^[0-9a-f]{64}$/)
    expect(result.argsDigest).toMatch(/^[0-9a-f]{64}$/)
  })

  it("the same call decoded twice converts to the same intent digest", () => {
    const payload = { tool: "tool.search", tool_input: { query: "gait" } }
    const a = prepared(convert(decode("langchain", payload)))
    const b = prepared(convert(decode("langchain", payload)))
    expect(a.intentDigest).toBe(b.intentDigest)
  })

  it("the same call through different adapters converts to the same intent digest", () => {
    const viaOpenai = prepared(convert(decode("openai", { function: { name: "tool.search", arguments: '{"query":"gait"}' } })))
    const viaAnthropic = prepared(convert(decode("anthropic", { name: "tool.search", input: { query: "gait" } })))
    const viaLangchain = prepared(convert(decode("langchain", { tool: "tool.search", tool_input: '{"query":"gait"}' })))
    const viaMcp = prepared(convert(decode("mcp", { name: "tool.search", args: { query: "gait" } })))
    expect(new Set([viaOpenai, viaAnthropic, viaLangchain, viaMcp].map((p) => p.intentDigest)).size).toBe(1)
  })
})
