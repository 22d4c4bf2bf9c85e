/** `gait keys init`: writes a prod key pair (0600, never overwriting) and prints its public key and id. */
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { UsageError } from "../kernel/errors.js"
import { writeKeyPair } from "../keys/files.js"
import { printJson, printLines } from "./output.js"

export const KEYS_INIT_EXPLAIN = "Generate an Ed25519 signing key pair for prod key mode."

const options = {
  outDir: Options.directory("out-dir").pipe(Options.withDescription("directory for the key files (created 0750)")),
  prefix: Options.text("prefix").pipe(Options.withDescription("file name prefix"), Options.withDefault("gait")),
  json: Options.boolean("json").pipe(Options.withDescription("print one JSON line")),
  explain: Options.boolean("explain").pipe(Options.withDescription("print what this command does and exit"))
}

const initCommand = Command.make("init", options, ({ outDir, prefix, json, explain }) =>
  Effect.gen(function* () {
    if (explain && !json) return yield* printLines([KEYS_INIT_EXPLAIN])
    const written = yield* writeKeyPair(outDir, prefix)
    if (json) {
      return yield* printJson({
        ok: true,
        key_id: written.keyId,
        public_key: written.publicKey,
        private_key_path: written.privatePath,
        public_key_path: written.publicPath
      })
    }
    return yield* printLines([
      `keys init: wrote ${written.privatePath} and ${written.publicPath}`,
      `public key: ${written.publicKey}`,
      `key id: ${written.keyId}`
    ])
  })
).pipe(Command.withDescription(KEYS_INIT_EXPLAIN))

export const keysCommand = Command.make("keys", { json: Options.boolean("json") }, () =>
  Effect.fail(new UsageError({ detail: "gait keys requires a subcommand: init" }))
).pipe(
  Command.withDescription("Manage signing keys."),
  Command.withSubcommands([initCommand])
)
