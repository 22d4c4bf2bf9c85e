// Builds the CLI bundle once before the suite, so process tests run the shipped artifact.
import { execFileSync } from "node:child_process"

export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs", "--cli-only"], { stdio: "inherit" })
}
