// Builds the CLI bundle once before the suite, so process tests run the shipped artifact, and gives
// the run its own temporary directory (TMPDIR, inherited by the test workers and every process they
// spawn), removed when the run ends — tests create scratch directories freely and leave none behind.
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"

export default function setup(): () => void {
  execFileSync(process.execPath, ["scripts/build.mjs", "--cli-only"], { stdio: "inherit" })
  const runTmp = mkdtempSync(path.join(tmpdir(), "gait-test-run-"))
  const previous = process.env.TMPDIR
  process.env.TMPDIR = runTmp
  return () => {
    if (previous === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previous
    rmSync(runTmp, { recursive: true, force: true })
  }
}
