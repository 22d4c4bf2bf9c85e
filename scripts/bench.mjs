// `make bench`: bundles the TypeScript bench (bench/run.ts) and its child probes with esbuild into
// .tmp/bench/ (there is no TypeScript runner here), then runs it with node. Needs dist/gait.cjs
// (`node scripts/build.mjs --cli-only`). BENCH_QUICK=1 for a short smoke run.
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"
import { deepEffectImports, withoutFastCheck } from "./bundle-plugins.mjs"

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const outdir = join(root, ".tmp", "bench")

if (!existsSync(join(root, "dist", "gait.cjs"))) {
  console.error("bench: dist/gait.cjs is missing; run `node scripts/build.mjs --cli-only` (or `make build`) first")
  process.exit(2)
}
mkdirSync(outdir, { recursive: true })

await build({
  absWorkingDir: root,
  entryPoints: ["run", "gait-entry", "load-probe", "cold", "session", "serve", "effect-echo"].map((name) => ({
    in: `bench/${name}.ts`,
    out: name
  })),
  outdir,
  outExtension: { ".js": ".cjs" },
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // Same settings as the shipped CLI, so load-time probes see the same code shape.
  minify: true,
  legalComments: "none",
  logLevel: "warning",
  plugins: [deepEffectImports(root), withoutFastCheck]
})

const run = (script, args = []) =>
  spawnSync(process.execPath, [...args, join(outdir, script)], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, GAIT_BENCH_DIR: outdir }
  }).status ?? 1
const only = process.env.BENCH_ONLY // e.g. BENCH_ONLY=serve
const wanted = (name) => only === undefined || only.split(",").includes(name)
const gate = wanted("gate") ? run("run.cjs", ["--expose-gc"]) : 0
const session = wanted("session") ? run("session.cjs") : 0
const serve = wanted("serve") ? run("serve.cjs") : 0
process.exit([gate, session, serve].find((code) => code !== 0) ?? 0)
