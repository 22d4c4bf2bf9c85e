import { Schema } from "effect"

/**
 * Why a runpack zip could not be verified at all (spec session.md §7.5). Hash mismatches, missing
 * files and signature problems are not errors: they are reported in the verification result.
 */
export const RunpackInvalidReason = Schema.Literal(
  /** Not a zip archive, or its directory points outside the bytes. */
  "zip_unreadable",
  /** More entries than the verifier accepts. */
  "too_many_entries",
  /** Two entries with the same name (after trimming and `\` → `/`). */
  "duplicate_entries",
  /** An entry whose declared or actual uncompressed size exceeds the limit. */
  "entry_too_large",
  /** An entry that does not decompress, or whose CRC or size disagrees with its header. */
  "entry_unreadable",
  "missing_manifest",
  "manifest_unparsable",
  "manifest_schema_id",
  "manifest_schema_version",
  "manifest_missing_run_id"
)
export type RunpackInvalidReason = typeof RunpackInvalidReason.Type

export class RunpackInvalid extends Schema.TaggedError<RunpackInvalid>()("RunpackInvalid", {
  reason: RunpackInvalidReason,
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}
