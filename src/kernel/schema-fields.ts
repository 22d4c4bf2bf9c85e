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

/** An optional member that is absent rather than `undefined` (for records gait writes). */
export const optionalExact = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** The five leading fields of every versioned record gait writes, in the reference's order. */
export const recordHeaderFields = {
  schema_id: Schema.String,
  schema_version: Schema.String,
  created_at: Schema.String,
  producer_version: Schema.String
} as const
