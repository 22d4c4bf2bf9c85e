// The JSON Schema files in schemas/ are derived from the Effect schemas (the single source of truth).
// `make schemas` regenerates them; this test fails when a committed file is out of date.
import { describe, expect, it } from "@effect/vitest"
import { JSONSchema, type Schema } from "effect"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import {
  IntentRequest,
  PolicyInput,
  ProjectConfig,
  SessionChain,
  SessionEvent,
  SessionState,
  TraceRecord
} from "../../src/index.js"

const dir = path.resolve(__dirname, "..", "..", "schemas")
const documents: ReadonlyArray<readonly [string, Schema.Schema.Any]> = [
  ["intent_request.schema.json", IntentRequest],
  ["policy.schema.json", PolicyInput],
  ["trace_record.schema.json", TraceRecord],
  ["project_config.schema.json", ProjectConfig],
  ["session_event.schema.json", SessionEvent],
  ["session_state.schema.json", SessionState],
  ["session_chain.schema.json", SessionChain]
]

describe("derived JSON Schema files", () => {
  for (const [file, schema] of documents) {
    it(`${file} matches its Effect schema`, () => {
      const rendered = `${JSON.stringify(JSONSchema.make(schema), null, 2)}\n`
      const target = path.join(dir, file)
      if (process.env.UPDATE_SCHEMAS === "1") {
        mkdirSync(dir, { recursive: true })
        writeFileSync(target, rendered)
      }
      expect(existsSync(target), `${file} missing: run make schemas`).toBe(true)
      expect(readFileSync(target, "utf8")).toBe(rendered)
    })
  }
})
