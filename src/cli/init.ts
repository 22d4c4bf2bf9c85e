/** `gait init --production`: write the hardened config, starter policy and prod keys. */
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { initProduction } from "../init/production.js"
import { UsageError } from "../kernel/errors.js"
import { printJson, printLines } from "./output.js"

export const INIT_EXPLAIN = "Write a hardened .gait/config.yaml, a starter policy and a prod signing key pair."

export const initCommand = Command.make(
  "init",
  {
    production: Options.boolean("production").pipe(Options.withDescription("write the production posture")),
    dir: Options.text("dir").pipe(Options.withDescription("project directory (default .)"), Options.optional),
    json: Options.boolean("json").pipe(Options.withDescription("print one JSON line")),
    explain: Options.boolean("explain").pipe(Options.withDescription("print what this command does and exit"))
  },
  (flags) =>
    Effect.gen(function* () {
      if (flags.explain && !flags.json) return yield* printLines([INIT_EXPLAIN])
      if (!flags.production) {
        return yield* new UsageError({ detail: "gait init needs --production (the only template this build writes)" })
      }
      const written = yield* initProduction(Option.getOrElse(flags.dir, () => ".").trim() || ".")
      const next = ["gait doctor --production-readiness --json"]
      if (flags.json) return yield* printJson({ ok: true, ...written, next_commands: next })
      return yield* printLines([
        `init ok: config=${written.config_path} policy=${written.policy_path}`,
        `keys: ${written.private_key_path} (0600), ${written.public_key_path}; key_id ${written.key_id}`,
        `next: ${next[0]}`
      ])
    })
).pipe(Command.withDescription(INIT_EXPLAIN))
