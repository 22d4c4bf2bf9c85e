// Bundles the CLI into one CommonJS file (fast start: one parse, no module resolution) and emits the
// library entry with declarations. CommonJS because a CJS dependency of @effect/cli calls require().
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { deepEffectImports, withoutFastCheck } from "./bundle-plugins.mjs"

mkdirSync("dist", { recursive: true })
await build({
  entryPoints: ["src/bin/gait.ts"],
  outfile: "dist/gait.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  minify: true,
  keepNames: false,
  legalComments: "none",
  sourcemap: false,
  logLevel: "warning",
  plugins: [deepEffectImports(process.cwd()), withoutFastCheck]
})
// V8 code cache for bin/gait.cjs: train on a real evaluation so the hot functions are in the cache.
rmSync("dist/gait.cjs.v8cache", { force: true })
const scratch = mkdtempSync(join(tmpdir(), "gait-build-"))
try {
  execFileSync(
    process.execPath,
    [
      "bin/gait.cjs",
      "gate",
      "eval",
      "--policy",
      "examples/policy.yaml",
      "--intent",
      "examples/intents/write_config.json",
      "--trace-out",
      join(scratch, "trace.json"),
      "--no-config",
      "--json"
    ],
    { env: { ...process.env, GAIT_CODE_CACHE_OUT: "dist/gait.cjs.v8cache" }, stdio: "ignore" }
  )
} catch (e) {
  // require_approval exits 4; only a missing cache file matters, and then start-up is merely slower.
  if (typeof e?.status !== "number") throw e
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
if (!process.argv.includes("--cli-only")) {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" })
}
