/**
 * YAML documents with positions: parse once, turn the first syntax error into a one-line message
 * with line and column, and map a schema issue's path back to the line of the offending key.
 */
import { Either } from "effect"
import { type Document, isMap, isSeq, LineCounter, type Node as YamlNode, parseDocument } from "yaml"

export interface Position {
  readonly line?: number
  readonly column?: number
}

export interface YamlSyntaxError extends Position {
  readonly detail: string
}

export interface ParsedYaml {
  readonly document: Document
  /** The plain value (`{}` for an empty document). */
  readonly value: unknown
  /** Position of the key (or list item) at `path`, for error messages. */
  readonly locate: (path: ReadonlyArray<PropertyKey>) => Position
  /** Line of a top-level or nested key node, for warnings. */
  readonly lineOf: (node: unknown) => number
}

/** Aliases expand into the value; a cap keeps a "billion laughs" document from exhausting memory. */
const MAX_ALIAS_COUNT = 100

export const parseYaml = (text: string, options: { readonly strict: boolean }): Either.Either<ParsedYaml, YamlSyntaxError> => {
  const lines = new LineCounter()
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: options.strict })
  const error = document.errors[0]
  if (error !== undefined) {
    const pos = error.linePos?.[0] ?? lines.linePos(error.pos[0])
    const firstLine = error.message.split("\n")[0] ?? error.message
    return Either.left({
      detail: `${firstLine.replace(/ at line \d+, column \d+:?$/, "")} (${error.code})`,
      line: pos.line,
      column: pos.col
    })
  }
  const rangeStart = (node: unknown): number | undefined => (node as YamlNode | null | undefined)?.range?.[0]
  const locate = (path: ReadonlyArray<PropertyKey>): Position => {
    let node: unknown = document.contents
    let offset: number | undefined
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === segment)
        if (pair === undefined) break
        offset = rangeStart(pair.key) ?? offset
        node = pair.value
      } else if (isSeq(node) && typeof segment === "number") {
        node = node.items[segment]
        offset = rangeStart(node) ?? offset
      } else break
    }
    if (offset === undefined) return {}
    const pos = lines.linePos(offset)
    return { line: pos.line, column: pos.col }
  }
  // toJS throws (rather than reports) when aliases expand past the cap: an input error, not a defect.
  const value = Either.try(() => document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown)
  if (Either.isLeft(value)) {
    const cause = value.left
    return Either.left({ detail: `${cause instanceof Error ? cause.message : String(cause)} (ALIAS_COUNT)` })
  }
  return Either.right({
    document,
    value: value.right ?? {},
    locate,
    lineOf: (node) => lines.linePos(rangeStart(node) ?? 0).line
  })
}
