import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { existsSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { layerFile, Retention, type RetentionRule, retentionUnitOf } from "../../src/serve/retention.js"

const sweep = (rules: ReadonlyArray<RetentionRule>) =>
  Effect.flatMap(Retention, (r) => r.sweep).pipe(Effect.provide(layerFile(rules).pipe(Layer.provide(NodeFileSystem.layer))))

const touch = (dir: string, name: string, ageSeconds: number) => {
  const file = path.join(dir, name)
  writeFileSync(file, "{}")
  const t = Date.now() / 1000 - ageSeconds
  utimesSync(file, t, t)
  return file
}

describe("retention", () => {
  it.live("keeps the newest traces by count and reports the removals", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(path.join(tmpdir(), "gait-retention-"))
      for (let i = 0; i < 5; i++) touch(dir, `trace_${i}.json`, 100 - i)
      touch(dir, "notes.txt", 1000)
      const warnings = yield* sweep([{ class: "trace", dir, maxCount: 2, maxAgeMs: 0 }])
      expect(warnings).toEqual(["retention_trace_removed_age=0 removed_count=3"])
      expect(readdirSync(dir).sort()).toEqual(["notes.txt", "trace_3.json", "trace_4.json"])
    })
  )

  it.live("deletes artifacts older than the max age (strictly older)", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(path.join(tmpdir(), "gait-retention-"))
      touch(dir, "trace_old.json", 7200)
      touch(dir, "trace_new.json", 10)
      const warnings = yield* sweep([{ class: "trace", dir, maxCount: 0, maxAgeMs: 3_600_000 }])
      expect(warnings).toEqual(["retention_trace_removed_age=1 removed_count=0"])
      expect(readdirSync(dir)).toEqual(["trace_new.json"])
    })
  )

  it.live("keeps or removes a session's journal, state index and chain together", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(path.join(tmpdir(), "gait-retention-"))
      for (const [name, age] of [["a", 300], ["b", 10]] as const) {
        touch(dir, `${name}.journal.jsonl`, age)
        touch(dir, `${name}.journal.jsonl.state.json`, age)
        touch(dir, `${name}.journal_chain.json`, age)
      }
      touch(dir, "b.journal.jsonl.lock", 1)
      const warnings = yield* sweep([{ class: "session", dir, maxCount: 1, maxAgeMs: 0 }])
      expect(warnings).toEqual(["retention_session_removed_age=0 removed_count=1"])
      expect(readdirSync(dir).sort()).toEqual([
        "b.journal.jsonl",
        "b.journal.jsonl.lock",
        "b.journal.jsonl.state.json",
        "b.journal_chain.json"
      ])
      expect(retentionUnitOf("session", "x.journal.jsonl.state.json")).toBe("x")
    })
  )

  it.live("never fails: an unreadable directory becomes a warning", () =>
    Effect.gen(function* () {
      const missing = path.join(tmpdir(), "gait-retention-does-not-exist-xyz")
      expect(existsSync(missing)).toBe(false)
      const warnings = yield* sweep([{ class: "trace", dir: missing, maxCount: 1, maxAgeMs: 0 }])
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/^retention_trace_error=/)
    })
  )
})
