/**
 * `gait run session start|append|status|checkpoint|compact`: a thin edge over `SessionStore`
 * (spec session.md §1). Output objects and text lines follow the reference; errors go to diagnostics/.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Layer, type Option } from "effect"
import { UsageError } from "../kernel/errors.js"
import { layerProd, Keys } from "../keys/keys.js"
import type { SessionStatus } from "../session/schema.js"
import * as SessionLock from "../session/lock.js"
import * as SessionStoreModule from "../session/store.js"
import { SessionStore } from "../session/store.js"
import { explainFlag, jsonFlag, optionalText, present } from "./flags.js"
import { printJson, printLines } from "./output.js"

export const SESSION_EXPLAIN =
  "Manage append-only long-running session journals and emit verifiable checkpoint runpacks with chain linkage."

const text = optionalText
const json = jsonFlag
const explain = explainFlag
const journalOption = text("journal", "session journal (JSONL) path")

const value = present

/** CSV flag: split on `,`, trim, drop empties. */
export const csv = (o: Option.Option<string>): ReadonlyArray<string> | undefined => {
  const v = value(o)
  return v === undefined ? undefined : v.split(",").map((s) => s.trim()).filter((s) => s !== "")
}

const VERDICTS = ["allow", "block", "dry_run", "require_approval"]

/** Text fields printed from user data: control characters removed, whitespace collapsed. */
export const sanitize = (s: string): string =>
  s
    .replace(/[\n\r\t]/g, " ")
    .replace(/[\u0000-\u001f\u007f]/g, "")
    .replace(/\s+/g, " ")
    .trim()

const printStatus = (operation: "start" | "status", journal: string, status: SessionStatus, json: boolean) =>
  json
    ? printJson({ ok: true, operation, journal, status })
    : printLines([
        `session ${operation}: session_id=${sanitize(status.session_id)} run_id=${sanitize(status.run_id)} events=${status.event_count} checkpoints=${status.checkpoint_count} last_sequence=${status.last_sequence}`,
        `journal: ${sanitize(journal)}`
      ])

const explainOr = <A, E, R>(flags: { readonly explain: boolean; readonly json: boolean }, run: Effect.Effect<A, E, R>) =>
  flags.explain && !flags.json ? printLines([SESSION_EXPLAIN]) : run

const startCommand = Command.make(
  "start",
  {
    journal: journalOption,
    sessionId: text("session-id", "session identifier"),
    runId: text("run-id", "run identifier"),
    json,
    explain
  },
  (flags) =>
    explainOr(
      flags,
      Effect.gen(function* () {
        const journal = value(flags.journal)
        const sessionId = value(flags.sessionId)
        const runId = value(flags.runId)
        if (journal === undefined || sessionId === undefined || runId === undefined) {
          return yield* new UsageError({ detail: "--journal, --session-id, and --run-id are required" })
        }
        const status = yield* (yield* SessionStore).start(journal, { sessionId, runId })
        return yield* printStatus("start", journal, status, flags.json)
      })
    )
).pipe(Command.withDescription("Create a session journal (idempotent for the same session and run)."))

const appendCommand = Command.make(
  "append",
  {
    journal: journalOption,
    tool: text("tool", "tool name of the recorded call"),
    verdict: text("verdict", "allow | block | dry_run | require_approval"),
    intentId: text("intent-id", "intent identifier"),
    traceId: text("trace-id", "trace identifier"),
    tracePath: text("trace-path", "trace file"),
    intentDigest: text("intent-digest", "sha256 of the intent"),
    policyDigest: text("policy-digest", "sha256 of the policy"),
    reasonCodes: text("reason-codes", "comma-separated reason codes"),
    violations: text("violations", "comma-separated violations"),
    json,
    explain
  },
  (flags) =>
    explainOr(
      flags,
      Effect.gen(function* () {
        const journal = value(flags.journal)
        const tool = value(flags.tool)
        const verdictRaw = value(flags.verdict)
        if (journal === undefined || tool === undefined || verdictRaw === undefined) {
          return yield* new UsageError({ detail: "--journal, --tool, and --verdict are required" })
        }
        const verdict = verdictRaw.toLowerCase()
        if (!VERDICTS.includes(verdict)) {
          return yield* new UsageError({
            detail: "unsupported --verdict value (expected allow|block|dry_run|require_approval)"
          })
        }
        const store = yield* SessionStore
        const event = yield* store.append(journal, {
          toolName: tool,
          verdict,
          intentId: value(flags.intentId),
          traceId: value(flags.traceId),
          tracePath: value(flags.tracePath),
          intentDigest: value(flags.intentDigest),
          policyDigest: value(flags.policyDigest),
          reasonCodes: csv(flags.reasonCodes),
          violations: csv(flags.violations)
        })
        if (flags.json) return yield* printJson({ ok: true, operation: "append", journal, event })
        return yield* printLines([
          `session append: sequence=${event.sequence} tool=redacted verdict=${sanitize(event.verdict ?? "unknown")}`,
          `journal: ${sanitize(journal)}`
        ])
      })
    )
).pipe(Command.withDescription("Append one event; sequences are gap-free under any concurrency."))

const statusCommand = Command.make("status", { journal: journalOption, json, explain }, (flags) =>
  explainOr(
    flags,
    Effect.gen(function* () {
      const journal = value(flags.journal)
      if (journal === undefined) return yield* new UsageError({ detail: "--journal is required" })
      const status = yield* (yield* SessionStore).status(journal)
      return yield* printStatus("status", journal, status, flags.json)
    })
  )
).pipe(Command.withDescription("Report the session's counters (repairs the state index if needed)."))

const checkpointCommand = Command.make(
  "checkpoint",
  {
    journal: journalOption,
    out: text("out", "checkpoint runpack zip to write"),
    chainOut: text("chain-out", "extra copy of the session chain file"),
    privateKey: text("private-key", "sign the checkpoint manifest with this base64 Ed25519 private key file"),
    privateKeyEnv: text("private-key-env", "sign with the private key in this environment variable"),
    json,
    explain
  },
  (flags) =>
    explainOr(
      flags,
      Effect.gen(function* () {
        const journal = value(flags.journal)
        const out = value(flags.out)
        if (journal === undefined || out === undefined) {
          return yield* new UsageError({ detail: "--journal and --out are required" })
        }
        const store = yield* SessionStore
        const keySource = { path: value(flags.privateKey), env: value(flags.privateKeyEnv) }
        const signed = keySource.path !== undefined || keySource.env !== undefined
        const result = signed
          ? yield* Effect.flatMap(Keys, (signer) => store.checkpoint(journal, { out, chainOut: value(flags.chainOut), signer })).pipe(
              Effect.provide(layerProd(keySource))
            )
          : yield* store.checkpoint(journal, { out, chainOut: value(flags.chainOut) })
        const c = result.checkpoint
        if (flags.json) {
          return yield* printJson({ ok: true, operation: "checkpoint", journal, chain_path: result.chainPath, checkpoint: c })
        }
        return yield* printLines([
          `session checkpoint: index=${c.checkpoint_index} runpack=redacted range=${c.sequence_start}..${c.sequence_end}`,
          `session chain: ${sanitize(result.chainPath)}`
        ])
      })
    )
).pipe(Command.withDescription("Emit a checkpoint runpack over the events since the last checkpoint."))

const compactCommand = Command.make(
  "compact",
  {
    journal: journalOption,
    out: text("out", "write the compacted journal here instead of in place"),
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("report without writing")),
    json,
    explain
  },
  (flags) =>
    explainOr(
      flags,
      Effect.gen(function* () {
        const journal = value(flags.journal)
        if (journal === undefined) return yield* new UsageError({ detail: "--journal is required" })
        const compaction = yield* (yield* SessionStore).compact(journal, { out: value(flags.out), dryRun: flags.dryRun })
        if (flags.json) return yield* printJson({ ok: true, operation: "compact", journal, compaction })
        return yield* printLines([
          `session compact: compacted=${compaction.compacted} dry_run=${compaction.dry_run} events=${compaction.events_before}->${compaction.events_after} checkpoints=${compaction.checkpoints} bytes=${compaction.bytes_before}->${compaction.bytes_after}`,
          `journal: ${sanitize(compaction.journal_path)}`,
          `output: ${sanitize(compaction.output_path)}`
        ])
      })
    )
).pipe(Command.withDescription("Prune events already covered by checkpoints; the chain still verifies."))

const sessionCommand = Command.make("session", { json }, () =>
  Effect.fail(new UsageError({ detail: "gait run session requires a subcommand: start, append, status, checkpoint, compact" }))
).pipe(
  Command.withDescription(SESSION_EXPLAIN),
  Command.withSubcommands([startCommand, appendCommand, statusCommand, checkpointCommand, compactCommand])
)

export const runCommand = Command.make("run", { json }, () =>
  Effect.fail(new UsageError({ detail: "gait run requires a subcommand: session" }))
).pipe(Command.withDescription("Work with session journals."),
  Command.withSubcommands([sessionCommand]),
  Command.provide(SessionStoreModule.layerFile.pipe(Layer.provide(SessionLock.layerFile)))
)
