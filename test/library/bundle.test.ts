import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { barrelMaps, rewriteBarrelImports } from "../../scripts/bundle-plugins.mjs"

const maps = barrelMaps(process.cwd())

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : []
  })

describe("bundle: barrel imports rewritten to deep modules", () => {
  it("turns each namespace into its own module import, keeping aliases and type-only names", () => {
    const out = rewriteBarrelImports(
      'import { Array as Arr, Effect, type Option } from "effect"\nimport type { ParseResult } from "effect"\n',
      maps,
      "x.ts"
    )
    expect(out).toBe(
      'import * as Arr from "effect/Array"; import * as Effect from "effect/Effect"; import type * as Option from "effect/Option"\n' +
        'import type * as ParseResult from "effect/ParseResult"\n'
    )
  })

  it("maps plain function exports to the module that defines them, across lines", () => {
    const out = rewriteBarrelImports('import {\n  pipe,\n  identity as id\n} from "effect"', maps, "x.ts")
    expect(out).toBe('import { pipe } from "effect/Function"; import { identity as id } from "effect/Function"')
  })

  it("rewrites @effect/cli and @effect/platform and leaves deep imports alone", () => {
    const source = 'import { Command, Options } from "@effect/cli"\nimport { FileSystem } from "@effect/platform"\nimport * as NodePath from "@effect/platform-node/NodePath"'
    expect(rewriteBarrelImports(source, maps, "x.ts")).toBe(
      'import * as Command from "@effect/cli/Command"; import * as Options from "@effect/cli/Options"\n' +
        'import * as FileSystem from "@effect/platform/FileSystem"\nimport * as NodePath from "@effect/platform-node/NodePath"'
    )
  })

  it("refuses a name the barrel does not export instead of emitting a broken import", () => {
    expect(() => rewriteBarrelImports('import { NoSuchModule } from "effect"', maps, "bad.ts")).toThrow(
      'bad.ts: "NoSuchModule" is not exported by the "effect" barrel'
    )
  })

  it("every barrel import in src/ can be rewritten", () => {
    for (const file of sourceFiles("src")) {
      const text = readFileSync(file, "utf8")
      expect(() => rewriteBarrelImports(text, maps, file)).not.toThrow()
      expect(rewriteBarrelImports(text, maps, file)).not.toMatch(/from "(effect|@effect\/cli|@effect\/platform)"/)
    }
  })
})

describe("bundle: fast-check is left out", () => {
  it("src/ never uses Arbitrary or FastCheck (the bundle replaces fast-check with an empty module)", () => {
    for (const file of sourceFiles("src")) {
      expect(readFileSync(file, "utf8"), file).not.toMatch(/\b(Arbitrary|FastCheck)\b|fast-check/)
    }
  })

  it("the built CLI runs and carries no fast-check code", () => {
    const out = execFileSync(process.execPath, ["bin/gait.cjs", "version", "--json"], { encoding: "utf8" })
    expect(JSON.parse(out)).toMatchObject({ ok: true })
    expect(readFileSync("dist/gait.cjs", "utf8")).not.toContain("fast-check/lib")
  })
})
