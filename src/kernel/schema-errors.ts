/**
 * One short, human sentence for the first problem of a Schema decode failure, with its path. The
 * library's own formatter prints whole type signatures (kilobytes for a policy), which is no use in
 * a one-line error.
 */
import { type ParseResult, SchemaAST } from "effect"

export interface DecodeProblem {
  readonly path: ReadonlyArray<PropertyKey>
  /** An object key the schema does not allow (decoded with `onExcessProperty: "error"`). */
  readonly unexpected: boolean
  readonly message: string
}

const describeAst = (ast: SchemaAST.AST): string => {
  switch (ast._tag) {
    case "StringKeyword":
      return "a string"
    case "NumberKeyword":
      return "a number"
    case "BooleanKeyword":
      return "a boolean"
    case "Literal":
      return ast.literal === null ? "null" : JSON.stringify(ast.literal)
    case "TupleType":
      return "a list"
    case "TypeLiteral":
      return "a mapping"
    case "Union": {
      const members = ast.types.filter((t) => !(t._tag === "Literal" && t.literal === null))
      return [...new Set(members.map(describeAst))].join(" or ")
    }
    case "Refinement": {
      const id = SchemaAST.getIdentifierAnnotation(ast)
      return id._tag === "Some" && id.value === "Int" ? "an integer" : describeAst(ast.from)
    }
    case "Transformation":
      return describeAst(ast.to)
    default:
      return "a valid value"
  }
}

const show = (actual: unknown): string => {
  if (actual === undefined) return "nothing"
  if (Array.isArray(actual)) return "a list"
  if (actual !== null && typeof actual === "object") return "a mapping"
  const text = JSON.stringify(actual) ?? String(actual)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const walk = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey>): DecodeProblem => {
  switch (issue._tag) {
    case "Pointer":
      return walk(issue.issue, [...path, ...(Array.isArray(issue.path) ? issue.path : [issue.path as PropertyKey])])
    case "Composite":
      return walk(Array.isArray(issue.issues) ? (issue.issues[0] as ParseResult.ParseIssue) : (issue.issues as ParseResult.ParseIssue), path)
    case "Refinement":
      return issue.kind === "From"
        ? walk(issue.issue, path)
        : { path, unexpected: false, message: `expected ${describeAst(issue.ast)}, got ${show(issue.actual)}` }
    case "Transformation":
      return walk(issue.issue, path)
    case "Type":
      return { path, unexpected: false, message: `expected ${describeAst(issue.ast)}, got ${show(issue.actual)}` }
    case "Missing":
      return { path, unexpected: false, message: "is required" }
    case "Unexpected":
      return { path, unexpected: true, message: "is not a known field" }
    case "Forbidden":
      return { path, unexpected: false, message: "cannot be decoded" }
  }
}

export const firstProblem = (error: ParseResult.ParseError): DecodeProblem => walk(error.issue, [])

/** `rules[0].match.tool_names`, `args`, … */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc === "" ? String(seg) : `${acc}.${String(seg)}`),
    ""
  )
