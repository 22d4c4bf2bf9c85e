/**
 * Serve section of `make bench`: `/v1/evaluate` throughput and latency at 1 and 32 connections
 * (dev and prod keys), measured in the same run as (a) a bare `node:http` JSON echo server and
 * (b) this machine's durable-write ceiling (atomic write + fsync of a ~1.5 KB file, 32 in flight) —
 * every decision's trace must be on disk before its response. Loopback only, bounded duration.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { open, rename } from "node:fs/promises"
import * as http from "node:http"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { fmt, summarize, table } from "./stats.js"

const quick = process.env["BENCH_QUICK"] === "1"
const seconds = quick ? 2 : 5
const root = process.cwd()
const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

const body = JSON.stringify({
  call: {
    name: "fs.read",
    args: { path: "/srv/app/README.md" },
    targets: [{ kind: "path", value: "/srv/app/README.md", operation: "read" }],
    arg_provenance: [{ arg_path: "args.path", source: "user" }],
    context: { identity: "agent:bench", workspace: "/srv/app", risk_class: "low", session_id: "" }
  }
})

const startProcess = (argv: ReadonlyArray<string>, cwd: string) =>
  new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [...argv], { cwd, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8")
      const line = out.split("\n")[0]
      if (out.includes("\n") && line !== undefined) resolve({ child, url: `http://${(JSON.parse(line) as { listen: string }).listen}` })
    })
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)))
  })

const ECHO_SERVER = `
const http = require("node:http")
const server = http.createServer((req, res) => {
  const chunks = []
  req.on("data", (c) => chunks.push(c))
  req.on("end", () => {
    const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"))
    const out = JSON.stringify({ ok: true, echo: parsed })
    res.writeHead(200, { "content-type": "application/json" })
    res.end(out + "\\n")
  })
})
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ listen: "127.0.0.1:" + server.address().port })))
`

/** Closed-loop load: `connections` clients each send the next request when the previous one answers. */
const load = async (url: string, connections: number, durationS: number) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const latencies: Array<number> = []
  let errors = 0
  const deadline = Date.now() + durationS * 1000
  const one = () =>
    new Promise<void>((resolve) => {
      const started = process.hrtime.bigint()
      const req = http.request(`${url}/v1/evaluate`, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
        res.resume()
        res.on("end", () => {
          if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - started) / 1e6)
          else errors++
          resolve()
        })
      })
      req.on("error", () => {
        errors++
        resolve()
      })
      req.end(body)
    })
  const worker = async () => {
    while (Date.now() < deadline) await one()
  }
  const started = Date.now()
  await Promise.all(Array.from({ length: connections }, worker))
  const elapsed = (Date.now() - started) / 1000
  agent.destroy()
  const s = summarize(latencies)
  return { rps: latencies.length / elapsed, p50: s.p50, p99: s.p99, errors }
}

/** Atomic write + fsync + rename of a ~1.5 KB file, `inFlight` at a time: the durable-write ceiling. */
const durableCeiling = async (inFlight: number, durationS: number) => {
  const dir = mkdtempSync(NodePath.join(tmpdir(), "gait-bench-durable-"))
  const payload = Buffer.alloc(1536, 120)
  const latencies: Array<number> = []
  let n = 0
  const deadline = Date.now() + durationS * 1000
  const worker = async () => {
    while (Date.now() < deadline) {
      const i = n++
      const t0 = process.hrtime.bigint()
      const temp = NodePath.join(dir, `.t${i}.tmp`)
      const file = await open(temp, "wx", 0o600)
      await file.write(payload)
      await file.sync()
      await file.close()
      await rename(temp, NodePath.join(dir, `trace_${i}.json`))
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
  }
  const started = Date.now()
  await Promise.all(Array.from({ length: inFlight }, worker))
  const rps = latencies.length / ((Date.now() - started) / 1000)
  rmSync(dir, { recursive: true, force: true })
  const s = summarize(latencies)
  return { rps, p50: s.p50, p99: s.p99 }
}

const main = async (): Promise<void> => {
  log(`gait serve bench${quick ? " (BENCH_QUICK=1)" : ""}: ${seconds}s per run, loopback`)
  const work = mkdtempSync(NodePath.join(tmpdir(), "gait-bench-serve-"))
  const gait = NodePath.join(root, "bin", "gait.cjs")
  const policy = NodePath.join(root, "examples", "policy.yaml")
  const keys = JSON.parse(
    execFileSync(process.execPath, [gait, "keys", "init", "--out-dir", NodePath.join(work, "keys"), "--json"], { encoding: "utf8" })
  ) as { private_key_path: string }
  const rows: Array<Array<string>> = []
  const results: Record<string, unknown> = {}
  const measure = async (name: string, argv: ReadonlyArray<string>) => {
    const { child, url } = await startProcess(argv, work)
    try {
      await load(url, 4, 0.5)
      for (const c of [1, 32]) {
        const r = await load(url, c, seconds)
        results[`${name}@${c}`] = r
        rows.push([name, String(c), fmt(r.rps, 0), fmt(r.p50, 2), fmt(r.p99, 2), String(r.errors)])
      }
    } finally {
      child.kill("SIGTERM")
    }
  }
  await measure("node:http JSON echo", ["-e", ECHO_SERVER])
  await measure("@effect/platform JSON echo (the stack serve runs on)", [NodePath.join(root, ".tmp", "bench", "effect-echo.cjs")])
  await measure("gait serve (dev key)", [gait, "mcp", "serve", "--policy", policy, "--listen", "127.0.0.1:0", "--json", "--no-config"])
  await measure("gait serve (prod key)", [
    gait, "mcp", "serve", "--policy", policy, "--listen", "127.0.0.1:0", "--json", "--no-config", "--key-mode", "prod", "--private-key", keys.private_key_path
  ])
  const ceiling = await durableCeiling(32, seconds)
  rows.push(["durable-write ceiling (atomic write + fsync, 32 in flight)", "32", fmt(ceiling.rps, 0), "", "", ""])
  const single = await durableCeiling(1, seconds)
  rows.push(["one durable write at a time (its latency is a floor for p50)", "1", fmt(single.rps, 0), fmt(single.p50, 2), fmt(single.p99, 2), ""])
  rmSync(work, { recursive: true, force: true })
  process.stdout.write(`Serve throughput (POST /v1/evaluate, closed loop)\n${table(["server", "conns", "req/s", "p50 ms", "p99 ms", "errors"], rows)}\n`)
  const dev32 = results["gait serve (dev key)@32"] as { rps: number } | undefined
  const echo1 = results["node:http JSON echo@1"] as { p50: number } | undefined
  const dev1 = results["gait serve (dev key)@1"] as { p50: number } | undefined
  const effect32 = results["@effect/platform JSON echo (the stack serve runs on)@32"] as { rps: number } | undefined
  if (dev32 !== undefined && echo1 !== undefined && dev1 !== undefined) {
    process.stdout.write(
      `Targets: throughput at 32 connections ${fmt((dev32.rps / ceiling.rps) * 100, 0)}% of the durable-write ceiling (target ≥ 70%); ` +
        `p50 at 1 connection ${fmt(dev1.p50 - echo1.p50, 2)} ms above the bare echo (target ≤ 1 ms)\n` +
        `Context: the @effect/platform echo alone reaches ${effect32 === undefined ? "?" : fmt((effect32.rps / ceiling.rps) * 100, 0)}% of the ceiling; ` +
        `one durable write alone takes p50 ${fmt(single.p50, 2)} ms\n`
    )
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`serve bench failed: ${String(e)}\n`)
  process.exitCode = 1
})
