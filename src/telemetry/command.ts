/** The command name both telemetry logs record for an invocation (ops.md §5.1). */
import { trim } from "../kernel/text.js"

/** Commands whose first sub-word is part of the name: `run session start` → `run session`. */
const TWO_WORD = new Set([
  "approve-script",
  "capture",
  "check",
  "contract",
  "enforce",
  "gate",
  "init",
  "keys",
  "list-scripts",
  "policy",
  "regress",
  "run",
  "job",
  "pack",
  "report",
  "scout",
  "guard",
  "incident",
  "registry",
  "gateway",
  "mcp",
  "voice",
  "doctor",
  "delegate",
  "test",
  "ui"
])

// Maps, not object literals: an argument such as `constructor` must not find Object.prototype members.
const ALIASES: ReadonlyMap<string, string> = new Map([
  ["--help", "help"],
  ["-h", "help"],
  ["help", "help"],
  ["--version", "version"],
  ["-v", "version"],
  ["version", "version"],
  ["--explain", "explain"]
])

/**
 * `args` are the user arguments (argv without the program name). No arguments is `version` (what a
 * bare `gait` prints), a blank first argument is `unknown`.
 */
export const normalizeAdoptionCommand = (args: ReadonlyArray<string>): string => {
  const first = args[0]
  if (first === undefined) return "version"
  const command = trim(first)
  if (command === "") return "unknown"
  const alias = ALIASES.get(command)
  if (alias !== undefined) return alias
  const sub = trim(args[1] ?? "")
  return TWO_WORD.has(command) && sub !== "" && !sub.startsWith("-") ? `${command} ${sub}` : command
}

const MILESTONES: ReadonlyMap<string, string> = new Map([
  ["demo", "A1"],
  ["verify", "A2"],
  ["regress init", "A3"],
  ["regress run", "A4"]
])

/** The activation milestone a successful run of `command` earns, if any (E1–E3 are never emitted). */
export const milestoneOf = (command: string): string | undefined => MILESTONES.get(command)
