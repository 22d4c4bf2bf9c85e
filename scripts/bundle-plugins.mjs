// esbuild plugins shared by the CLI build and the bench bundles (so both see the same code shape).
//
// Why: the CLI loads each command group with a dynamic import(). esbuild then wraps modules in lazy
// initialisers instead of hoisting them, and a wrapped barrel (`import { Effect } from "effect"`)
// initialises every module it re-exports (STM, Metric, the test services…): ~170 modules that
// `gate eval` never uses. The barrel imports in src/ are rewritten to the packages' own deep
// modules at bundle time, so the source keeps the idiomatic imports.
import { readFileSync } from "node:fs"
import { join } from "node:path"

/** Barrel packages → (exported name → deep module specifier), read from each package's index.js. */
export const barrelMaps = (root) => {
  const maps = new Map()
  for (const pkg of ["effect", "@effect/cli", "@effect/platform"]) {
    const index = readFileSync(join(root, "node_modules", pkg, "dist", "esm", "index.js"), "utf8")
    const map = new Map()
    for (const m of index.matchAll(/export \* as (\w+) from "\.\/(\w+)\.js"/g)) map.set(m[1], { module: `${pkg}/${m[2]}`, namespace: true })
    for (const m of index.matchAll(/export \{([^}]*)\} from "\.\/(\w+)\.js"/g)) {
      const names = m[1].replace(/\/\*[\s\S]*?\*\//g, "").split(",")
      for (const name of names.map((s) => s.trim()).filter(Boolean)) map.set(name, { module: `${pkg}/${m[2]}`, namespace: false })
    }
    maps.set(pkg, map)
  }
  return maps
}

const IMPORT = /import\s+(type\s+)?\{([^}]*)\}\s+from\s+"(effect|@effect\/cli|@effect\/platform)"/g

/** Rewrites `import { A, type B, C as D } from "<barrel>"` into one deep import per name. */
export const rewriteBarrelImports = (source, maps, file) =>
  source.replace(IMPORT, (_all, typeOnly, names, pkg) =>
    names
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((spec) => {
        const m = /^(type\s+)?(\w+)(?:\s+as\s+(\w+))?$/.exec(spec)
        if (m === null) throw new Error(`${file}: cannot rewrite import specifier "${spec}" from "${pkg}"`)
        const [, typeName, name, alias] = m
        const target = maps.get(pkg).get(name)
        if (target === undefined) throw new Error(`${file}: "${name}" is not exported by the "${pkg}" barrel`)
        const local = alias ?? name
        const kind = typeOnly || typeName ? "import type" : "import"
        return target.namespace
          ? `${kind} * as ${local} from "${target.module}"`
          : `${kind} { ${name === local ? name : `${name} as ${local}`} } from "${target.module}"`
      })
      .join("; ")
  )

export const deepEffectImports = (root) => ({
  name: "deep-effect-imports",
  setup(build) {
    const maps = barrelMaps(root)
    build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => ({
      contents: rewriteBarrelImports(readFileSync(args.path, "utf8"), maps, args.path),
      loader: "ts"
    }))
  }
})

/**
 * effect/Schema imports fast-check for `Arbitrary.make`, which only tests call, and only at call time.
 * The bundles replace it with an empty module; src/ must not use Arbitrary or FastCheck
 * (test/library/bundle.test.ts checks that).
 */
export const withoutFastCheck = {
  name: "without-fast-check",
  setup(build) {
    build.onResolve({ filter: /^fast-check$/ }, () => ({ path: "fast-check", namespace: "gait-empty" }))
    build.onLoad({ filter: /.*/, namespace: "gait-empty" }, () => ({ contents: "export {}", loader: "js" }))
  }
}
