// Chaos: property-based fuzzing (fast-check, through effect's FastCheck) of gait's input boundaries.
// 1. CLI: malformed intents (`gate eval --intent`), policies (`gate eval --policy`) and tool calls
//    (`mcp proxy --call`), mutated from the examples or generated as garbage (invalid UTF-8, deep
//    nesting, huge numbers, YAML alias bombs, …). The CLI never prints a stack trace, exits with a
//    code the input can explain (0/3/4 verdicts, 6 invalid input) and, with --json, prints exactly
//    one JSON line (an error envelope for exit 6).
// 2. HTTP: evaluate request bodies, mutated and garbage, to a running `gait mcp serve`, in batches.
//    Every answer is JSON; no 5xx; a body that cannot be an evaluate request gets a 4xx envelope.
//
// Env: CHAOS_FUZZ_SEED (fixed default, printed for replay), CHAOS_FUZZ_CLI_CASES (300),
// CHAOS_FUZZ_HTTP_BODIES (10000), CHAOS_FUZZ_ONLY (cli|http), CHAOS_FUZZ_PATH (fast-check replay
// path of a reported failure, with CHAOS_FUZZ_ONLY), GAIT_BIN.
import { execFile } from "node:child_process"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import { join } from "node:path"
import { FastCheck as fc } from "effect"
import { parse as parseYaml } from "yaml"
import {
  CALLS,
  EXAMPLES,
  GAIT_BIN,
  decisionProblem,
  envInt,
  errorEnvelopeProblem,
  makeChecks,
  parseJson,
  POLICY,
  removeDir,
  request,
  STACK_TRACE,
  startServer,
  tempDir
} from "./lib-serve.mjs"

const SEED = envInt("CHAOS_FUZZ_SEED", 20261127)
const CLI_CASES = envInt("CHAOS_FUZZ_CLI_CASES", 300)
const HTTP_BODIES = envInt("CHAOS_FUZZ_HTTP_BODIES", 10_000)
const ONLY = process.env.CHAOS_FUZZ_ONLY ?? ""
const REPLAY_PATH = process.env.CHAOS_FUZZ_PATH
/** CLI cases run two at a time (one property run checks a pair), HTTP bodies 16 at a time. */
const CLI_BATCH = 2
const HTTP_BATCH = 16
/** Exit codes of ops.md §3.1. Of these, malformed input may only produce verdicts (0, 3, 4) or 6. */
const DOCUMENTED_EXIT_CODES = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8])
const INPUT_EXIT_CODES = new Set([0, 3, 4, 6])

const started = Date.now()
const checks = makeChecks()
const { check } = checks

// ---------------------------------------------------------------- generators

const INTENTS = ["delete_prod.json", "migrate_plan.json", "read_file.json", "write_config.json"].map((f) =>
  JSON.parse(readFileSync(join(EXAMPLES, "intents", f), "utf8"))
)
const POLICY_TEXT = readFileSync(POLICY, "utf8")
const POLICY_VALUE = parseYaml(POLICY_TEXT)
/** Tool calls per adapter (spec mcp.md §10.1). */
const ADAPTER_CALLS = [
  ["mcp", CALLS.allow.call],
  ["mcp", { name: "tool.write", args: { path: "/data/out.txt" }, target: "api.external.com", context: { identity: "alice", workspace: "/repo", risk_class: "high" } }],
  ["openai", { type: "function", function: { name: "tool.search", arguments: '{"query":"gait"}' } }],
  ["anthropic", { type: "tool_use", name: "tool.search", input: { query: "gait" } }],
  ["langchain", { tool: "tool.search", tool_input: { query: "gait" } }],
  ["claude_code", { session_id: "sess-claude-1", tool_name: "Bash", tool_input: { command: "npm test" }, hook_event_name: "PreToolUse" }]
]
const REQUESTS = [CALLS.allow, CALLS.block, CALLS.approval, CALLS.dryRun, ...ADAPTER_CALLS.map(([adapter, call]) => ({ adapter, call, run_id: "fuzz" }))]

const deep = (depth, open, close, inner = "") => open.repeat(depth) + inner + close.repeat(depth)

/** Values that have broken JSON handling somewhere before. */
const weirdValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom("", " ", "\u0000", "\ud800", "\udfff\ud800", "é", "../../etc/passwd", "a".repeat(5000), "env:SECRET", "sk-live-0123456789abcdef0123456789abcdef"),
  fc.constantFrom(1e308, -1e308, 5e-324, -0, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, 0.1),
  fc.string({ unit: "binary", maxLength: 40 }),
  // Kept shallow enough that a few of them stacked by mutations still serialise here.
  fc.integer({ min: 2, max: 1000 }).map((n) => JSON.parse(deep(n, "[", "]")))
)

/** Every (container, key) of a JSON document, so a mutation can address any node. */
const slotsOf = (root) => {
  const slots = []
  const visit = (node) => {
    if (node === null || typeof node !== "object") return
    for (const key of Object.keys(node)) {
      slots.push([node, Array.isArray(node) ? Number(key) : key])
      visit(node[key])
    }
  }
  visit(root)
  return slots
}

const mutation = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom("delete", "replace", "replace", "retype", "wrap", "add"),
  value: weirdValue,
  key: fc.oneof(fc.constantFrom("call", "args", "context", "tool_name", "__proto__", "constructor", ""), fc.string({ maxLength: 8 })),
  depth: fc.integer({ min: 1, max: 50 })
})

/** Applies 1–4 structural mutations to a deep copy of `base`. */
const mutatedJson = (base) =>
  fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ops) => {
    const doc = structuredClone(base)
    for (const op of ops) {
      const slots = slotsOf(doc)
      if (slots.length === 0) break
      const [container, key] = slots[op.at % slots.length]
      const old = container[key]
      if (op.kind === "delete") {
        if (Array.isArray(container)) container.splice(key, 1)
        else delete container[key]
      } else if (op.kind === "replace") container[key] = op.value
      else if (op.kind === "retype") container[key] = typeof old === "string" ? 42 : typeof old === "number" ? String(old) : typeof old === "object" && old !== null ? JSON.stringify(old) : [old]
      else if (op.kind === "wrap") container[key] = JSON.parse(deep(op.depth, "[", "]", JSON.stringify(old ?? null)))
      else if (typeof old === "object" && old !== null && !Array.isArray(old)) Object.defineProperty(old, op.key, { value: op.value, enumerable: true, configurable: true, writable: true })
    }
    return doc
  })

/** Text-level damage to a serialized document. */
const damagedText = (textArb) =>
  fc.tuple(
    textArb,
    fc.constantFrom("none", "truncate", "insert", "huge-number", "duplicate-key", "bom", "deep-wrap", "long-digits"),
    fc.nat(),
    fc.uint8Array({ minLength: 1, maxLength: 4 }),
    fc.integer({ min: 900, max: 30_000 })
  ).map(([text, how, at, bytes, depth]) => {
    const buf = Buffer.from(text, "utf8")
    const i = buf.length === 0 ? 0 : at % buf.length
    if (how === "truncate") return buf.subarray(0, i)
    if (how === "insert") return Buffer.concat([buf.subarray(0, i), Buffer.from(bytes), buf.subarray(i)])
    if (how === "huge-number") return Buffer.from(text.replace(/:\s*(\d+|"[^"]*")/, ": 1e999999"))
    if (how === "long-digits") return Buffer.from(text.replace(/:\s*(\d+|"[^"]*")/, `: ${"9".repeat(5000)}`))
    if (how === "duplicate-key") return Buffer.from(text.replace("{", '{"tool_name":"dup","call":{},'))
    if (how === "bom") return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf])
    if (how === "deep-wrap") return Buffer.from(deep(depth, '{"a":', "}", text))
    return buf
  })

const garbage = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
  fc.string({ unit: "binary", maxLength: 300 }).map((s) => Buffer.from(s, "utf8")),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
  fc.integer({ min: 500, max: 50_000 }).map((n) => Buffer.from(deep(n, "[", "]"))),
  fc.integer({ min: 500, max: 30_000 }).map((n) => Buffer.from(deep(n, '{"a":', "}", "1"))),
  fc.constantFrom("1e999999", "-1e999999", "9".repeat(5000), `0.${"0".repeat(5000)}1`, "NaN", "Infinity", "", " \n\t", "null", "{}", "[]", '"\\ud800"', "\xff\xfe{}").map((s) =>
    Buffer.from(s, "latin1")
  )
)

const jsonDoc = (bases) => fc.constantFrom(...bases).chain((base) => fc.oneof(mutatedJson(base), fc.constant(base)))
const jsonInput = (bases) => fc.oneof({ weight: 6, arbitrary: damagedText(jsonDoc(bases).map((d) => JSON.stringify(d))) }, { weight: 2, arbitrary: garbage })

/** Line-level YAML damage: delete, duplicate, garble or re-indent a line, or swap a scalar. */
const damagedYaml = fc
  .array(
    fc.record({
      at: fc.nat(),
      kind: fc.constantFrom("delete", "duplicate", "garble", "indent", "scalar"),
      scalar: fc.constantFrom("~", "!!binary ///", "*nope", "&a [", "1e999", "-.inf", ".nan", "0x1F", "'unterminated", "{a: [", "<<: *x", "!!js/function 'f'", "☃", "\t", "[]", "{}", "yes", "9".repeat(400)),
      spaces: fc.integer({ min: 0, max: 9 })
    }),
    { minLength: 1, maxLength: 4 }
  )
  .map((ops) => {
    const lines = POLICY_TEXT.split("\n")
    for (const op of ops) {
      const i = op.at % lines.length
      if (op.kind === "delete") lines.splice(i, 1)
      else if (op.kind === "duplicate") lines.splice(i, 0, lines[i])
      else if (op.kind === "garble") lines[i] = `${lines[i].slice(0, op.spaces)}${op.scalar}`
      else if (op.kind === "indent") lines[i] = `${" ".repeat(op.spaces)}${lines[i].trimStart()}`
      else lines[i] = lines[i].replace(/:\s+\S.*$/, `: ${op.scalar}`)
    }
    return Buffer.from(lines.join("\n"))
  })

const BILLION_LAUGHS = `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n`
const policyInput = fc.oneof(
  { weight: 4, arbitrary: damagedYaml },
  { weight: 3, arbitrary: damagedText(mutatedJson(POLICY_VALUE).map((d) => JSON.stringify(d))) },
  { weight: 1, arbitrary: fc.constantFrom(BILLION_LAUGHS, deep(50_000, "[", "]"), `rules: ${deep(20_000, "- ", "", "x")}`, "schema_id: [\n", "\t", "---\n---\n").map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: garbage }
)

const cliCase = fc.oneof(
  fc.record({ kind: fc.constant("intent"), bytes: jsonInput(INTENTS), json: fc.boolean() }),
  fc.record({ kind: fc.constant("policy"), bytes: policyInput, json: fc.boolean() }),
  fc.record({ kind: fc.constant("call"), adapter: fc.constantFrom(...ADAPTER_CALLS.map(([a]) => a)), bytes: jsonInput(ADAPTER_CALLS.map(([, c]) => c)), json: fc.boolean() })
)

const httpBody = fc.oneof(
  { weight: 6, arbitrary: jsonInput(REQUESTS) },
  { weight: 2, arbitrary: jsonDoc(REQUESTS).map((d) => Buffer.from(JSON.stringify(d))) },
  { weight: 1, arbitrary: fc.integer({ min: 900, max: 50_000 }).map((n) => Buffer.from(`{"call":{"name":"fs.read","args":{"x":${deep(n, "[", "]")}}}}`)) }
)

// ---------------------------------------------------------------- CLI property

const preview = (bytes) => JSON.stringify(bytes.subarray(0, 240).toString("latin1")) + (bytes.length > 240 ? ` … (${bytes.length} bytes)` : "")

const run = (args, cwd) =>
  new Promise((resolve) => {
    execFile(process.execPath, [GAIT_BIN, ...args], { cwd, timeout: 30_000, maxBuffer: 8 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error?.killed ? "timeout" : typeof error?.code === "number" ? error.code : error === null ? 0 : String(error.code), stdout, stderr })
    })
  })

let cliRuns = 0
const cliExits = new Map()
const cliKinds = new Map()

/** Runs one CLI case; returns undefined or what was wrong. */
const cliProblem = async (c, dir, n) => {
  const input = join(dir, `input_${n}`)
  writeFileSync(input, c.bytes)
  const trace = ["--trace-out", join(dir, `trace_${n}.json`)]
  const args =
    c.kind === "intent"
      ? ["gate", "eval", "--policy", POLICY, "--intent", input, ...trace]
      : c.kind === "policy"
        ? ["gate", "eval", "--policy", input, "--intent", join(EXAMPLES, "intents", "write_config.json"), ...trace]
        : ["mcp", "proxy", "--policy", POLICY, "--adapter", c.adapter, "--call", input, ...trace]
  if (c.json) args.push("--json")
  const result = await run(args, dir)
  rmSync(input, { force: true })
  rmSync(join(dir, `trace_${n}.json`), { force: true })
  cliRuns += 1
  cliExits.set(result.code, (cliExits.get(result.code) ?? 0) + 1)
  cliKinds.set(c.kind, (cliKinds.get(c.kind) ?? 0) + 1)
  const where = `gait ${args.slice(0, 2).join(" ")} (${c.kind}${c.json ? ", --json" : ""}) on ${preview(c.bytes)}`
  if (result.code === "timeout") return `${where}: no exit within 30 s`
  if (STACK_TRACE.test(result.stdout) || STACK_TRACE.test(result.stderr)) return `${where}: stack trace printed: ${(result.stderr || result.stdout).slice(0, 600)}`
  if (!DOCUMENTED_EXIT_CODES.has(result.code)) return `${where}: undocumented exit code ${result.code}: ${result.stderr.slice(0, 300)}`
  // 1 is documented, but only for I/O, contention and internal failures: from input it is a defect.
  if (!INPUT_EXIT_CODES.has(result.code)) return `${where}: exit ${result.code} is not an input outcome: ${(result.stdout + result.stderr).slice(0, 300)}`
  if (c.json) {
    const lines = result.stdout.split("\n").filter((l) => l !== "")
    if (lines.length !== 1) return `${where}: --json printed ${lines.length} lines: ${result.stdout.slice(0, 300)}`
    const out = parseJson(lines[0])
    if (out.problem !== undefined) return `${where}: --json output is not JSON: ${lines[0].slice(0, 300)}`
    if (result.code === 6 && (out.value.ok !== false || typeof out.value.error_code !== "string" || typeof out.value.error !== "string")) {
      return `${where}: exit 6 without an error envelope: ${lines[0].slice(0, 300)}`
    }
    if (result.code !== 6 && typeof out.value.verdict !== "string") return `${where}: exit ${result.code} without a verdict: ${lines[0].slice(0, 300)}`
  }
  return undefined
}

const fuzzCli = async () => {
  const dir = tempDir("gait-chaos-fuzz-cli-")
  let n = 0
  const property = fc.asyncProperty(fc.array(cliCase, { minLength: CLI_BATCH, maxLength: CLI_BATCH }), async (cases) => {
    const problems = (await Promise.all(cases.map((c) => cliProblem(c, dir, n++)))).filter((p) => p !== undefined)
    if (cliRuns % 50 < CLI_BATCH) console.log(`fuzz: cli ${cliRuns}/${CLI_CASES} cases`)
    if (problems.length > 0) throw new Error(problems.join("\n"))
  })
  const details = await fc.check(property, { seed: SEED, numRuns: Math.ceil(CLI_CASES / CLI_BATCH), endOnFailure: true, ...(REPLAY_PATH ? { path: REPLAY_PATH } : {}) })
  removeDir(dir)
  report("cli", details)
}

// ---------------------------------------------------------------- HTTP property

let httpSent = 0
let mustReject = 0
const httpStatuses = new Map()

/** A body that cannot be an evaluate request (not one JSON object with a non-empty `call` object). */
const cannotEvaluate = (bytes) => {
  const parsed = parseJson(bytes.toString("utf8"))
  if (parsed.problem !== undefined) return true
  const v = parsed.value
  if (v === null || typeof v !== "object" || Array.isArray(v)) return true
  return v.call === null || typeof v.call !== "object" || Array.isArray(v.call) || Object.keys(v.call).length === 0
}

const httpProblem = async (port, agent, bytes, route) => {
  const reply = await request(port, { path: route, body: bytes, headers: { "content-type": "application/json" }, agent })
  httpSent += 1
  const must = cannotEvaluate(bytes)
  if (must) mustReject += 1
  const where = `POST ${route} ${preview(bytes)}`
  if (reply.error !== undefined) return `${where}: no response (${reply.error})`
  httpStatuses.set(reply.status, (httpStatuses.get(reply.status) ?? 0) + 1)
  if (reply.status >= 500) return `${where}: ${reply.status} ${reply.text.slice(0, 300)}`
  if ([200, 403, 409].includes(reply.status)) {
    if (must) return `${where}: evaluated a body that is not an evaluate request (${reply.status})`
    const text = route === "/v1/evaluate/sse" ? (/^data: (.*)$/m.exec(reply.text)?.[1] ?? "") : reply.text
    return decisionProblem({ text }) === undefined ? undefined : `${where}: ${decisionProblem({ text })}`
  }
  if (reply.status !== 400 && reply.status !== 413) return `${where}: unexpected status ${reply.status}: ${reply.text.slice(0, 300)}`
  const envelope = errorEnvelopeProblem(reply)
  return envelope === undefined ? undefined : `${where}: ${reply.status} ${envelope}`
}

const fuzzHttp = async () => {
  const cwd = tempDir("gait-chaos-fuzz-http-")
  const server = await startServer(["--http-verdict-status", "strict", "--trace-max-count", "100", "--session-max-count", "50"], { cwd })
  console.log(`fuzz: http server pid ${server.pid} port ${server.port}`)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const routes = fc.constantFrom("/v1/evaluate", "/v1/evaluate", "/v1/evaluate", "/v1/evaluate/sse", "/v1/evaluate/stream")
  const property = fc.asyncProperty(fc.array(fc.tuple(httpBody, routes), { minLength: HTTP_BATCH, maxLength: HTTP_BATCH }), async (bodies) => {
    const problems = (await Promise.all(bodies.map(([b, r]) => httpProblem(server.port, agent, b, r)))).filter((p) => p !== undefined)
    if (httpSent % 1000 < HTTP_BATCH) console.log(`fuzz: http ${httpSent}/${HTTP_BODIES} bodies`)
    if (problems.length > 0) throw new Error(problems.join("\n"))
  })
  const details = await fc.check(property, { seed: SEED, numRuns: Math.ceil(HTTP_BODIES / HTTP_BATCH), endOnFailure: true, ...(REPLAY_PATH ? { path: REPLAY_PATH } : {}) })
  agent.destroy()
  const health = await request(server.port, { method: "GET", path: "/healthz" })
  check(server.alive() && health.status === 200, "http: server alive and healthy after fuzzing", `${health.error ?? health.status}; ${server.stderr().slice(-600)}`)
  await server.stop()
  check(!STACK_TRACE.test(server.stderr()), "http: no stack trace on the server's stderr", server.stderr().slice(-600))
  removeDir(cwd)
  report("http", details)
}

const report = (part, details) => {
  const ok = !details.failed
  check(ok, `${part} property`, ok ? "" : `${String(details.errorInstance?.message ?? details.error).slice(0, 2000)}\n  replay: CHAOS_FUZZ_ONLY=${part} CHAOS_FUZZ_SEED=${details.seed} CHAOS_FUZZ_PATH=${details.counterexamplePath}`)
  console.log(`fuzz: ${part} property ${ok ? "held" : "FAILED"} over ${details.numRuns} runs (seed ${details.seed}${ok ? "" : `, path ${details.counterexamplePath}`})`)
}

console.log(`fuzz: seed ${SEED} (replay: CHAOS_FUZZ_SEED=${SEED}); ${CLI_CASES} CLI cases, ${HTTP_BODIES} HTTP bodies; ${GAIT_BIN}`)
const timed = async (part, fn) => {
  const t0 = Date.now()
  try {
    await fn()
  } catch (e) {
    check(false, `${part}: the fuzzer itself failed`, e.stack ?? String(e))
  }
  console.log(`fuzz: ${part} part took ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}
if (ONLY !== "http") await timed("cli", fuzzCli)
if (ONLY !== "cli") await timed("http", fuzzHttp)
const exits = [...cliExits].map(([k, v]) => `${k}x${v}`).join(" ")
const kinds = [...cliKinds].map(([k, v]) => `${k} ${v}`).join(", ")
const statuses = [...httpStatuses].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}x${v}`).join(" ")
console.log(`fuzz: cli ${cliRuns} cases (${kinds}), exit codes ${exits}`)
console.log(`fuzz: http ${httpSent} bodies (${mustReject} not evaluable), statuses ${statuses}`)
process.exit(
  checks.report("fuzz", `seed ${SEED}; ${cliRuns} CLI cases + ${httpSent} HTTP bodies = ${cliRuns + httpSent} generated inputs; exits ${exits}; statuses ${statuses}`, started)
)
