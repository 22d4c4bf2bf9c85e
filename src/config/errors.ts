import { Schema } from "effect"

/** `.gait/config.yaml` (or `--config`) is unreadable, not YAML, or has values of the wrong type. */
export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>()("ConfigInvalid", {
  path: Schema.String,
  detail: Schema.String,
  line: Schema.optionalWith(Schema.Number, { exact: true }),
  column: Schema.optionalWith(Schema.Number, { exact: true })
}) {
  override get message(): string {
    const at = this.line === undefined ? "" : `${this.path}:${this.line}:${this.column ?? 1}: `
    return `parse project config: ${at}${this.detail}`
  }
}
