/** stdout rendering shared by commands: one sorted JSON line, or short text lines. */
import { Console, Effect } from "effect"
import { renderJsonLine } from "../kernel/json-output.js"
import { CorrelationId } from "./correlation.js"

/** Prints one JSON line; `correlation_id` is added when the output has none. */
export const printJson = (value: Record<string, unknown>) =>
  Effect.flatMap(CorrelationId, (cid) => Console.log(renderJsonLine({ correlation_id: cid, ...value })))

export const printLines = (lines: ReadonlyArray<string>) => Console.log(lines.join("\n"))
