/** `gait verify session-chain`: verify a session chain and its checkpoint runpacks (exit 2 when it fails). */
import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { UsageError } from "../kernel/errors.js"
import { hasVerifyKeySource, loadVerifyKey } from "../keys/keys.js"
import { verifySessionChain } from "../session/verify.js"
import { setExitCode } from "./exit.js"
import { optionalText, present } from "./flags.js"
import { printJson, printLines } from "./output.js"

export const VERIFY_CHAIN_EXPLAIN =
  "Verify session checkpoint chains, including per-checkpoint runpack integrity/signatures and prev_checkpoint_digest linkage continuity."

const text = optionalText
const value = present

const sessionChainCommand = Command.make(
  "session-chain",
  {
    chain: text("chain", "session chain file"),
    positional: Args.text({ name: "chain" }).pipe(Args.optional),
    profile: text("profile", "standard (default) or strict (requires signatures and a key)"),
    requireSignature: Options.boolean("require-signature").pipe(Options.withDescription("every checkpoint must carry a valid signature")),
    publicKey: text("public-key", "verify key file (base64 32-byte public key)"),
    publicKeyEnv: text("public-key-env", "environment variable holding the verify key"),
    privateKey: text("private-key", "private key file (its public half verifies)"),
    privateKeyEnv: text("private-key-env", "environment variable holding the private key"),
    json: Options.boolean("json").pipe(Options.withDescription("print one JSON line")),
    explain: Options.boolean("explain").pipe(Options.withDescription("print what this command does and exit"))
  },
  (flags) =>
    Effect.gen(function* () {
      if (flags.explain && !flags.json) return yield* printLines([VERIFY_CHAIN_EXPLAIN])
      const chainPath = value(flags.chain) ?? value(flags.positional)
      if (chainPath === undefined || (value(flags.chain) !== undefined && value(flags.positional) !== undefined)) {
        return yield* new UsageError({ detail: "expected --chain <session_chain.json>" })
      }
      const profileRaw = value(flags.profile) ?? ""
      const profile = profileRaw.toLowerCase()
      if (profile !== "" && profile !== "standard" && profile !== "strict") {
        return yield* new UsageError({ detail: `unsupported --profile value ${JSON.stringify(profileRaw)} (expected standard or strict)` })
      }
      const keySource = {
        publicKeyPath: value(flags.publicKey),
        publicKeyEnv: value(flags.publicKeyEnv),
        privateKeyPath: value(flags.privateKey),
        privateKeyEnv: value(flags.privateKeyEnv)
      }
      const hasKey = hasVerifyKeySource(keySource)
      if (profile === "strict" && !hasKey) {
        return yield* new UsageError({ detail: "strict verify profile requires --public-key/--public-key-env or private key source" })
      }
      const publicKey = hasKey ? yield* loadVerifyKey(keySource) : undefined
      const result = yield* verifySessionChain(chainPath, {
        requireSignature: flags.requireSignature || profile === "strict",
        publicKey
      })
      const ok = result.linkage_errors === undefined && result.checkpoint_errors === undefined
      if (!ok) yield* setExitCode(2)
      if (flags.json) return yield* printJson({ ok, chain_path: chainPath, ...result })
      if (ok) {
        return yield* printLines([
          `verify session-chain: ok (${chainPath})`,
          `session=${result.session_id} run=${result.run_id} checkpoints=${result.checkpoints_checked}`
        ])
      }
      return yield* printLines([
        `verify session-chain failed: ${chainPath}`,
        ...(result.linkage_errors === undefined ? [] : [`linkage errors: ${result.linkage_errors.join("; ")}`]),
        ...(result.checkpoint_errors === undefined ? [] : [`checkpoint errors: ${result.checkpoint_errors.join("; ")}`])
      ])
    })
).pipe(Command.withDescription(VERIFY_CHAIN_EXPLAIN))

export const verifyCommand = Command.make("verify", { json: Options.boolean("json") }, () =>
  Effect.fail(new UsageError({ detail: "gait verify requires a subcommand: session-chain" }))
).pipe(Command.withDescription("Verify gait artifacts."), Command.withSubcommands([sessionChainCommand]))
