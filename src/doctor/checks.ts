/**
 * Doctor checks as data: each has a name, a scope and an Effect that inspects the real environment
 * (spec ops.md §2.3). Messages and fix commands follow the reference where it has them.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Clock, Effect, Either, Option } from "effect"
import * as NodePath from "node:path"
import { tmpdir } from "node:os"
import type { ProjectConfig } from "../config/schema.js"
import { DURATION_SYNTAX_HINT, parseGoDuration } from "../kernel/duration.js"
import { sha256Hex } from "../kernel/digest.js"
import { signDigestBytes, verifyDigestBytes } from "../kernel/signing.js"
import { loadPrivateKey, loadVerifyKey } from "../keys/keys.js"
import { Gate } from "../gate/gate.js"
import { prepareIntent } from "../gate/intent.js"

export type CheckScope = "universal" | "production_readiness"
export type CheckStatus = "pass" | "warn" | "fail"

export interface CheckResult {
  readonly name: string
  readonly scope: CheckScope
  readonly status: CheckStatus
  readonly message: string
  readonly fix_command?: string
}

/** POSIX shell quoting for fix commands: `'…'` with inner quotes as `'\''`. */
export const shellQuote = (s: string): string => (s === "" ? "''" : `'${s.replaceAll("'", `'\\''`)}'`)

const result = (name: string, scope: CheckScope, status: CheckStatus, message: string, fix?: string): CheckResult => ({
  name,
  scope,
  status,
  message,
  ...(fix === undefined ? {} : { fix_command: fix })
})

export interface KeyFlags {
  readonly keyMode: string
  readonly privateKey?: string | undefined
  readonly privateKeyEnv?: string | undefined
  readonly publicKey?: string | undefined
  readonly publicKeyEnv?: string | undefined
}

const writeProbe = (dir: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => {
    const probe = NodePath.join(dir, ".gait-doctor-writecheck")
    return fs.writeFileString(probe, "ok\n", { mode: 0o600 }).pipe(Effect.zipRight(fs.remove(probe)))
  })

export const workdirCheck = (workdir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const fix = `mkdir -p ${shellQuote(workdir)}`
    const info = yield* Effect.either(fs.stat(workdir))
    if (Either.isLeft(info)) return result("workdir", "universal", "fail", `workdir not accessible: ${info.left.message}`, fix)
    if (info.right.type !== "Directory") return result("workdir", "universal", "fail", "workdir is not a directory", fix)
    const written = yield* Effect.either(writeProbe(workdir))
    if (Either.isLeft(written)) {
      return result("workdir", "universal", "fail", `workdir not writable: ${written.left.message}`, `chmod u+w ${shellQuote(workdir)}`)
    }
    return result("workdir", "universal", "pass", "workdir is writable")
  })

export const outputDirCheck = (outputDir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const info = yield* Effect.either(fs.stat(outputDir))
    if (Either.isLeft(info)) {
      const e = info.left
      return e._tag === "SystemError" && e.reason === "NotFound"
        ? result("output_dir", "universal", "warn", "output directory does not exist", `mkdir -p ${shellQuote(outputDir)}`)
        : result("output_dir", "universal", "fail", `output directory check failed: ${e.message}`)
    }
    if (info.right.type !== "Directory") return result("output_dir", "universal", "fail", "output path is not a directory")
    const written = yield* Effect.either(writeProbe(outputDir))
    if (Either.isLeft(written)) {
      return result("output_dir", "universal", "fail", `output directory not writable: ${written.left.message}`, `chmod u+w ${shellQuote(outputDir)}`)
    }
    return result("output_dir", "universal", "pass", "output directory is writable")
  })

export const tempDirCheck = Effect.gen(function* () {
  const dir = tmpdir()
  if (dir === "") return result("temp_dir", "universal", "fail", "temporary directory is not configured")
  const fs = yield* FileSystem.FileSystem
  const probe = NodePath.join(dir, `gait-doctor-${yield* Clock.currentTimeNanos}.tmp`)
  const written = yield* Effect.either(fs.writeFileString(probe, "ok\n", { mode: 0o600 }).pipe(Effect.zipRight(fs.remove(probe))))
  if (Either.isLeft(written)) {
    return result("temp_dir", "universal", "fail", `temporary directory is not writable: ${written.left.message}`, `chmod u+w ${shellQuote(dir)}`)
  }
  return result("temp_dir", "universal", "pass", "temporary directory is writable")
})

const set = (v: string | undefined): boolean => v !== undefined && v.trim() !== ""

export const keySourceAmbiguityCheck = (keys: KeyFlags): CheckResult => {
  if (set(keys.privateKey) && set(keys.privateKeyEnv)) {
    return result("key_source_ambiguity", "universal", "fail", "private key path and env are both set", "set only one of --private-key or --private-key-env")
  }
  if (set(keys.publicKey) && set(keys.publicKeyEnv)) {
    return result("key_source_ambiguity", "universal", "fail", "public key path and env are both set", "set only one of --public-key or --public-key-env")
  }
  return result("key_source_ambiguity", "universal", "pass", "key source configuration is unambiguous")
}

/** Key files must not be writable by group or others (a key anyone can replace signs nothing trustworthy). */
export const keyPermissionsCheck = (paths: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    if (paths.length === 0) return result("key_permissions", "universal", "pass", "no key file paths configured")
    for (const p of paths) {
      const info = yield* Effect.either(fs.stat(p))
      if (Either.isLeft(info)) return result("key_permissions", "universal", "warn", `key file not accessible: ${p} (${info.left.message})`, `ls -l ${shellQuote(p)}`)
      if (info.right.type === "Directory") return result("key_permissions", "universal", "warn", `key path is a directory: ${p}`, `set key path to a file: ${shellQuote(p)}`)
      if ((info.right.mode & 0o022) !== 0) {
        return result("key_permissions", "universal", "warn", `key file is writable by group/others: ${p}`, `chmod go-w ${shellQuote(p)}`)
      }
    }
    return result("key_permissions", "universal", "pass", "key file permissions are strict")
  })

export const keyConfigCheck = (keys: KeyFlags) =>
  Effect.gen(function* () {
    const mode = keys.keyMode.trim().toLowerCase() || "dev"
    const anySource = [keys.privateKey, keys.privateKeyEnv, keys.publicKey, keys.publicKeyEnv].some(set)
    if (mode === "dev") {
      return anySource
        ? result("key_config", "universal", "warn", "dev mode ignores explicit key sources", "remove explicit key flags/env or use --key-mode prod")
        : result("key_config", "universal", "pass", "dev key mode is configured")
    }
    if (mode !== "prod") return result("key_config", "universal", "fail", `unsupported key mode: ${mode}`, "use --key-mode dev or --key-mode prod")
    const signing = yield* Effect.either(loadPrivateKey({ path: keys.privateKey, env: keys.privateKeyEnv }))
    if (Either.isLeft(signing)) {
      return result("key_config", "universal", "fail", `invalid prod signing key config: ${signing.left.message}`, "set --private-key <path> or --private-key-env <VAR> for prod mode")
    }
    if (set(keys.publicKey) || set(keys.publicKeyEnv)) {
      const verify = yield* Effect.either(loadVerifyKey({ publicKeyPath: keys.publicKey, publicKeyEnv: keys.publicKeyEnv }))
      if (Either.isLeft(verify)) {
        return result("key_config", "universal", "fail", `invalid verify key config: ${verify.left.message}`, "set a valid --public-key/--public-key-env or matching private key source")
      }
    }
    return result("key_config", "universal", "pass", "prod key configuration is valid")
  })

// ---------------------------------------------------------------------------------------------
// production readiness

const CONFIG_FIX_PATH = shellQuote(".gait/config.yaml")
const prod = (name: string, status: CheckStatus, message: string, fix?: string) => result(name, "production_readiness", status, message, fix)
const lower = (v: string | null | undefined): string => (v ?? "").trim().toLowerCase()

export const productionProfileCheck = (config: ProjectConfig): CheckResult =>
  lower(config.gate?.profile) === "oss-prod"
    ? prod("production_profile", "pass", "gate.profile is oss-prod")
    : prod("production_profile", "fail", "gate.profile must be oss-prod for production readiness", `set gate.profile=oss-prod in ${CONFIG_FIX_PATH}`)

export const productionKeyModeCheck = (config: ProjectConfig): CheckResult =>
  lower(config.gate?.key_mode) === "prod"
    ? prod("production_key_mode", "pass", "gate.key_mode is prod")
    : prod("production_key_mode", "fail", "gate.key_mode must be prod for production readiness", `set gate.key_mode=prod in ${CONFIG_FIX_PATH}`)

export const productionRetentionCheck = (config: ProjectConfig): CheckResult => {
  const r = config.retention ?? {}
  const ttls: ReadonlyArray<[string, string]> = [
    ["trace_ttl", (r.trace_ttl ?? "").trim()],
    ["session_ttl", (r.session_ttl ?? "").trim()],
    ["export_ttl", (r.export_ttl ?? "").trim()]
  ]
  if (ttls.some(([, v]) => v === "")) {
    return prod(
      "production_retention",
      "fail",
      "retention.trace_ttl, retention.session_ttl, and retention.export_ttl are required",
      `set retention trace/session/export TTLs in ${CONFIG_FIX_PATH}`
    )
  }
  for (const [name, v] of ttls) {
    const parsed = parseGoDuration(v)
    if (Option.isNone(parsed)) {
      return prod("production_retention", "fail", `invalid retention.${name}: time: invalid duration "${v}" (use ${DURATION_SYNTAX_HINT})`)
    }
    // Stricter than the reference, which accepted 0 and negative TTLs (no retention at all).
    if (parsed.value <= 0n) return prod("production_retention", "fail", `invalid retention.${name}: must be > 0, got "${v}"`)
  }
  return prod("production_retention", "pass", "retention TTLs are configured")
}

const MAX_PRODUCTION_REQUEST_BYTES = 4 * 1024 * 1024

/** host:port with a numeric port; the host may be bracketed IPv6 or empty. */
export const parseListen = (listen: string): Either.Either<{ readonly host: string; readonly port: number }, string> => {
  if (listen.trim() === "") return Either.left("listen address is required")
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen.trim())
  if (m === null) return Either.left(`address ${listen}: missing port in address`)
  const port = Number(m[3])
  if (port > 65535) return Either.left(`address ${listen}: invalid port`)
  return Either.right({ host: m[1] ?? m[2] ?? "", port })
}

export const isLoopbackHost = (host: string): boolean => {
  const h = host.toLowerCase()
  if (h === "localhost") return true
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true
  return h === "::1" || h === "0:0:0:0:0:0:0:1"
}

export const productionServiceBoundaryCheck = (config: ProjectConfig): CheckResult => {
  const m = config.mcp_serve ?? {}
  const name = "production_service_boundary"
  if (m.enabled !== true && (m.listen ?? "").trim() === "") return prod(name, "pass", "mcp_serve not configured")
  const listen = (m.listen ?? "").trim() || "127.0.0.1:8787"
  const parsed = parseListen(listen)
  if (Either.isLeft(parsed)) return prod(name, "fail", `invalid mcp_serve.listen: invalid listen address: ${parsed.left}`)
  const authMode = lower(m.auth_mode)
  if (!isLoopbackHost(parsed.right.host) && authMode !== "token") {
    return prod(name, "fail", "non-loopback mcp_serve.listen requires mcp_serve.auth_mode=token", `set mcp_serve.auth_mode=token in ${CONFIG_FIX_PATH}`)
  }
  if (authMode === "token" && (m.auth_token_env ?? "").trim() === "") {
    return prod(name, "fail", "mcp_serve.auth_mode=token requires mcp_serve.auth_token_env", `set mcp_serve.auth_token_env in ${CONFIG_FIX_PATH}`)
  }
  if (m.allow_client_artifact_paths === true) {
    return prod(name, "fail", "mcp_serve.allow_client_artifact_paths must be false in production", `set mcp_serve.allow_client_artifact_paths=false in ${CONFIG_FIX_PATH}`)
  }
  const maxBytes = m.max_request_bytes ?? 0
  if (maxBytes <= 0 || maxBytes > MAX_PRODUCTION_REQUEST_BYTES) {
    return prod(name, "fail", `mcp_serve.max_request_bytes must be >0 and <=${MAX_PRODUCTION_REQUEST_BYTES}`, `set mcp_serve.max_request_bytes=1048576 in ${CONFIG_FIX_PATH}`)
  }
  if (lower(m.http_verdict_status) !== "strict") {
    return prod(name, "fail", "mcp_serve.http_verdict_status must be strict in production", `set mcp_serve.http_verdict_status=strict in ${CONFIG_FIX_PATH}`)
  }
  return prod(name, "pass", "service boundary hardening settings are configured")
}

export const productionContextStrictnessCheck = (config: ProjectConfig): CheckResult => {
  if (lower(config.gate?.profile) !== "oss-prod") {
    return prod("production_context_strictness", "fail", "strict context enforcement requires gate.profile=oss-prod")
  }
  if ((config.gate?.policy ?? "").trim() === "") {
    return prod("production_context_strictness", "fail", "gate.policy must be set for strict context enforcement", `set gate.policy in ${CONFIG_FIX_PATH}`)
  }
  return prod("production_context_strictness", "pass", "strict context profile is configured")
}

/** Goes further than a file check: the configured key must sign, and its public half must verify. */
export const productionSigningKeyCheck = (keys: KeyFlags) =>
  Effect.gen(function* () {
    const name = "production_signing_key"
    if (!set(keys.privateKey) && !set(keys.privateKeyEnv)) {
      return prod(name, "fail", "no signing key configured (gate.private_key or gate.private_key_env)", "gait keys init --out-dir .gait/keys")
    }
    const pair = yield* Effect.either(loadPrivateKey({ path: keys.privateKey, env: keys.privateKeyEnv }))
    if (Either.isLeft(pair)) return prod(name, "fail", `signing key does not load: ${pair.left.message}`, "gait keys init --out-dir .gait/keys")
    const digest = Buffer.from(sha256Hex(`gait doctor signing self-test ${yield* Clock.currentTimeNanos}`), "hex")
    const signature = signDigestBytes(pair.right.privateKey, digest)
    if (!verifyDigestBytes(pair.right.publicKey, digest, signature)) {
      return prod(name, "fail", "signing key produced a signature that does not verify")
    }
    return prod(name, "pass", `signing key signs and verifies (key_id ${pair.right.keyId})`)
  })

/** A destructive, critical-risk delete from untrusted input: every production policy must stop it. */
export const DANGEROUS_INTENT = {
  schema_id: "gait.gate.intent_request",
  schema_version: "1.0.0",
  tool_name: "fs.delete",
  args: { path: "/", recursive: true },
  targets: [{ kind: "path", value: "/", operation: "delete" }],
  arg_provenance: [{ arg_path: "args.path", source: "external" }],
  context: { identity: "gait-doctor-self-test", workspace: "/", risk_class: "critical" }
} as const

/** Evaluates the dangerous intent against the configured policy; passes only on block or require_approval. */
export const productionSelfTestCheck = (policyPath: string | undefined) =>
  Effect.gen(function* () {
    const name = "production_self_test"
    if (policyPath === undefined) return prod(name, "fail", "gate.policy is not set; nothing to self-test", `set gate.policy in ${CONFIG_FIX_PATH}`)
    const gate = yield* Gate
    const policy = yield* Effect.either(gate.loadPolicy(policyPath))
    if (Either.isLeft(policy)) return prod(name, "fail", `policy does not load: ${policy.left.message}`, `gait gate eval --policy ${shellQuote(policyPath)} --intent <intent.json>`)
    const intent = prepareIntent(DANGEROUS_INTENT)
    if (Either.isLeft(intent)) return prod(name, "fail", `self-test intent invalid: ${intent.left.message}`)
    const now = yield* Clock.currentTimeNanos
    const decision = yield* Effect.either(gate.decide({ policy: policy.right, intent: intent.right, simulate: false, now }))
    if (Either.isLeft(decision)) return prod(name, "fail", `policy cannot decide the self-test intent: ${decision.left.message}`)
    const verdict = decision.right.verdict
    if (verdict === "block" || verdict === "require_approval") {
      return prod(name, "pass", `policy stops a destructive critical-risk delete (verdict=${verdict})`)
    }
    return prod(
      name,
      "fail",
      `policy lets a destructive critical-risk delete through (verdict=${verdict}, reasons=${decision.right.reasonCodes.join(",")})`,
      `add a rule with effect: block for destructive high/critical risk actions to ${shellQuote(policyPath)}`
    )
  })
