/** Spawns the real bundled CLI (dist/gait.cjs) and captures its output. */
import { spawnSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"

export const REPO_ROOT = path.resolve(__dirname, "..", "..")
/** The shipped entry point (code-cache loader over dist/gait.cjs). */
export const GAIT_BIN = path.join(REPO_ROOT, "bin", "gait.cjs")
export const EXAMPLES = path.join(REPO_ROOT, "examples")

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** stdout parsed as one JSON line (throws when it is not exactly one JSON line). */
  readonly json: () => Record<string, unknown>
}

export const runGait = (
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: Record<string, string | undefined>; readonly input?: string } = {}
): CliResult => {
  const result = spawnSync(process.execPath, [GAIT_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    input: options.input ?? "",
    encoding: "utf8",
    timeout: 30_000
  })
  const stdout = result.stdout ?? ""
  return {
    code: result.status ?? -1,
    stdout,
    stderr: result.stderr ?? "",
    json: () => {
      const lines = stdout.split("\n").filter((l) => l !== "")
      if (lines.length !== 1) throw new Error(`expected one JSON line, got ${lines.length}: ${stdout}`)
      return JSON.parse(lines[0] as string) as Record<string, unknown>
    }
  }
}

export const tempDir = (prefix = "gait-test-"): string => mkdtempSync(path.join(tmpdir(), prefix))
