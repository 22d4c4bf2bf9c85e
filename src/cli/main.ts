/**
 * The command tree and the edge that turns every outcome into an exit code: usage errors → 6 (one
 * JSON envelope with --json), typed errors → their row in diagnostics/, defects → 1, interrupts → 130.
 */
import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { Array as Arr, Cause, Console, Effect, Exit, Logger, Option, Ref } from "effect"
import { diagnose, diagnoseDefect, isGaitError } from "../diagnostics/diagnostics.js"
import { UsageError } from "../kernel/errors.js"
import { renderJsonLine } from "../kernel/json-output.js"
import { VERSION } from "../version.js"
import { CorrelationId } from "./correlation.js"
import { CliExit } from "./exit.js"
import { printJson, printLines } from "./output.js"

export const ROOT_EXPLAIN =
  "Gait is an offline-first CLI for deterministic run artifacts, policy-gated tool execution, and reproducible debugging workflows."

const versionCommand = Command.make(
  "version",
  {
    json: Options.boolean("json").pipe(Options.withDescription("print one JSON line")),
    explain: Options.boolean("explain").pipe(Options.withDescription("print what this command does and exit"))
  },
  ({ json, explain }) =>
    explain && !json
      ? printLines(["Print the CLI version."])
      : json
        ? printJson({ ok: true, version: VERSION })
        : printLines([`gait ${VERSION}`])
).pipe(Command.withDescription("Print the CLI version."))

/**
 * Each command group is loaded only when the command line names it: the bundle keeps one file, but a
 * group's modules (and the layers it provides to its handlers) are evaluated on first import, so
 * `gate eval` does not pay start-up time for the server, sessions or doctor.
 */
const COMMAND_GROUPS = {
  doctor: () => import("./doctor.js").then((m) => m.doctorCommand),
  gate: () => import("./gate.js").then((m) => m.gateCommand),
  init: () => import("./init.js").then((m) => m.initCommand),
  keys: () => import("./keys.js").then((m) => m.keysCommand),
  mcp: () => import("./mcp.js").then((m) => m.mcpCommand),
  run: () => import("./session.js").then((m) => m.runCommand),
  verify: () => import("./verify.js").then((m) => m.verifyCommand)
} as const

type GroupName = keyof typeof COMMAND_GROUPS

const isGroupName = (word: string | undefined): word is GroupName => word !== undefined && Object.hasOwn(COMMAND_GROUPS, word)

/**
 * What the first argument selects: its group, no group for `version`, every group otherwise (root
 * help, flags first, unknown words — the last being a mistyped command rather than a help request).
 */
const selectGroups = (first: string | undefined): { readonly names: ReadonlyArray<GroupName>; readonly unknownWord: boolean } =>
  isGroupName(first)
    ? { names: [first], unknownWord: false }
    : first === "version"
      ? { names: [], unknownWord: false }
      : { names: Object.keys(COMMAND_GROUPS) as Array<GroupName>, unknownWord: first !== undefined && !first.startsWith("-") }

const loadCli = (names: ReadonlyArray<GroupName>) =>
  Effect.promise(async () => {
    const groups = await Promise.all(names.map((name) => COMMAND_GROUPS[name]()))
    const root = Command.make(
      "gait",
      { explain: Options.boolean("explain").pipe(Options.withDescription("print what gait is and exit")) },
      ({ explain }) => printLines([explain ? ROOT_EXPLAIN : `gait ${VERSION}`])
    ).pipe(Command.withDescription(ROOT_EXPLAIN), Command.withSubcommands(Arr.append(groups, versionCommand)))
    return Command.run(root, { name: "gait", version: VERSION })
  })

const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, "")

const GROUP_SUBCOMMANDS: Record<string, ReadonlyArray<string>> = {
  "": ["doctor", "gate", "init", "keys", "mcp", "run", "verify", "version"],
  mcp: ["proxy", "bridge", "serve"],
  gate: ["eval"],
  keys: ["init"],
  run: ["session"],
  "run session": ["start", "append", "status", "checkpoint", "compact"],
  verify: ["session-chain"]
}

/**
 * The library names the root command in every "invalid subcommand" message; gait names the group the
 * unknown word was given to and that group's subcommands.
 */
const usageMessage = (e: ValidationError.ValidationError, args: ReadonlyArray<string>): string => {
  const text = stripAnsi(HelpDoc.toAnsiText(e.error)).trim().split("\n").filter((l) => l.trim() !== "").join(" ")
  if (!text.startsWith("Invalid subcommand")) return text
  const words = args.filter((a) => !a.startsWith("-"))
  const group = commandLabel(args)
  const unknown = words[group === "" ? 0 : group.split(" ").length] ?? ""
  const choices = GROUP_SUBCOMMANDS[group] ?? []
  return `unknown command "${unknown}" for gait${group === "" ? "" : ` ${group}`}; use one of: ${choices.join(", ")}`
}

const COMMAND_PATHS = new Set([
  "doctor",
  "doctor adoption",
  "init",
  "gate",
  "gate eval",
  "keys",
  "keys init",
  "mcp",
  "mcp proxy",
  "mcp bridge",
  "mcp serve",
  "run",
  "run session",
  "run session start",
  "run session append",
  "run session status",
  "run session checkpoint",
  "run session compact",
  "verify",
  "verify session-chain",
  "version"
])

/** `gate eval`, `keys init`, …: the command a text-mode error line is attributed to (ops.md §7). */
export const commandLabel = (args: ReadonlyArray<string>): string => {
  const words = args.slice(0, 3).filter((a) => !a.startsWith("-"))
  for (let n = words.length; n > 0; n--) {
    const label = words.slice(0, n).join(" ")
    if (COMMAND_PATHS.has(label)) return label
  }
  return ""
}

/** Log lines (e.g. a repaired journal) go to stderr, so stdout stays one JSON line or the text output. */
const stderrLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ logLevel, message }) => {
    const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
    process.stderr.write(`gait ${logLevel.label.toLowerCase()}: ${text}\n`)
  })
)

/** Splits `--flag=value` into two items (the parser rejects `=` for repeated options). */
export const normalizeArgv = (args: ReadonlyArray<string>): Array<string> =>
  args.flatMap((a) => {
    const m = /^(--[A-Za-z][\w-]*)=(.*)$/s.exec(a)
    return m === null ? [a] : [m[1] as string, m[2] as string]
  })

/**
 * The console the command tree runs with: the library's own error output is silenced (gait renders
 * usage errors itself, as JSON with --json), and its help text loses ANSI colours unless stdout is a
 * terminal that wants them.
 */
const withCliConsole = <A, E, R>(program: Effect.Effect<A, E, R>, plain: boolean) =>
  Console.consoleWith((current) =>
    Effect.withConsole(program, {
      ...current,
      log: (...args: ReadonlyArray<unknown>) => current.log(...(plain ? args.map((a) => (typeof a === "string" ? stripAnsi(a) : a)) : args)),
      error: () => Effect.void,
      unsafe: { ...current.unsafe, error: () => {} }
    })
  )

/**
 * Runs the CLI on user arguments (without node and script path). Succeeds with the exit code; every
 * failure has already been printed when this returns.
 */
export const runCli = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const json = args.includes("--json")
    const exit = yield* CliExit
    const { names, unknownWord } = selectGroups(args[0])
    // `gait <unknown word> --help` reports the unknown command instead of printing the root help.
    const argv = normalizeArgv(args).filter((a) => !(unknownWord && (a === "--help" || a === "-h")))
    const cli = yield* loadCli(names)
    const program = cli(["node", "gait", ...argv])
    // The library's own usage text goes to stderr in its format; gait renders usage errors itself.
    if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
      yield* printLines([`gait ${VERSION}`])
      return 0
    }
    const plain = !process.stdout.isTTY || process.env.NO_COLOR !== undefined
    const outcome = yield* Effect.exit(withCliConsole(program, plain).pipe(Effect.provide(stderrLogger)))
    if (Exit.isSuccess(outcome)) return yield* Ref.get(exit)
    const cid = yield* CorrelationId
    const label = commandLabel(args)
    const errorLine = (message: unknown) => `${label === "" ? "" : `${label} `}error: ${String(message)}`
    const failure = Cause.failureOption(outcome.cause)
    if (Option.isSome(failure)) {
      const e = failure.value
      if (ValidationError.isValidationError(e)) {
        if (ValidationError.isHelpRequested(e)) return 0
        const d = diagnose(new UsageError({ detail: usageMessage(e, args) }), cid)
        yield* json ? Console.log(renderJsonLine(d.body)) : Console.log(`${errorLine(d.body.error)}\nhint: run with --help for usage`)
        return d.exitCode
      }
      if (isGaitError(e)) {
        const d = diagnose(e, cid)
        yield* json ? Console.log(renderJsonLine(d.body)) : Console.log(`${errorLine(d.body.error)}\nhint: ${String(d.body.hint)}`)
        return d.exitCode
      }
    }
    if (Cause.isInterruptedOnly(outcome.cause)) return 130
    yield* Effect.logDebug(Cause.pretty(outcome.cause))
    const d = diagnoseDefect(cid)
    yield* json ? Console.log(renderJsonLine(d.body)) : Console.log(errorLine(d.body.error))
    return d.exitCode
  })
