// mcp serve journals each decision of a session through the session store and checkpoints every
// `checkpoint_interval` events; the resulting chain verifies with `gait verify session-chain`.
import type { ChildProcess } from "node:child_process"
import { existsSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { runGait, tempDir } from "../helpers/cli.js"
import { startServer } from "../helpers/serve.js"

const servers: Array<ChildProcess> = []
afterAll(() => {
  for (const s of servers) s.kill("SIGTERM")
})

describe("mcp serve session journaling", () => {
  it("appends one event per decision and checkpoints every interval; the chain verifies", async () => {
    const dir = tempDir()
    const base = await startServer(dir, ["--runpack-dir", "rp"], servers)
    const warnings: Array<ReadonlyArray<string>> = []
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${base}/v1/evaluate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          run_id: "r1",
          checkpoint_interval: 2,
          call: { name: "fs.read", context: { identity: "a", workspace: "/w", risk_class: "low", session_id: "sess/one" } }
        })
      })
      expect(response.status).toBe(200)
      warnings.push(((await response.json()) as { warnings: ReadonlyArray<string> }).warnings)
    }
    expect(warnings.map((w) => w.find((x) => x.startsWith("session_journal=")))).toEqual(
      [1, 2, 3, 4].map((n) => `session_journal=gait-out/mcp-serve/sessions/sess_one.journal.jsonl sequence=${n}`)
    )
    expect(warnings[1]?.some((w) => w.startsWith("session_checkpoint=rp/sess_one_cp_000002.zip"))).toBe(true)
    expect(warnings[3]?.some((w) => w.startsWith("session_checkpoint=rp/sess_one_cp_000004.zip"))).toBe(true)
    const chain = path.join("gait-out", "mcp-serve", "sessions", "sess_one.journal_chain.json")
    expect(existsSync(path.join(dir, chain))).toBe(true)
    const verified = runGait(["verify", "session-chain", "--chain", chain, "--json"], { cwd: dir })
    expect(verified.code, verified.stdout).toBe(0)
    expect(verified.json().checkpoints_checked).toBe(2)
  })

  it("answers 400, not 500, when a session id or run id is too long (in bytes) to name a journal file", async () => {
    const dir = tempDir()
    const base = await startServer(dir, [], servers)
    const post = (sessionId: string, runId: string) =>
      fetch(`${base}/v1/evaluate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          run_id: runId,
          call: { name: "fs.read", context: { identity: "a", workspace: "/w", risk_class: "low", session_id: sessionId } }
        })
      })
    for (const [sessionId, runId] of [["s".repeat(300), "r1"], ["sess", "r".repeat(300)]] as const) {
      const response = await post(sessionId, runId)
      expect(response.status).toBe(400)
      const body = (await response.json()) as { error: string }
      expect(body.error).toContain("at most 100 bytes")
    }
    // Non-ASCII ids count in bytes: 100 three-byte characters are 300 bytes, too long for a file name.
    const wide = await post("界".repeat(100), "r1")
    expect(wide.status).toBe(400)
    const ok = await post("s".repeat(100), "r1")
    expect(ok.status).toBe(200)
    const health = await fetch(`${base}/healthz`)
    expect(health.status).toBe(200)
  })
})
