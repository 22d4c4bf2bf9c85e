/**
 * `gait mcp serve`: resolves settings (flags > .gait/config.yaml `mcp_serve.*` and `gate.*` >
 * defaults, `--no-config` skips the file), refuses unsafe postures before listening (exit 6), then
 * runs the HTTP service until SIGINT/SIGTERM (exit 0). The service code loads only for this command.
 */
import { Args, Command, Options } from "@effect/cli"
import { Config, Effect, Either, Layer, Option, Redacted } from "effect"
import * as NodePath from "node:path"
import { DEFAULT_CONFIG_PATH, loadProjectConfig } from "../config/config.js"
import { isLoopbackHost, parseListen } from "../doctor/checks.js"
import { DURATION_SYNTAX_HINT, parseGoDuration } from "../kernel/duration.js"
import * as Gate from "../gate/gate.js"
import { checkProfileFlags, parseProfile } from "../gate/profile.js"
import * as TracesModule from "../gate/traces.js"
import { ensureDirectory } from "../kernel/files.js"
import { UsageError } from "../kernel/errors.js"
import { nonBlank } from "../kernel/text.js"
import { Keys, layerFor, parseKeyMode } from "../keys/keys.js"
import { ServeConfigInvalid } from "../serve/errors.js"
import { interruptPolicy } from "./exit.js"
import { booleanFlag, explainFlag, jsonFlag, optionalText, present } from "./flags.js"
import { printJson, printLines } from "./output.js"

export const SERVE_EXPLAIN =
  "Run a local interception service that evaluates tool-call payloads through Gate and emits signed traces across JSON, SSE, and streamable HTTP endpoints."

const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024

const options = {
  policy: optionalText("policy", "policy YAML file (re-read on every request)"),
  positional: Args.text({ name: "policy" }).pipe(Args.repeated),
  listen: optionalText("listen", "host:port (default 127.0.0.1:8787; non-loopback requires token auth)"),
  adapter: optionalText("adapter", "default adapter: mcp, openai, anthropic, langchain or claude_code"),
  profile: optionalText("profile", "standard (default) or oss-prod"),
  authMode: optionalText("auth-mode", "off (default) or token"),
  authTokenEnv: optionalText("auth-token-env", "environment variable holding the bearer token"),
  maxRequestBytes: Options.integer("max-request-bytes").pipe(Options.withDescription("request body limit (default 1048576)"), Options.optional),
  httpVerdictStatus: optionalText("http-verdict-status", "compat (200 for every decision, default) or strict (403 block, 409 approval/dry_run)"),
  allowClientArtifactPaths: booleanFlag("allow-client-artifact-paths", "accept client artifact paths (refused by default)"),
  traceDir: optionalText("trace-dir", "trace directory (default ./gait-out/mcp-serve/traces)"),
  sessionDir: optionalText("session-dir", "per-session journals (default ./gait-out/mcp-serve/sessions)"),
  runpackDir: optionalText("runpack-dir", "checkpoint runpacks for checkpoint_interval (default: none)"),
  traceMaxAge: optionalText("trace-max-age", "delete traces older than this Go duration, e.g. 168h (default: retention.trace_ttl, else never)"),
  traceMaxCount: Options.integer("trace-max-count").pipe(Options.withDescription("keep at most this many traces (0: no limit)"), Options.optional),
  sessionMaxAge: optionalText("session-max-age", "delete sessions idle longer than this (default: retention.session_ttl, else never)"),
  sessionMaxCount: Options.integer("session-max-count").pipe(Options.withDescription("keep at most this many sessions (0: no limit)"), Options.optional),
  runpackMaxAge: optionalText("runpack-max-age", "delete checkpoint runpacks older than this (default: never)"),
  runpackMaxCount: Options.integer("runpack-max-count").pipe(Options.withDescription("keep at most this many runpacks (0: no limit)"), Options.optional),
  exportLogOut: optionalText("export-log-out", "append one JSON line per decision"),
  exportOtelOut: optionalText("export-otel-out", "append one OTel-style JSON line per decision"),
  keyMode: optionalText("key-mode", "dev (default; one key per process) or prod"),
  privateKey: optionalText("private-key", "prod: base64 Ed25519 private key file"),
  privateKeyEnv: optionalText("private-key-env", "prod: environment variable holding the private key"),
  config: optionalText("config", `project config (default ${DEFAULT_CONFIG_PATH})`),
  noConfig: booleanFlag("no-config", "do not read the project config"),
  json: jsonFlag,
  explain: explainFlag
}

const invalid = (detail: string) => new ServeConfigInvalid({ detail })

export const serveCommand = Command.make("serve", options, (flags) =>
  Effect.gen(function* () {
    if (flags.explain && !flags.json) return yield* printLines([SERVE_EXPLAIN])
    const loaded = flags.noConfig ? { config: {}, warnings: [] } : yield* loadProjectConfig(present(flags.config) ?? DEFAULT_CONFIG_PATH)
    const serveConfig = loaded.config.mcp_serve ?? {}
    const gateConfig = loaded.config.gate ?? {}
    const [positionalPolicy, ...extra] = flags.positional
    const policyPath = present(flags.policy) ?? positionalPolicy ?? nonBlank(gateConfig.policy)
    if (policyPath === undefined || extra.length > 0 || (present(flags.policy) !== undefined && positionalPolicy !== undefined)) {
      return yield* new UsageError({ detail: "expected --policy <policy.yaml>" })
    }
    const authMode = (present(flags.authMode) ?? nonBlank(serveConfig.auth_mode) ?? "off").toLowerCase()
    if (authMode !== "off" && authMode !== "token") return yield* invalid("unsupported --auth-mode value (expected off or token)")
    const listenText = present(flags.listen) ?? nonBlank(serveConfig.listen) ?? "127.0.0.1:8787"
    const listen = parseListen(listenText)
    if (Either.isLeft(listen)) return yield* invalid(`invalid --listen address: ${listen.left}`)
    if (!isLoopbackHost(listen.right.host) && authMode !== "token") {
      return yield* invalid("non-loopback --listen requires --auth-mode token")
    }
    let token: Redacted.Redacted<string> | undefined
    if (authMode === "token") {
      const envName = present(flags.authTokenEnv) ?? nonBlank(serveConfig.auth_token_env)
      if (envName === undefined) return yield* invalid("--auth-mode token requires --auth-token-env")
      const value = yield* Config.option(Config.redacted(envName)).pipe(Effect.orElseSucceed(() => Option.none()))
      if (Option.isNone(value) || Redacted.value(value.value).trim() === "") {
        return yield* invalid("--auth-token-env did not resolve to a non-empty value")
      }
      token = value.value
    }
    const maxRequestBytes = Option.getOrUndefined(flags.maxRequestBytes) ?? serveConfig.max_request_bytes ?? DEFAULT_MAX_REQUEST_BYTES
    if (maxRequestBytes <= 0) return yield* invalid("--max-request-bytes must be > 0")
    const verdictStatus = (present(flags.httpVerdictStatus) ?? nonBlank(serveConfig.http_verdict_status) ?? "compat").toLowerCase()
    if (verdictStatus !== "compat" && verdictStatus !== "strict") {
      return yield* invalid("unsupported --http-verdict-status value (expected compat or strict)")
    }
    const profile = yield* parseProfile(present(flags.profile) ?? nonBlank(gateConfig.profile))
    const keyModeRaw = present(flags.keyMode) ?? nonBlank(gateConfig.key_mode) ?? "dev"
    const privateKey = present(flags.privateKey) ?? nonBlank(gateConfig.private_key)
    const privateKeyEnv = present(flags.privateKeyEnv) ?? nonBlank(gateConfig.private_key_env)
    yield* checkProfileFlags(profile, { simulate: false, keyMode: keyModeRaw, hasPrivateKeySource: privateKey !== undefined || privateKeyEnv !== undefined })
    const keyMode = yield* parseKeyMode(keyModeRaw)
    const traceDir = present(flags.traceDir) ?? NodePath.join("gait-out", "mcp-serve", "traces")
    yield* ensureDirectory(traceDir)
    const adapter = (present(flags.adapter) ?? "mcp").toLowerCase()
    const sessionDir = present(flags.sessionDir) ?? NodePath.join("gait-out", "mcp-serve", "sessions")
    const runpackDir = present(flags.runpackDir)
    yield* ensureDirectory(sessionDir)
    if (runpackDir !== undefined) yield* ensureDirectory(runpackDir)
    const retention = loaded.config.retention ?? {}
    const rules = [
      { class: "trace" as const, dir: traceDir, age: present(flags.traceMaxAge) ?? nonBlank(retention.trace_ttl), count: flags.traceMaxCount, flag: "trace" },
      { class: "session" as const, dir: sessionDir, age: present(flags.sessionMaxAge) ?? nonBlank(retention.session_ttl), count: flags.sessionMaxCount, flag: "session" },
      { class: "runpack" as const, dir: runpackDir ?? "", age: present(flags.runpackMaxAge), count: flags.runpackMaxCount, flag: "runpack" }
    ]
    const retentionRules = []
    for (const rule of rules) {
      const ageText = rule.age ?? "0"
      const age = parseGoDuration(ageText)
      if (Option.isNone(age)) return yield* invalid(`parse --${rule.flag}-max-age: time: invalid duration "${ageText}" (use ${DURATION_SYNTAX_HINT})`)
      if (age.value < 0n) return yield* invalid(`parse --${rule.flag}-max-age: duration must be >= 0`)
      const count = Option.getOrElse(rule.count, () => 0)
      if (count < 0) return yield* invalid("retention max-count values must be >= 0")
      retentionRules.push({ class: rule.class, dir: rule.dir, maxCount: count, maxAgeMs: Number(age.value / 1_000_000n) })
    }
    const { layerFile: retentionLayer } = yield* Effect.promise(() => import("../serve/retention.js"))

    const { layerOff, layerToken } = yield* Effect.promise(() => import("../serve/auth.js"))
    const { runServe } = yield* Effect.promise(() => import("../serve/run.js"))
    const SessionLock = yield* Effect.promise(() => import("../session/lock.js"))
    const SessionStore = yield* Effect.promise(() => import("../session/store.js"))
    // One signing key per process (dev mode included), loaded before listening so a bad key exits 6.
    const keys = yield* Effect.provide(Keys, layerFor(keyMode, { path: privateKey, env: privateKeyEnv }))
    const services = Layer.mergeAll(
      Gate.layer,
      TracesModule.layer.pipe(Layer.provideMerge(Layer.succeed(Keys, keys))),
      token === undefined ? layerOff : layerToken(token),
      retentionLayer(retentionRules),
      SessionStore.layerFile.pipe(Layer.provide(SessionLock.layerFile))
    )
    interruptPolicy.exitCode = 0
    return yield* runServe(
      {
        policyPath,
        adapter,
        profile,
        maxRequestBytes,
        verdictStatus,
        allowClientArtifactPaths: flags.allowClientArtifactPaths || serveConfig.allow_client_artifact_paths === true,
        traceDir,
        sessionDir,
        runpackDir,
        exportLogOut: present(flags.exportLogOut),
        exportOtelOut: present(flags.exportOtelOut)
      },
      listen.right,
      (address) =>
        flags.json
          ? printJson({ ok: true, adapter, listen: address, policy: policyPath, profile, auth_mode: authMode, http_verdict_status: verdictStatus })
          : printLines([`mcp serve: listening=${address} adapter=${adapter} auth=${authMode} verdict_status=${verdictStatus}`]),
      services
    )
  })
).pipe(Command.withDescription(SERVE_EXPLAIN))
