// Bundles the CLI into one CommonJS file (fast start: one parse, no module resolution) and emits the
// library entry with declarations. CommonJS because a CJS dependency of @effect/cli calls require().
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import { mkdirSync } from "node:fs"

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
  logLevel: "warning"
})
if (!process.argv.includes("--cli-only")) {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" })
}
