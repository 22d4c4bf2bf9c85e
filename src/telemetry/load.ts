/**
 * Loading the JSONL telemetry logs (ops.md §5.2, §5.3): blank lines are skipped, line numbers count
 * every physical line, a line may hold at most 1 MiB, and every event must pass the same rules that
 * guard the append.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect, Either, Schema } from "effect"
import { describePlatformError } from "../kernel/files.js"
import { firstProblem, formatPath } from "../kernel/schema-errors.js"
import { trim } from "../kernel/text.js"
import { TelemetryLogInvalid } from "./errors.js"
import {
  AdoptionEvent,
  normalizeAdoptionEvent,
  OperationalEvent,
  validateOperationalEvent
} from "./schema.js"

/** The reference's line-scanner limit. */
export const MAX_LINE_BYTES = 1024 * 1024

type Log = TelemetryLogInvalid["log"]

interface LineProblem {
  readonly stage: "parse" | "validate"
  readonly detail: string
}

const parseJson = (line: string): Either.Either<unknown, LineProblem> =>
  Either.try({
    try: (): unknown => JSON.parse(line),
    catch: (e) => ({ stage: "parse", detail: e instanceof Error ? e.message : String(e) })
  })

const decodeWith =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (value: unknown): Either.Either<A, LineProblem> =>
    Either.mapLeft(Schema.decodeUnknownEither(schema)(value), (error) => {
      const problem = firstProblem(error)
      const at = formatPath(problem.path)
      return { stage: "parse", detail: at === "" ? problem.message : `${at}: ${problem.message}` }
    })

const loadLog = <A>(log: Log, path: string, decodeLine: (line: string) => Either.Either<A, LineProblem>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs
      .readFile(path)
      .pipe(Effect.mapError((e) => new TelemetryLogInvalid({ log, path, stage: "open", detail: describePlatformError(e) })))
    const lines = new TextDecoder("utf-8").decode(bytes).split("\n")
    if (lines[lines.length - 1] === "") lines.pop()
    const events: Array<A> = []
    for (const [index, raw] of lines.entries()) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw
      const fail = (stage: TelemetryLogInvalid["stage"], detail: string) =>
        new TelemetryLogInvalid({ log, path, stage, line: index + 1, detail })
      if (Buffer.byteLength(line, "utf8") > MAX_LINE_BYTES) return yield* fail("read", `line exceeds ${MAX_LINE_BYTES} bytes`)
      if (trim(line) === "") continue
      const decoded = decodeLine(line)
      if (Either.isLeft(decoded)) return yield* fail(decoded.left.stage, decoded.left.detail)
      events.push(decoded.right)
    }
    return events as ReadonlyArray<A>
  })

const decodeOperational = decodeWith(OperationalEvent)
const decodeAdoption = decodeWith(AdoptionEvent)

/** Every event of an operational log, in file order. */
export const loadOperationalEvents = Effect.fn("telemetry.loadOperationalEvents")((path: string) =>
  loadLog("operational", path, (line) =>
    Either.flatMap(Either.flatMap(parseJson(line), decodeOperational), (event) => {
      const problem = validateOperationalEvent(event)
      return problem === undefined ? Either.right(event) : Either.left<LineProblem>({ stage: "validate", detail: problem })
    })
  )
)

/** Every event of an adoption log, normalised (§5.3), in file order. */
export const loadAdoptionEvents = Effect.fn("telemetry.loadAdoptionEvents")((path: string) =>
  loadLog("adoption", path, (line) =>
    Either.flatMap(Either.flatMap(parseJson(line), decodeAdoption), (event) =>
      Either.mapLeft(normalizeAdoptionEvent(event), (detail): LineProblem => ({ stage: "validate", detail }))
    )
  )
)
