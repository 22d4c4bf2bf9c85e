/** `gait doctor [--production-readiness]`: environment and production-posture checks (exit 2 when production readiness fails). */
import { Command, Options } from "@effect/cli"
import { Effect, Layer } from "effect"
import { adoptionReport } from "../doctor/adoption.js"
import * as DoctorModule from "../doctor/doctor.js"
import { Doctor } from "../doctor/doctor.js"
import * as GateModule from "../gate/gate.js"
import { UsageError } from "../kernel/errors.js"
import { loadAdoptionEvents } from "../telemetry/load.js"
import { setExitCode } from "./exit.js"
import { optionalText, present } from "./flags.js"
import { printJson, printLines } from "./output.js"

export const DOCTOR_EXPLAIN =
  "Diagnose local environment and onboarding issues for Gait workflows and return stable fix suggestions."

const text = optionalText
const value = present

const adoptionCommand = Command.make(
  "adoption",
  {
    from: text("from", "adoption log (JSONL) written with GAIT_ADOPTION_LOG"),
    json: Options.boolean("json").pipe(Options.withDescription("print one JSON line"))
  },
  (flags) =>
    Effect.gen(function* () {
      const from = value(flags.from)
      if (from === undefined) return yield* new UsageError({ detail: "missing required --from <path>" })
      const report = adoptionReport(from, yield* loadAdoptionEvents(from))
      if (flags.json) return yield* printJson({ ok: true, report })
      return yield* printLines([
        `doctor adoption: source=${from} total_events=${report.total_events} activation_complete=${report.activation_complete}`,
        ...(report.blockers.length > 0 ? [`blockers: ${report.blockers.join("; ")}`] : [])
      ])
    })
).pipe(Command.withDescription("Summarise adoption milestones from an adoption log."))

export const doctorCommand = Command.make(
  "doctor",
  {
    workdir: text("workdir", "directory to check (default .)"),
    outputDir: text("output-dir", "artifact directory (default ./gait-out, relative to --workdir)"),
    keyMode: text("key-mode", "dev (default) or prod"),
    privateKey: text("private-key", "signing key file"),
    privateKeyEnv: text("private-key-env", "environment variable holding the signing key"),
    publicKey: text("public-key", "verify key file"),
    publicKeyEnv: text("public-key-env", "environment variable holding the verify key"),
    productionReadiness: Options.boolean("production-readiness").pipe(
      Options.withDescription("check the production posture in <workdir>/.gait/config.yaml; exit 2 when it fails")
    ),
    summary: Options.boolean("summary").pipe(Options.withDescription("print only what needs attention")),
    json: Options.boolean("json").pipe(Options.withDescription("print one JSON line")),
    explain: Options.boolean("explain").pipe(Options.withDescription("print what this command does and exit"))
  },
  (flags) =>
    Effect.gen(function* () {
      if (flags.explain && !flags.json) return yield* printLines([DOCTOR_EXPLAIN])
      const doctor = yield* Doctor
      const result = yield* doctor.run({
        workdir: value(flags.workdir) ?? ".",
        outputDir: value(flags.outputDir) ?? "./gait-out",
        keys: {
          keyMode: value(flags.keyMode) ?? "",
          privateKey: value(flags.privateKey),
          privateKeyEnv: value(flags.privateKeyEnv),
          publicKey: value(flags.publicKey),
          publicKeyEnv: value(flags.publicKeyEnv)
        },
        productionReadiness: flags.productionReadiness
      })
      const failedProduction = flags.productionReadiness && result.status === "fail"
      if (failedProduction) yield* setExitCode(2)
      if (flags.json) {
        const { warnings, fix_commands, ...rest } = result
        return yield* printJson({
          ok: !failedProduction,
          ...rest,
          ...(fix_commands.length > 0 ? { fix_commands } : {}),
          ...(warnings.length > 0 ? { warnings } : {}),
          ...(flags.summary ? { summary_mode: true } : {})
        })
      }
      const shown = flags.summary ? result.checks.filter((c) => c.status !== "pass") : result.checks
      const lines = [result.summary]
      for (const c of shown) {
        lines.push(`- ${c.name}: ${c.status} (${c.message})`)
        if (c.fix_command !== undefined) lines.push(`  fix: ${c.fix_command}`)
      }
      for (const w of result.warnings) lines.push(`warning: ${w}`)
      return yield* printLines(lines)
    })
).pipe(
  Command.withDescription(DOCTOR_EXPLAIN),
  Command.withSubcommands([adoptionCommand]),
  Command.provide(DoctorModule.layer.pipe(Layer.provide(GateModule.layer)))
)
