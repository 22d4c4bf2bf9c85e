/**
 * Loading the project config (spec ops.md §1.3): a missing file is fine only at the default path,
 * an empty file is an empty config, strings are trimmed. Unknown keys are reported as warnings with
 * their line (the reference silently ignored them, which hides typos in a production posture).
 */
import { Effect, Either, Schema } from "effect"
import { isMap } from "yaml"
import { InputUnreadable } from "../kernel/errors.js"
import { readBoundedText } from "../kernel/files.js"
import { firstProblem, formatPath } from "../kernel/schema-errors.js"
import { parseYaml } from "../kernel/yaml.js"
import { cleanPath } from "../kernel/text.js"
import { ConfigInvalid } from "./errors.js"
import { GateDefaults, McpServeDefaults, ProjectConfig, RetentionDefaults } from "./schema.js"

export const DEFAULT_CONFIG_PATH = ".gait/config.yaml"
const MAX_CONFIG_BYTES = 1024 * 1024

export interface LoadedConfig {
  readonly config: ProjectConfig
  readonly warnings: ReadonlyArray<string>
}

const EMPTY: LoadedConfig = { config: {}, warnings: [] }

const SECTIONS: Record<string, ReadonlyArray<string>> = {
  gate: Object.keys(GateDefaults.fields),
  mcp_serve: Object.keys(McpServeDefaults.fields),
  retention: Object.keys(RetentionDefaults.fields)
}

const decode = Schema.decodeUnknownEither(ProjectConfig, { errors: "first", onExcessProperty: "ignore" })

const trimStrings = (value: unknown): unknown => {
  if (typeof value === "string") return value.trim()
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, trimStrings(v)]))
  }
  return value
}

export const parseConfigText = (text: string, path: string): Either.Either<LoadedConfig, ConfigInvalid> => {
  if (text.trim() === "") return Either.right(EMPTY)
  const parsed = parseYaml(text, { strict: false })
  if (Either.isLeft(parsed)) return Either.left(new ConfigInvalid({ path, ...parsed.left }))
  const { document, value, locate, lineOf } = parsed.right
  const warnings: Array<string> = []
  const root = document.contents
  if (isMap(root)) {
    for (const pair of root.items) {
      const key = String((pair.key as { value?: unknown } | null)?.value)
      const known = SECTIONS[key]
      if (known === undefined) {
        warnings.push(`${path}:${lineOf(pair.key)}: unknown config key "${key}" ignored`)
        continue
      }
      if (isMap(pair.value)) {
        for (const inner of pair.value.items) {
          const innerKey = String((inner.key as { value?: unknown } | null)?.value)
          if (!known.includes(innerKey)) warnings.push(`${path}:${lineOf(inner.key)}: unknown config key "${key}.${innerKey}" ignored`)
        }
      }
    }
  }
  return Either.mapBoth(decode(trimStrings(value)), {
    onLeft: (error) => {
      const problem = firstProblem(error)
      return new ConfigInvalid({ path, detail: `${formatPath(problem.path) || "config"}: ${problem.message}`, ...locate(problem.path) })
    },
    onRight: (config) => ({ config, warnings })
  })
}

/** Loads the project config; `None`-equivalent empty config when skipped or missing at the default path. */
export const loadProjectConfig = Effect.fn("Config.load")(function* (rawPath: string) {
  const path = rawPath.trim()
  if (path === "") return yield* new ConfigInvalid({ path: rawPath, detail: "project config path is required" })
  const allowMissing = cleanPath(path) === DEFAULT_CONFIG_PATH
  const text = yield* readBoundedText("project config", path, MAX_CONFIG_BYTES).pipe(
    Effect.map((t): string | undefined => t),
    Effect.catchIf(
      (e): e is InputUnreadable => e instanceof InputUnreadable && e.reason === "not_found" && allowMissing,
      () => Effect.succeed(undefined)
    )
  )
  if (text === undefined) return EMPTY
  return yield* parseConfigText(text, path)
})

