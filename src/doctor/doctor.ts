/**
 * `gait doctor`: the environment and production-posture checks (spec ops.md §2). Checks that concern
 * subsystems this build does not have (job runtime, registry cache, gate rate-limit lock, repo
 * checkout assets) are omitted rather than reported as passing. Production readiness adds two checks
 * the reference lacks: the configured key must really sign and verify, and the configured policy must
 * really stop a destructive critical-risk intent.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Clock, Context, Effect, Either, Layer } from "effect"
import * as NodePath from "node:path"
import { DEFAULT_CONFIG_PATH, loadProjectConfig } from "../config/config.js"
import type { ProjectConfig } from "../config/schema.js"
import type { Gate } from "../gate/gate.js"
import { formatRfc3339Nano } from "../kernel/time.js"
import { VERSION } from "../version.js"
import {
  type CheckResult,
  type KeyFlags,
  keyConfigCheck,
  keyPermissionsCheck,
  keySourceAmbiguityCheck,
  outputDirCheck,
  productionContextStrictnessCheck,
  productionKeyModeCheck,
  productionProfileCheck,
  productionRetentionCheck,
  productionSelfTestCheck,
  productionServiceBoundaryCheck,
  productionSigningKeyCheck,
  shellQuote,
  tempDirCheck,
  workdirCheck
} from "./checks.js"

export interface DoctorOptions {
  readonly workdir: string
  readonly outputDir: string
  readonly keys: KeyFlags
  readonly productionReadiness: boolean
}

export interface DoctorResult {
  readonly schema_id: "gait.doctor.result"
  readonly schema_version: "1.0.0"
  readonly created_at: string
  readonly producer_version: string
  readonly onboarding_mode: "installed_binary"
  readonly status: "pass" | "warn" | "fail"
  readonly summary: string
  readonly fix_commands: ReadonlyArray<string>
  readonly checks: ReadonlyArray<CheckResult>
  /** Warnings from loading the project config (unknown keys). */
  readonly warnings: ReadonlyArray<string>
}

const pick = (flag: string | undefined, fromConfig: string | null | undefined): string | undefined =>
  flag !== undefined && flag.trim() !== "" ? flag : fromConfig === null || fromConfig === undefined || fromConfig.trim() === "" ? undefined : fromConfig

/** Key sources: flags first, then (production mode) the project config's gate.* keys. */
const keysFrom = (flags: KeyFlags, config: ProjectConfig, workdir: string): KeyFlags => {
  const gate = config.gate ?? {}
  const inWorkdir = (p: string | undefined) => (p === undefined || NodePath.isAbsolute(p) ? p : NodePath.join(workdir, p))
  return {
    keyMode: pick(flags.keyMode, gate.key_mode) ?? "dev",
    privateKey: flags.privateKey ?? inWorkdir(pick(undefined, gate.private_key)),
    privateKeyEnv: pick(flags.privateKeyEnv, gate.private_key_env),
    publicKey: flags.publicKey ?? inWorkdir(pick(undefined, gate.approval_public_key)),
    publicKeyEnv: pick(flags.publicKeyEnv, gate.approval_public_key_env)
  }
}

export const runDoctor = Effect.fn("Doctor.run")(function* (options: DoctorOptions) {
  const workdir = options.workdir
  const outputDir = NodePath.isAbsolute(options.outputDir) ? options.outputDir : NodePath.join(workdir, options.outputDir)
  const checks: Array<CheckResult> = [yield* workdirCheck(workdir), yield* outputDirCheck(outputDir), yield* tempDirCheck]
  let warnings: ReadonlyArray<string> = []
  let config: ProjectConfig = {}
  let configCheck: CheckResult | undefined
  let configUnreadable = false
  if (options.productionReadiness) {
    const fs = yield* FileSystem.FileSystem
    const configPath = NodePath.join(workdir, DEFAULT_CONFIG_PATH)
    if (!(yield* fs.exists(configPath).pipe(Effect.orElseSucceed(() => false)))) {
      configCheck = {
        name: "production_readiness_config",
        scope: "production_readiness",
        status: "fail",
        message: "missing .gait/config.yaml",
        fix_command: "gait init --production"
      }
    } else {
      const loaded = yield* Effect.either(loadProjectConfig(configPath))
      if (Either.isLeft(loaded)) {
        // An unreadable config makes every other production check meaningless: report just this one.
        configUnreadable = true
        configCheck = {
          name: "production_readiness_config",
          scope: "production_readiness",
          status: "fail",
          message: `failed to parse .gait/config.yaml: ${loaded.left.message}`,
          fix_command: `edit ${shellQuote(".gait/config.yaml")} and fix yaml syntax`
        }
      } else {
        config = loaded.right.config
        warnings = loaded.right.warnings
      }
    }
  }
  const keys = options.productionReadiness ? keysFrom(options.keys, config, workdir) : options.keys
  checks.push(keySourceAmbiguityCheck(keys))
  checks.push(yield* keyPermissionsCheck([keys.privateKey, keys.publicKey].filter((p): p is string => p !== undefined && p.trim() !== "")))
  checks.push(yield* keyConfigCheck(keys))
  if (options.productionReadiness) {
    if (configUnreadable && configCheck !== undefined) checks.push(configCheck)
    else {
      checks.push(
        configCheck ?? { name: "production_readiness_config", scope: "production_readiness", status: "pass", message: ".gait/config.yaml present" }
      )
      checks.push(productionProfileCheck(config))
      checks.push(productionKeyModeCheck(config))
      checks.push(productionRetentionCheck(config))
      checks.push(productionServiceBoundaryCheck(config))
      checks.push(productionContextStrictnessCheck(config))
      checks.push(yield* productionSigningKeyCheck(keys))
      const policy = (config.gate?.policy ?? "").trim()
      checks.push(yield* productionSelfTestCheck(policy === "" ? undefined : NodePath.isAbsolute(policy) ? policy : NodePath.join(workdir, policy)))
    }
  }
  const failed = checks.filter((c) => c.status === "fail").length
  const warned = checks.filter((c) => c.status === "warn").length
  const status = failed > 0 ? "fail" : warned > 0 ? "warn" : "pass"
  const fixes = [...new Set(checks.flatMap((c) => (c.fix_command === undefined ? [] : [c.fix_command])))].sort()
  const result: DoctorResult = {
    schema_id: "gait.doctor.result",
    schema_version: "1.0.0",
    created_at: formatRfc3339Nano(yield* Clock.currentTimeNanos),
    producer_version: VERSION,
    onboarding_mode: "installed_binary",
    status,
    summary: `doctor: onboarding_mode=installed_binary status=${status} failed=${failed} warned=${warned} non_fixable=false`,
    fix_commands: fixes,
    checks,
    warnings
  }
  return result
})

export class Doctor extends Context.Tag("gait/Doctor")<
  Doctor,
  { readonly run: (options: DoctorOptions) => Effect.Effect<DoctorResult> }
>() {}

export const layer: Layer.Layer<Doctor, never, FileSystem.FileSystem | Gate> = Layer.effect(
  Doctor,
  Effect.map(Effect.context<FileSystem.FileSystem | Gate>(), (context) => ({
    run: (options: DoctorOptions) => Effect.provide(runDoctor(options), context)
  }))
)
