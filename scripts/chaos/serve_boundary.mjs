// Chaos: a real `gait mcp serve` (token auth, strict verdict statuses, a small body limit, trace
// retention) under mixed loopback traffic from CHAOS_CONCURRENCY workers for CHAOS_DURATION_S
// seconds: valid allow/block/require_approval/dry_run calls on all three routes, malformed JSON,
// bad request shapes, wrong content types, wrong methods and paths, oversized bodies, missing and
// wrong tokens, and connections aborted mid-request. Every response must be JSON (the SSE event's
// data for /sse) with the status the spec prescribes for its class, and nothing may be a 5xx. At
// the end the server must still be alive and healthy, its RSS growth after warm-up bounded, and a
// SIGTERM must stop it with exit 0.
//
// Env: CHAOS_DURATION_S (30), CHAOS_CONCURRENCY (24), CHAOS_BOUNDARY_LIMIT (65536),
// CHAOS_RSS_GROWTH_MIB (96), CHAOS_SEED (1), GAIT_BIN.
import * as http from "node:http"
import * as net from "node:net"
import {
  CALLS,
  decisionProblem,
  envInt,
  errorEnvelopeProblem,
  FULL_CONTEXT,
  MiB,
  makeChecks,
  memoryOf,
  mib,
  parseJson,
  removeDir,
  request,
  STACK_TRACE,
  sleep,
  startServer,
  tempDir
} from "./lib-serve.mjs"

const DURATION_MS = envInt("CHAOS_DURATION_S", 30) * 1000
const CONCURRENCY = envInt("CHAOS_CONCURRENCY", 24)
const LIMIT = envInt("CHAOS_BOUNDARY_LIMIT", 64 * 1024)
const RSS_GROWTH = envInt("CHAOS_RSS_GROWTH_MIB", 96) * MiB
const SEED = envInt("CHAOS_SEED", 1)
const TOKEN = "chaos-token-7f3a"
/** RSS is compared against its value once the heap has warmed up under the same load. */
const WARMUP_MS = Math.min(10_000, Math.max(2_000, DURATION_MS / 4))

/** mulberry32: a small seeded PRNG, so a run's traffic mix can be replayed with CHAOS_SEED. */
const prng = (seed) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const JSON_TYPE = { "content-type": "application/json" }
const AUTH = { authorization: `Bearer ${TOKEN}` }
const authed = { ...JSON_TYPE, ...AUTH }
const json = (v) => JSON.stringify(v)

const MALFORMED = ['{"call":', "{call: {}}", "[1,2", '{"call":{"name":"fs.read"}} trailing', "\u0000\u0001", '{"call":{"name":"fs.read",}}', "nul", '"\\ud800"x']
const BAD_SHAPES = [
  { body: json({ adapter: "openai" }), error: "request.call is required" },
  { body: json({ foo: 1, ...CALLS.allow }), error: 'decode request: unknown field "foo"' },
  { body: json({ trace_path: "/tmp/x.json", ...CALLS.allow }), error: "request.trace_path is not allowed by server configuration" },
  { body: json([CALLS.allow]), error: undefined },
  { body: json({ call: "fs.read" }), error: undefined },
  { body: json({ adapter: "nope", call: { name: "fs.read" } }), error: undefined },
  { body: json({ call: { name: "" } }), error: undefined },
  { body: "", error: "decode request: EOF" }
]

/**
 * The traffic classes: how to send one request and what the spec prescribes. `expect` is a status
 * and either `decision` (verdict, exit code), `error` (envelope, optional exact message), or for
 * aborted connections no response at all.
 */
const CLASSES = [
  { name: "allow", weight: 8, send: () => ({ body: json(CALLS.allow), headers: authed }), status: 200, decision: ["allow", 0] },
  {
    name: "allow+session",
    weight: 3,
    send: (r) => ({ body: json({ call: { ...CALLS.allow.call, context: { ...FULL_CONTEXT, session_id: `sess_chaos_${Math.floor(r() * 4)}` } } }), headers: authed }),
    status: 200,
    decision: ["allow", 0]
  },
  { name: "block", weight: 6, send: () => ({ body: json(CALLS.block), headers: authed }), status: 403, decision: ["block", 3] },
  { name: "require_approval", weight: 6, send: () => ({ body: json(CALLS.approval), headers: authed }), status: 409, decision: ["require_approval", 4] },
  { name: "dry_run", weight: 2, send: () => ({ body: json(CALLS.dryRun), headers: authed }), status: 409, decision: ["dry_run", 0] },
  { name: "sse allow", weight: 2, send: () => ({ path: "/v1/evaluate/sse", body: json(CALLS.allow), headers: authed }), status: 200, sse: ["allow", 0] },
  { name: "stream block", weight: 2, send: () => ({ path: "/v1/evaluate/stream", body: json(CALLS.block), headers: authed }), status: 403, decision: ["block", 3] },
  { name: "malformed json", weight: 6, send: (r) => ({ body: MALFORMED[Math.floor(r() * MALFORMED.length)], headers: authed }), status: 400, error: undefined },
  {
    name: "bad request shape",
    weight: 5,
    send: (r) => {
      const shape = BAD_SHAPES[Math.floor(r() * BAD_SHAPES.length)]
      return { body: shape.body, headers: authed, expectError: shape.error }
    },
    status: 400,
    error: undefined
  },
  {
    name: "wrong content type",
    weight: 4,
    send: (r) => ({ body: json(CALLS.allow), headers: { ...AUTH, "content-type": ["text/plain", "application/xml", "multipart/form-data; boundary=x"][Math.floor(r() * 3)] } }),
    status: 415,
    error: "content-type must be application/json"
  },
  {
    name: "wrong method",
    weight: 4,
    // The method is checked before auth: no token needed for a 405.
    send: (r) => ({ method: ["GET", "PUT", "DELETE", "PATCH"][Math.floor(r() * 4)], path: ["/v1/evaluate", "/v1/evaluate/sse", "/v1/evaluate/stream"][Math.floor(r() * 3)] }),
    status: 405,
    error: "expected POST"
  },
  { name: "wrong method on healthz", weight: 1, send: () => ({ method: "POST", path: "/healthz", body: "{}", headers: JSON_TYPE }), status: 405, error: "expected GET" },
  {
    name: "wrong path",
    weight: 4,
    send: (r) => ({ path: ["/v1/evaluate/", "/v2/evaluate", "/HEALTHZ", "/", "/v1/evaluate/sse/x", "/v1//evaluate"][Math.floor(r() * 6)], body: json(CALLS.allow), headers: authed }),
    status: 404,
    error: undefined
  },
  {
    name: "oversized",
    weight: 4,
    send: (r) => ({ body: `${json(CALLS.allow)}${" ".repeat(LIMIT * (1 + Math.floor(r() * 4)))}`, headers: authed }),
    status: 413,
    error: "request body exceeds max-request-bytes"
  },
  { name: "missing token", weight: 4, send: () => ({ body: json(CALLS.allow), headers: JSON_TYPE }), status: 401, error: "missing bearer authorization" },
  {
    name: "wrong token",
    weight: 4,
    send: (r) => ({ body: json(CALLS.block), headers: { ...JSON_TYPE, authorization: `Bearer ${TOKEN}${Math.floor(r() * 1000)}` } }),
    status: 401,
    error: "invalid bearer authorization"
  },
  { name: "basic auth", weight: 1, send: () => ({ body: json(CALLS.allow), headers: { ...JSON_TYPE, authorization: `Basic ${TOKEN}` } }), status: 401, error: "missing bearer authorization" },
  // Auth comes before the content type and the body: an unauthenticated oversized upload gets 401.
  {
    name: "oversized without token",
    weight: 1,
    send: () => ({ body: " ".repeat(LIMIT * 2), headers: { "content-type": "text/plain" } }),
    status: 401,
    error: "missing bearer authorization"
  },
  { name: "healthz", weight: 3, send: () => ({ method: "GET", path: "/healthz" }), status: 200, health: true },
  { name: "aborted", weight: 4, abort: true }
]
const TOTAL_WEIGHT = CLASSES.reduce((n, c) => n + c.weight, 0)
const pick = (r) => {
  let x = r() * TOTAL_WEIGHT
  for (const c of CLASSES) {
    x -= c.weight
    if (x < 0) return c
  }
  return CLASSES[0]
}

/** Connections that end before a response: cut in the head, cut in the body, or cut while the server works. */
const abortConnection = (port, r) =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    const kind = Math.floor(r() * 3)
    const body = json(CALLS.allow)
    socket.on("error", () => undefined)
    socket.on("close", () => resolve(kind))
    socket.on("connect", () => {
      const head = `POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length + (kind === 1 ? 500 : 0)}\r\n\r\n`
      if (kind === 0) socket.write(head.slice(0, 30 + Math.floor(r() * 40)))
      else socket.write(head + body)
      setTimeout(() => socket.destroy(), Math.floor(r() * 20))
    })
  })

const started = Date.now()
const checks = makeChecks()
const { check } = checks
const stats = new Map(CLASSES.map((c) => [c.name, { ok: 0, bad: 0 }]))
const statuses = new Map()
let fiveXX = 0
const problems = []

const judge = (c, spec, reply) => {
  if (reply.error !== undefined) return `no response: ${reply.error}`
  statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1)
  if (reply.status >= 500) fiveXX += 1
  if (reply.status !== c.status) return `expected ${c.status}, got ${reply.status}: ${reply.text.slice(0, 200)}`
  if (c.health) return reply.text === '{"ok":true,"service":"gait.mcp.serve"}\n' ? undefined : `healthz body ${reply.text}`
  if (c.sse !== undefined) {
    if (!String(reply.headers["content-type"]).startsWith("text/event-stream")) return `content-type ${reply.headers["content-type"]}`
    const data = /^event: evaluate\ndata: (.*)\n\n$/.exec(reply.text)?.[1]
    if (data === undefined) return `not one SSE event: ${reply.text.slice(0, 200)}`
    return decisionProblem({ text: data }, { verdict: c.sse[0], exitCode: c.sse[1] })
  }
  if (c.decision !== undefined) {
    const type = spec.path === "/v1/evaluate/stream" ? "application/x-ndjson" : "application/json"
    if (!String(reply.headers["content-type"]).startsWith(type)) return `content-type ${reply.headers["content-type"]}, expected ${type}`
    return decisionProblem(reply, { verdict: c.decision[0], exitCode: c.decision[1] })
  }
  const envelope = errorEnvelopeProblem(reply)
  if (envelope !== undefined) return envelope
  const message = spec.expectError ?? c.error
  const body = parseJson(reply.text).value
  return message === undefined || body.error === message ? undefined : `error "${body.error}", expected "${message}"`
}

const cwd = tempDir("gait-chaos-boundary-")
const server = await startServer(
  [
    "--auth-mode",
    "token",
    "--auth-token-env",
    "GAIT_CHAOS_TOKEN",
    "--http-verdict-status",
    "strict",
    "--max-request-bytes",
    String(LIMIT),
    "--trace-max-count",
    "200",
    "--session-max-count",
    "50"
  ],
  { cwd, env: { GAIT_CHAOS_TOKEN: TOKEN } }
)
console.log(
  `serve_boundary: server pid ${server.pid} port ${server.port}; ${CONCURRENCY} workers for ${DURATION_MS / 1000} s, limit ${LIMIT} bytes, seed ${SEED}`
)

const samples = []
const sampleRss = () => {
  if (server.alive()) samples.push({ at: Date.now() - started, rss: memoryOf(server.pid).rss })
}
sampleRss()
const sampler = setInterval(sampleRss, 500)
const deadline = Date.now() + DURATION_MS
let sent = 0

const worker = async (id) => {
  const random = prng(SEED * 1000 + id)
  // Half the workers reuse keep-alive connections, the other half open one per request.
  const agent = id % 2 === 0 ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false
  while (Date.now() < deadline && server.alive()) {
    const c = pick(random)
    sent += 1
    if (c.abort) {
      await abortConnection(server.port, random)
      stats.get(c.name).ok += 1
      continue
    }
    const spec = c.send(random)
    const reply = await request(server.port, { ...spec, agent })
    const problem = judge(c, spec, reply)
    if (problem === undefined) stats.get(c.name).ok += 1
    else {
      stats.get(c.name).bad += 1
      if (problems.length < 20) problems.push(`${c.name} (${spec.method ?? "POST"} ${spec.path ?? "/v1/evaluate"}): ${problem}`)
    }
  }
  if (agent) agent.destroy()
}

const progress = setInterval(() => {
  const last = samples.at(-1)
  console.log(`serve_boundary: ${((Date.now() - started) / 1000).toFixed(0)} s, ${sent} requests, RSS ${last === undefined ? "?" : mib(last.rss)}`)
}, 5_000)
await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => worker(i)))
clearInterval(progress)
await sleep(600)
clearInterval(sampler)

const elapsed = (Date.now() - started) / 1000
const health = await request(server.port, { method: "GET", path: "/healthz" })
const final = await request(server.port, { body: json(CALLS.block), headers: authed })
check(server.alive(), "server alive after the load", `exited ${JSON.stringify(server.exitInfo())}; stderr: ${server.stderr().slice(-600)}`)
check(health.status === 200, "healthz after the load", health.error ?? health.text)
check(final.status === 403 && decisionProblem(final, { verdict: "block", exitCode: 3 }) === undefined, "decision after the load", final.error ?? final.text)
check(fiveXX === 0, "no 5xx", `${fiveXX} responses with a 5xx status`)
for (const [name, s] of stats) check(s.bad === 0 && s.ok > 0, `class ${name}`, `${s.ok} ok, ${s.bad} wrong`)
for (const p of problems) console.log(`  e.g. ${p}`)

// RSS: the warm-up maximum is the baseline; later samples may add at most RSS_GROWTH. The bound is
// far below what a leak of ~1 KiB per request would add over this many requests, and far above
// normal heap-size breathing of the garbage collector.
const warm = samples.filter((s) => s.at <= WARMUP_MS)
const later = samples.filter((s) => s.at > WARMUP_MS)
const baseline = Math.max(...warm.map((s) => s.rss))
const peak = Math.max(...later.map((s) => s.rss))
const tail = later.slice(-4).reduce((n, s) => n + s.rss, 0) / Math.max(1, later.slice(-4).length)
check(later.length > 0 && peak <= baseline + RSS_GROWTH, "RSS growth after warm-up bounded", `warm-up ${mib(baseline)}, later peak ${mib(peak)}, bound +${mib(RSS_GROWTH)}`)
console.log(`serve_boundary: RSS start ${mib(samples[0].rss)}, after warm-up ${mib(baseline)}, later peak ${mib(peak)}, end ${mib(tail)}`)
const classes = [...stats].map(([name, s]) => `${name} ${s.ok}${s.bad > 0 ? `/${s.bad} wrong` : ""}`).join(", ")
console.log(`serve_boundary: per class: ${classes}`)
console.log(`serve_boundary: statuses: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}x${v}`).join(" ")}`)

const exit = await server.stop()
check(exit.code === 0, "SIGTERM stops the server with exit 0", JSON.stringify(exit))
check(!STACK_TRACE.test(server.stderr()), "no stack trace on the server's stderr", server.stderr().slice(-600))
removeDir(cwd)
process.exit(
  checks.report(
    "serve_boundary",
    `${sent} requests in ${elapsed.toFixed(0)} s (${(sent / elapsed).toFixed(0)}/s) over ${CLASSES.length} classes, ${fiveXX} 5xx, RSS ${mib(baseline)} → peak ${mib(peak)}`,
    started
  )
)
