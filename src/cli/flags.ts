/** Option builders and readers shared by the command modules. */
import { Options } from "@effect/cli"
import { Option } from "effect"
import { nonBlank } from "../kernel/text.js"

/** An optional text flag with its help line. */
export const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

export const booleanFlag = (name: string, description: string) => Options.boolean(name).pipe(Options.withDescription(description))

export const jsonFlag = booleanFlag("json", "print one JSON line")
export const explainFlag = booleanFlag("explain", "print what this command does and exit")

/** The trimmed value of an optional flag; blank counts as not given. */
export const present = (o: Option.Option<string>): string | undefined => nonBlank(Option.getOrUndefined(o))
