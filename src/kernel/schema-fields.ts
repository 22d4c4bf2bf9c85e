/**
 * Field builders for wire schemas read the way Go's decoder reads them: a field may be absent or
 * `null` (both mean "not set"); present values must have the right type.
 */
import { Schema } from "effect"

export const optionalNullable = <S extends Schema.Schema.Any>(schema: S) =>
  Schema.optionalWith(Schema.NullOr(schema), { exact: true })

export const OptString = optionalNullable(Schema.String)
export const OptBoolean = optionalNullable(Schema.Boolean)
export const OptInt = optionalNullable(Schema.Int)
export const OptStringList = optionalNullable(Schema.Array(Schema.String))
