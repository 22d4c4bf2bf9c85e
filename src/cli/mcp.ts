/** `gait mcp proxy` (alias `bridge`): evaluate one framework tool call like `gate eval` does. */
import { Args, Command, type Options } from "@effect/cli"
import { Effect, Layer } from "effect"
import * as GateModule from "../gate/gate.js"
import { MAX_INTENT_BYTES } from "../gate/gate.js"
import { checkProfileFlags, parseProfile } from "../gate/profile.js"
import * as TracesModule from "../gate/traces.js"
import { InputUnreadable, UsageError } from "../kernel/errors.js"
import { readBoundedText } from "../kernel/files.js"
import { layerFor, parseKeyMode } from "../keys/keys.js"
import { evaluateToolCallPayload } from "../mcp/proxy.js"
import { CorrelationId } from "./correlation.js"
import { setExitCode } from "./exit.js"
import { booleanFlag, explainFlag, jsonFlag, optionalText, present } from "./flags.js"
import { printJson, printLines } from "./output.js"
import { serveCommand } from "./serve.js"

export const MCP_EXPLAIN = "Proxy tool-call protocol payloads through Gate policy evaluation and emit signed traces with optional exports."

/** Reads all of stdin, refusing more than `limit` bytes. */
const readStdin = (limit: number) =>
  Effect.async<string, InputUnreadable>((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const tooLarge = () =>
      new InputUnreadable({ kind: "call payload", path: "-", reason: "too_large", detail: `stdin: more than ${limit} bytes`, limit_bytes: limit })
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        resume(Effect.fail(tooLarge()))
      } else chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
    }
    const onError = (e: Error) => {
      cleanup()
      resume(Effect.fail(new InputUnreadable({ kind: "call payload", path: "-", reason: "io_error", detail: `read stdin payload: ${e.message}` })))
    }
    const cleanup = () => {
      process.stdin.off("data", onData).off("end", onEnd).off("error", onError)
      process.stdin.pause()
    }
    process.stdin.on("data", onData).on("end", onEnd).on("error", onError)
  })

const options = {
  policy: optionalText("policy", "policy YAML file"),
  call: optionalText("call", "tool-call JSON file, or - for stdin"),
  adapter: optionalText("adapter", "mcp (default), openai, anthropic, langchain or claude_code"),
  profile: optionalText("profile", "standard (default) or oss-prod"),
  traceOut: optionalText("trace-out", "trace file (default: trace_<trace_id>_<event_id>.json in the working directory)"),
  runId: optionalText("run-id", "run identifier (normalised to run_…)"),
  exportLogOut: optionalText("export-log-out", "append one JSON line per decision to this file"),
  exportOtelOut: optionalText("export-otel-out", "append one OTel-style JSON line per decision to this file"),
  keyMode: optionalText("key-mode", "dev (default) or prod"),
  privateKey: optionalText("private-key", "prod: base64 Ed25519 private key file"),
  privateKeyEnv: optionalText("private-key-env", "prod: environment variable holding the private key"),
  positionals: Args.text({ name: "policy call" }).pipe(Args.repeated),
  json: jsonFlag,
  explain: explainFlag
}

const proxyHandler = (flags: {
  readonly [K in keyof typeof options]: (typeof options)[K] extends Options.Options<infer A> ? A : (typeof options)[K] extends Args.Args<infer B> ? B : never
}) =>
  Effect.gen(function* () {
    if (flags.explain && !flags.json) return yield* printLines([MCP_EXPLAIN])
    const [firstPositional, secondPositional, ...extra] = flags.positionals
    const policyPath = present(flags.policy) ?? firstPositional
    const callPath = present(flags.call) ?? (present(flags.policy) === undefined ? secondPositional : firstPositional)
    if (policyPath === undefined || callPath === undefined || extra.length > 0) {
      return yield* new UsageError({ detail: "expected --policy <policy.yaml> and --call <tool_call.json|->" })
    }
    const profile = yield* parseProfile(present(flags.profile))
    const keyModeRaw = present(flags.keyMode) ?? "dev"
    const privateKey = present(flags.privateKey)
    const privateKeyEnv = present(flags.privateKeyEnv)
    yield* checkProfileFlags(profile, { simulate: false, keyMode: keyModeRaw, hasPrivateKeySource: privateKey !== undefined || privateKeyEnv !== undefined })
    const keyMode = yield* parseKeyMode(keyModeRaw)
    const payload = callPath === "-" ? yield* readStdin(MAX_INTENT_BYTES) : yield* readBoundedText("call payload", callPath, MAX_INTENT_BYTES)
    const result = yield* evaluateToolCallPayload({
      adapter: present(flags.adapter) ?? "mcp",
      payload,
      policyPath,
      profile,
      runId: present(flags.runId),
      traceOut: present(flags.traceOut),
      exportLogOut: present(flags.exportLogOut),
      exportOtelOut: present(flags.exportOtelOut),
      correlationId: yield* CorrelationId
    }).pipe(Effect.provide(TracesModule.layer.pipe(Layer.provideMerge(layerFor(keyMode, { path: privateKey, env: privateKeyEnv })))))
    yield* setExitCode(result.exit_code)
    const { exit_code: _exit, ...output } = result
    if (flags.json) return yield* printJson(output)
    return yield* printLines([`mcp proxy: verdict=${result.verdict}`, `trace: ${result.trace_path}`, ...(result.warnings ?? []).map((w) => `warning: ${w}`)])
  })

const proxyCommand = Command.make("proxy", options, proxyHandler).pipe(
  Command.withDescription("Decode a tool call in an agent framework's shape, evaluate it and emit a signed trace.")
)
const bridgeCommand = Command.make("bridge", options, proxyHandler).pipe(Command.withDescription("Alias of gait mcp proxy."))

export const mcpCommand = Command.make("mcp", { json: booleanFlag("json", "print one JSON line") }, () =>
  Effect.fail(new UsageError({ detail: "gait mcp requires a subcommand: proxy, bridge, serve" }))
).pipe(Command.withDescription(MCP_EXPLAIN),
  Command.withSubcommands([proxyCommand, bridgeCommand, serveCommand]),
  Command.provide(GateModule.layer)
)
