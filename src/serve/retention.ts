/**
 * The `Retention` service (spec mcp.md §6.1): after each successful request, keep the newest
 * `maxCount` artifacts of each class and delete those older than `maxAge`. It never fails a request;
 * what it did (or could not do) is reported as warnings. Session artifacts rotate per session — a
 * journal, its state index and its chain are kept or removed together (the reference counted them
 * separately and could delete a journal's index while keeping the journal).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Clock, Context, Effect, Either, Layer, Option } from "effect"
import * as NodePath from "node:path"

export type ArtifactClass = "trace" | "runpack" | "pack" | "session"

export interface RetentionRule {
  readonly class: ArtifactClass
  readonly dir: string
  /** 0 disables the count limit. */
  readonly maxCount: number
  /** 0 disables the age limit. */
  readonly maxAgeMs: number
}

export interface RetentionApi {
  /** Applies every rule; returns warnings such as `retention_trace_removed_age=1 removed_count=2`. */
  readonly sweep: Effect.Effect<ReadonlyArray<string>>
}

export class Retention extends Context.Tag("gait/Retention")<Retention, RetentionApi>() {}

export const layerNone: Layer.Layer<Retention> = Layer.succeed(Retention, { sweep: Effect.succeed([]) })

const matches = (cls: ArtifactClass, name: string): boolean => {
  const n = name.trim().toLowerCase()
  switch (cls) {
    case "trace":
      return n.endsWith(".json") && n.includes("trace")
    case "runpack":
      return n.endsWith(".zip") && (n.startsWith("runpack_") || n.includes("_cp_"))
    case "pack":
      return n.endsWith(".zip") && n.startsWith("pack_")
    case "session":
      return n.endsWith(".json") || n.endsWith(".jsonl") || n.endsWith(".state")
  }
}

/** Files that live and die together: a session journal with its state index and chain file. */
export const retentionUnitOf = (cls: ArtifactClass, name: string): string => {
  if (cls !== "session") return name
  return name.replace(/\.journal\.jsonl\.state\.json$/, "").replace(/\.journal\.jsonl$/, "").replace(/\.journal_chain\.json$/, "")
}

interface Unit {
  readonly key: string
  readonly files: ReadonlyArray<string>
  readonly mtime: number
}

const sweepRule = (fs: FileSystem.FileSystem, rule: RetentionRule, now: number) =>
  Effect.gen(function* () {
    const warn = (e: { readonly message: string }) => [`retention_${rule.class}_error=${e.message}`]
    const names = yield* Effect.either(fs.readDirectory(rule.dir))
    if (Either.isLeft(names)) return warn(names.left)
    const units = new Map<string, { files: Array<string>; mtime: number }>()
    for (const name of names.right) {
      if (!matches(rule.class, name)) continue
      const path = NodePath.join(rule.dir, name)
      const info = yield* Effect.either(fs.stat(path))
      if (Either.isLeft(info)) return warn(info.left)
      if (info.right.type !== "File") continue
      const mtime = Option.getOrElse(Option.map(info.right.mtime, (d) => d.getTime()), () => 0)
      const key = retentionUnitOf(rule.class, name)
      const unit = units.get(key) ?? { files: [], mtime: 0 }
      unit.files.push(path)
      unit.mtime = Math.max(unit.mtime, mtime)
      units.set(key, unit)
    }
    const ordered: Array<Unit> = [...units.entries()]
      .map(([key, u]) => ({ key, files: u.files, mtime: u.mtime }))
      .sort((a, b) => b.mtime - a.mtime || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0))
    let removedAge = 0
    let removedCount = 0
    for (const [index, unit] of ordered.entries()) {
      const ageExceeded = rule.maxAgeMs > 0 && now - unit.mtime > rule.maxAgeMs
      const countExceeded = rule.maxCount > 0 && index >= rule.maxCount
      if (!ageExceeded && !countExceeded) continue
      for (const file of unit.files) {
        const removed = yield* Effect.either(fs.remove(file))
        if (Either.isLeft(removed) && !(removed.left._tag === "SystemError" && removed.left.reason === "NotFound")) {
          return warn(removed.left)
        }
      }
      if (ageExceeded) removedAge++
      if (countExceeded) removedCount++
    }
    return removedAge + removedCount > 0 ? [`retention_${rule.class}_removed_age=${removedAge} removed_count=${removedCount}`] : []
  })

export const layerFile = (rules: ReadonlyArray<RetentionRule>): Layer.Layer<Retention, never, FileSystem.FileSystem> =>
  Layer.effect(
    Retention,
    Effect.map(FileSystem.FileSystem, (fs) => {
      const active = rules.filter((r) => r.dir.trim() !== "" && (r.maxCount > 0 || r.maxAgeMs > 0))
      return {
        sweep: Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const warnings: Array<string> = []
          for (const rule of active) warnings.push(...(yield* sweepRule(fs, rule, now)))
          return warnings
        }).pipe(Effect.catchAllDefect(() => Effect.succeed(["retention_error=unexpected failure"])))
      }
    })
  )
