// Client artifact paths: refused by default; when allowed, confined to the configured directories.
import type { ChildProcess } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { tempDir } from "../helpers/cli.js"
import { startServer } from "../helpers/serve.js"

const servers: Array<ChildProcess> = []
afterAll(() => {
  for (const s of servers) s.kill("SIGTERM")
})

const call = { name: "fs.read", context: { identity: "a", workspace: "/w", risk_class: "low", session_id: "s" } }
const post = async (base: string, body: unknown) => {
  const response = await fetch(`${base}/v1/evaluate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe("mcp serve client artifact paths", () => {
  it("are refused by default", async () => {
    const base = await startServer(tempDir(), [], servers)
    for (const field of ["trace_path", "runpack_out", "pack_out", "session_journal"]) {
      const r = await post(base, { [field]: "x.json", call })
      expect(r.status).toBe(400)
      expect(r.body.error).toBe(`request.${field} is not allowed by server configuration`)
    }
  })

  it("when allowed, stay inside the trace directory: no .. escape, no absolute escape, no symlink escape", async () => {
    const dir = tempDir()
    const traces = path.join(dir, "gait-out", "mcp-serve", "traces")
    mkdirSync(traces, { recursive: true })
    mkdirSync(path.join(dir, "outside"))
    symlinkSync(path.join(dir, "outside"), path.join(traces, "escape"))
    const base = await startServer(dir, ["--allow-client-artifact-paths"], servers)
    const ok = await post(base, { trace_path: "nested/t1.json", call })
    expect(ok.status).toBe(200)
    expect(ok.body.trace_path).toBe(path.join(traces, "nested", "t1.json"))
    expect(existsSync(path.join(traces, "nested", "t1.json"))).toBe(true)
    for (const [p, why] of [
      ["../t2.json", "must stay inside"],
      [path.join(dir, "outside", "t3.json"), "must stay inside"],
      ["escape/t4.json", "(symbolic link)"]
    ] as const) {
      const r = await post(base, { trace_path: p, call })
      expect(r.status, p).toBe(400)
      expect(String(r.body.error)).toContain(why)
    }
    expect(readdirSync(path.join(dir, "outside"))).toEqual([])
    const runpack = await post(base, { runpack_out: "r.zip", call })
    expect(runpack.body.error).toBe("request.runpack_out is not supported by this server")
  })
})
