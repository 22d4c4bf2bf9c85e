// `gait mcp serve` through real server processes (spec mcp.md §5): routes, the order of the checks
// (405 → 401 → 415 → 413 → 400), decisions framed as JSON, SSE and NDJSON, compat vs strict status
// codes, signed traces that verify, one dev key per process, and JSON error bodies on every route.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"
import * as net from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { keyIdOf, verifySignedDocument } from "../../src/kernel/signing.js"
import { runGait, tempDir } from "../helpers/cli.js"
import { CALLS, errorBody, postJson, type Reply, type ServerProcess, send, startServer, stopAll } from "./harness.js"

const TOKEN = "s3cret-token"
const TOKEN_ENV = "GAIT_TEST_SERVE_TOKEN"
const AUTH = { authorization: `Bearer ${TOKEN}` }
const JSON_AUTH = { ...AUTH, "content-type": "application/json" }
const LIMIT = 4096
const ROUTES = ["/v1/evaluate", "/v1/evaluate/sse", "/v1/evaluate/stream"] as const
const DEV_WARNING = "dev mode: ephemeral keypair generated; signatures will not verify across machines"

let dir = ""
let tokenTraces = ""
let strictTraces = ""
let publicKey = new Uint8Array()
/** Token auth, compat status, 4 KiB limit, prod key. */
let tok: ServerProcess
/** No auth, strict status, client artifact paths "allowed", dev key. */
let strict: ServerProcess

beforeAll(async () => {
  dir = tempDir("gait-serve-")
  tokenTraces = path.join(dir, "traces-token")
  strictTraces = path.join(dir, "traces-strict")
  const keys = runGait(["keys", "init", "--out-dir", path.join(dir, "keys"), "--json"], { cwd: dir }).json()
  publicKey = new Uint8Array(Buffer.from(readFileSync(String(keys.public_key_path), "utf8").trim(), "base64"))
  ;[tok, strict] = await Promise.all([
    startServer(
      [
        "--auth-mode",
        "token",
        "--auth-token-env",
        TOKEN_ENV,
        "--max-request-bytes",
        String(LIMIT),
        "--trace-dir",
        tokenTraces,
        "--key-mode",
        "prod",
        "--private-key",
        String(keys.private_key_path)
      ],
      { cwd: dir, env: { [TOKEN_ENV]: TOKEN } }
    ),
    startServer(["--http-verdict-status", "strict", "--allow-client-artifact-paths", "--trace-dir", strictTraces], { cwd: dir })
  ])
})

afterAll(stopAll)

const traceFiles = (traceDir: string): Array<string> => (existsSync(traceDir) ? readdirSync(traceDir).filter((f) => f.endsWith(".json")) : [])

/** Parses the one `event: evaluate` SSE frame, failing on anything else. */
const sseData = (reply: Reply): Record<string, unknown> => {
  const match = /^event: evaluate\ndata: ([^\n]+)\n\n$/.exec(reply.text)
  if (match === null) throw new Error(`not exactly one SSE event: ${JSON.stringify(reply.text)}`)
  return JSON.parse(match[1] as string) as Record<string, unknown>
}

/** Parses the one NDJSON line of /v1/evaluate/stream. */
const ndjsonLine = (reply: Reply): Record<string, unknown> => {
  const lines = reply.text.split("\n")
  if (lines.length !== 2 || lines[1] !== "") throw new Error(`not exactly one NDJSON line: ${JSON.stringify(reply.text)}`)
  return JSON.parse(lines[0] as string) as Record<string, unknown>
}

const decisionOf = (route: (typeof ROUTES)[number], reply: Reply): Record<string, unknown> =>
  route === "/v1/evaluate/sse" ? sseData(reply) : route === "/v1/evaluate/stream" ? ndjsonLine(reply) : reply.json()

const expectVerified = (tracePath: string, key: Uint8Array) => {
  const trace = JSON.parse(readFileSync(tracePath, "utf8")) as Record<string, unknown>
  expect(verifySignedDocument(trace, key)._tag, tracePath).toBe("Right")
  return trace
}

describe("mcp serve routes", () => {
  it("GET /healthz answers without auth; other methods get 405 JSON", async () => {
    const health = await send(tok.port, { method: "GET", path: "/healthz" })
    expect(health.status).toBe(200)
    expect(health.headers["content-type"]).toMatch(/^application\/json/)
    expect(health.text).toBe('{"ok":true,"service":"gait.mcp.serve"}\n')

    for (const method of ["POST", "PUT", "DELETE"]) {
      const reply = await send(tok.port, { method, path: "/healthz", body: "{}" })
      expect(reply.status, method).toBe(405)
      expect(reply.headers["content-type"]).toBe("application/json")
      expect(reply.json()).toMatchObject({ ok: false, error: "expected GET" })
    }
    const head = await send(tok.port, { method: "HEAD", path: "/healthz" })
    expect(head.status).toBe(405)
  })

  it("the /healthz 405 body is the same error envelope as every other error (error_code included)", async () => {
    const reply = await send(tok.port, { method: "POST", path: "/healthz", body: "{}" })
    expect(reply.status).toBe(405)
    const { error, error_code } = errorBody(reply)
    expect(error).toBe("expected GET")
    expect(error_code).toBe("request_rejected")
  })

  it("unknown paths are 404 with a JSON body, with or without a token", async () => {
    for (const p of ["/", "/v1", "/v1/evaluate/json", "/v1/evaluate/sse/x", "/healthz/x", "/nope", "/v2/evaluate"]) {
      for (const method of ["GET", "POST"]) {
        const reply = await send(tok.port, { method, path: p, body: method === "POST" ? JSON.stringify(CALLS.allow) : undefined })
        expect(reply.status, `${method} ${p}`).toBe(404)
        expect(errorBody(reply).error_code).toBe("not_found")
      }
    }
    // A query string is not part of the path.
    expect((await send(tok.port, { method: "GET", path: "/healthz?probe=1" })).status).toBe(200)
  })

  it("routes match their exact paths (spec §5.3): trailing slash, doubled slash or other case is 404", async () => {
    const near = ["/v1/evaluate/", "/v1/evaluate/sse/", "/healthz/", "//healthz", "/v1//evaluate", "/HEALTHZ", "/V1/Evaluate"]
    const statuses = await Promise.all(near.map((p) => send(tok.port, { method: "GET", path: p }).then((r) => [p, r.status] as const)))
    expect(statuses).toEqual(near.map((p) => [p, 404]))
  })

  it("checks the method before auth: a GET without a token is 405 on every evaluate route", async () => {
    for (const route of ROUTES) {
      for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
        const reply = await send(tok.port, { method, path: route })
        expect(reply.status, `${method} ${route}`).toBe(405)
        const { error, error_code } = errorBody(reply)
        expect(error).toBe("expected POST")
        expect(error_code).toBe("request_rejected")
      }
    }
  })

  it("token auth: missing or malformed header 401 missing, wrong token 401 invalid, right token passes", async () => {
    const body = JSON.stringify(CALLS.allow)
    const cases: ReadonlyArray<readonly [Record<string, string>, number, string | undefined]> = [
      [{}, 401, "missing bearer authorization"],
      [{ authorization: "" }, 401, "missing bearer authorization"],
      [{ authorization: `bearer ${TOKEN}` }, 401, "missing bearer authorization"],
      [{ authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}` }, 401, "missing bearer authorization"],
      [{ authorization: TOKEN }, 401, "missing bearer authorization"],
      [{ authorization: "Bearer wrong" }, 401, "invalid bearer authorization"],
      [{ authorization: `Bearer ${TOKEN}x` }, 401, "invalid bearer authorization"],
      [{ authorization: `Bearer ${TOKEN.slice(0, -1)}` }, 401, "invalid bearer authorization"],
      [{ authorization: `Bearer ${TOKEN}` }, 200, undefined],
      [{ authorization: `  Bearer   ${TOKEN}  ` }, 200, undefined]
    ]
    for (const route of ROUTES) {
      for (const [headers, status, message] of cases) {
        const reply = await send(tok.port, { path: route, body, headers: { "content-type": "application/json", ...headers } })
        expect(reply.status, `${route} ${JSON.stringify(headers)}: ${reply.text}`).toBe(status)
        expect(reply.headers["www-authenticate"]).toBeUndefined()
        if (message !== undefined) {
          const { error, error_code } = errorBody(reply)
          expect(error).toBe(message)
          expect(error_code).toBe("request_rejected")
        } else {
          expect(decisionOf(route, reply).verdict).toBe("allow")
        }
      }
    }
  })

  it("runs the checks in order: auth before content type and size, content type before size, size before shape", async () => {
    const oversized = JSON.stringify({ ...CALLS.allow, run_id: "x".repeat(LIMIT) })
    const noToken = await send(tok.port, { body: oversized, headers: { "content-type": "text/plain" } })
    expect([noToken.status, errorBody(noToken).error]).toEqual([401, "missing bearer authorization"])
    const badToken = await send(tok.port, { body: "{", headers: { "content-type": "text/plain", authorization: "Bearer nope" } })
    expect([badToken.status, errorBody(badToken).error]).toEqual([401, "invalid bearer authorization"])
    const wrongType = await send(tok.port, { body: oversized, headers: { ...AUTH, "content-type": "text/plain" } })
    expect([wrongType.status, errorBody(wrongType).error]).toEqual([415, "content-type must be application/json"])
    const tooLarge = await send(tok.port, { body: `${oversized.slice(0, -1)},"bogus":1}`, headers: JSON_AUTH })
    expect([tooLarge.status, errorBody(tooLarge).error_code]).toEqual([413, "request_too_large"])
    const unknownField = await send(tok.port, { body: JSON.stringify({ ...CALLS.allow, bogus: 1 }), headers: JSON_AUTH })
    expect(unknownField.status).toBe(400)
  })

  it("accepts application/json with parameters, in any case, or no content type at all; refuses the rest with 415", async () => {
    const body = JSON.stringify(CALLS.allow)
    const accepted = ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8", undefined]
    for (const type of accepted) {
      const reply = await send(tok.port, { body, headers: type === undefined ? AUTH : { ...AUTH, "content-type": type } })
      expect(reply.status, `${type}: ${reply.text}`).toBe(200)
      expect(reply.json().verdict).toBe("allow")
    }
    for (const type of ["text/plain", "application/jsonp", "application/x-www-form-urlencoded", "text/json", "multipart/form-data; boundary=x"]) {
      for (const route of ROUTES) {
        const reply = await send(tok.port, { path: route, body, headers: { ...AUTH, "content-type": type } })
        expect(reply.status, `${route} ${type}`).toBe(415)
        expect(errorBody(reply).error).toBe("content-type must be application/json")
      }
    }
  })

  it("refuses malformed bodies with 400 and a JSON error, writing no trace", async () => {
    const before = traceFiles(tokenTraces).length
    const valid = JSON.stringify(CALLS.allow)
    const cases: ReadonlyArray<readonly [string, string, string | RegExp, string?]> = [
      ["empty body", "", "decode request: EOF"],
      ["whitespace only", " \n\t ", "decode request: EOF"],
      ["truncated JSON", '{"call":', /^decode request: /],
      ["not JSON at all", "call=fs.read", /^decode request: /],
      ["trailing garbage", `${valid} x`, /^request body must contain a single JSON object/],
      ["two objects", `${valid}\n${valid}`, /^request body must contain a single JSON object/],
      ["array body", `[${valid}]`, /^decode request: /],
      ["null body", "null", /^decode request: /],
      ["string body", '"call"', /^decode request: /],
      ["unknown top-level field", JSON.stringify({ foo: 1, ...CALLS.allow }), 'decode request: unknown field "foo"'],
      ["wrong field type", JSON.stringify({ ...CALLS.allow, run_id: 5 }), /^decode request: .*run_id/],
      ["call missing", '{"adapter":"openai"}', "request.call is required"],
      ["call null", '{"call":null}', "request.call is required"],
      ["call empty object", '{"call":{}}', "request.call is required"],
      ["call a string", '{"call":"fs.read"}', "decode request: call must be a JSON object"],
      ["call an array", '{"call":[{"name":"fs.read"}]}', "decode request: call must be a JSON object"],
      ["call a number", '{"call":5}', "decode request: call must be a JSON object"],
      ["call nested 1,100 levels deep", `{"call":{"name":"fs.read","args":${"[".repeat(1100)}${"]".repeat(1100)}}}`, /^decode request: exceeded max depth/],
      ["unknown adapter", JSON.stringify({ adapter: "foo", call: CALLS.allow.call }), "unsupported adapter: foo", "tool_call_invalid"],
      [
        "call not in the adapter's shape",
        JSON.stringify({ adapter: "openai", call: { type: "function", function: { name: "x", arguments: "[1]" } } }),
        /^decode openai arguments:/,
        "tool_call_invalid"
      ],
      ["emit_pack without a pack dir", JSON.stringify({ ...CALLS.allow, emit_pack: true }), "request.emit_pack requires server --pack-dir"],
      ...(["trace_path", "runpack_out", "pack_out", "session_journal"] as const).map(
        (field) =>
          [
            `client ${field}`,
            JSON.stringify({ ...CALLS.allow, [field]: path.join(dir, `client-${field}.out`) }),
            `request.${field} is not allowed by server configuration`
          ] as const
      )
    ]
    for (const route of ROUTES) {
      for (const [name, body, expected, code] of cases) {
        const reply = await send(tok.port, { path: route, body, headers: JSON_AUTH })
        expect.soft(reply.status, `${route} ${name}: ${reply.text}`).toBe(400)
        const { error, error_code } = errorBody(reply)
        if (typeof expected === "string") expect.soft(error, `${route} ${name}`).toBe(expected)
        else expect.soft(error, `${route} ${name}`).toMatch(expected)
        expect.soft(error_code, name).toBe(code ?? "request_rejected")
      }
    }
    expect(traceFiles(tokenTraces)).toHaveLength(before)
    for (const field of ["trace_path", "runpack_out", "pack_out", "session_journal"]) {
      expect(existsSync(path.join(dir, `client-${field}.out`))).toBe(false)
    }
  })

  it("malformed HTTP framing and oversized headers still get a JSON error body, then the connection closes", async () => {
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(tok.port, "127.0.0.1", () => socket.write(request))
        let text = ""
        socket.on("data", (chunk: Buffer) => {
          text += chunk.toString("utf8")
        })
        socket.on("end", () => resolve(text))
        socket.on("error", reject)
      })
    const cases = [
      ["broken request line", "NOT HTTP AT ALL\r\n\r\n", 400, "malformed HTTP request"],
      ["bad header", "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "malformed HTTP request"],
      ["oversized headers", `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`, 431, "request headers are too large"]
    ] as const
    for (const [name, request, status, error] of cases) {
      const text = await raw(request)
      expect(text.startsWith(`HTTP/1.1 ${status} `), `${name}: ${text}`).toBe(true)
      const body = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>
      expect(body, name).toMatchObject({ ok: false, error, error_code: "request_rejected", error_category: "invalid_input" })
    }
    expect((await send(tok.port, { method: "GET", path: "/healthz" })).status).toBe(200)
  })

  it("reports invalid JSON as `decode request: …`, keeping `single JSON object` for trailing data only", async () => {
    for (const body of ["{not json", '{"call":{"name":"fs.read",}}', "{'call':1}", '{"call" {}}']) {
      const reply = await send(tok.port, { body, headers: JSON_AUTH })
      expect(reply.status, body).toBe(400)
      expect.soft(errorBody(reply).error, body).toMatch(/^decode request: /)
    }
  })

  it("with --allow-client-artifact-paths: runpack/pack paths unsupported, trace/journal paths outside the server dirs refused", async () => {
    const outside = tempDir("gait-serve-outside-")
    for (const field of ["trace_path", "runpack_out", "pack_out", "session_journal"]) {
      const target = path.join(outside, `allowed-${field}.out`)
      const reply = await postJson(strict.port, { ...CALLS.allow, [field]: target })
      expect(reply.status, reply.text).toBe(400)
      const { error } = errorBody(reply)
      expect(error.startsWith(`request.${field} `), error).toBe(true)
      if (field === "runpack_out" || field === "pack_out") expect(error).toBe(`request.${field} is not supported by this server`)
      else expect(error).toContain("must stay inside")
    }
    expect(readdirSync(outside)).toEqual([])
    // Blank paths are "not given".
    const blank = await postJson(strict.port, { ...CALLS.allow, trace_path: "  ", runpack_out: "" })
    expect(blank.status, blank.text).toBe(200)
  })

  it("error bodies on /sse and /stream are plain JSON, never SSE or NDJSON framed", async () => {
    for (const route of ["/v1/evaluate/sse", "/v1/evaluate/stream"]) {
      const replies = await Promise.all([
        send(tok.port, { method: "GET", path: route }),
        send(tok.port, { path: route, body: JSON.stringify(CALLS.allow), headers: { "content-type": "application/json" } }),
        send(tok.port, { path: route, body: "", headers: JSON_AUTH }),
        send(tok.port, { path: route, body: "x".repeat(LIMIT + 1), headers: JSON_AUTH })
      ])
      expect(replies.map((r) => r.status)).toEqual([405, 401, 400, 413])
      for (const reply of replies) {
        expect(reply.headers["content-type"]).toBe("application/json")
        expect(reply.text.startsWith("event:")).toBe(false)
        expect(reply.text.endsWith("}\n")).toBe(true)
        errorBody(reply)
      }
    }
  })
})

describe("mcp serve decisions", () => {
  it("/v1/evaluate returns the decision JSON with exit_code and a trace in --trace-dir that verifies with the prod key", async () => {
    const reply = await postJson(tok.port, { ...CALLS.allow, run_id: "serve case 1" }, "/v1/evaluate", AUTH)
    expect(reply.status, reply.text).toBe(200)
    expect(reply.headers["content-type"]).toBe("application/json")
    expect(reply.text.endsWith("}\n")).toBe(true)
    expect(reply.text.split("\n")).toHaveLength(2)
    const out = reply.json()
    expect(out).toMatchObject({ ok: true, executed: false, adapter: "mcp", tool_name: "fs.read", verdict: "allow", exit_code: 0 })
    expect(out.run_id).toBe("run_serve_case_1")
    expect(out.session_id).toBe("sess_serve")
    expect(out.reason_codes).toEqual(["read_only_allowed"])
    expect(out.policy_digest).toMatch(/^[0-9a-f]{64}$/)
    expect(out.intent_digest).toMatch(/^[0-9a-f]{64}$/)
    expect(out.warnings ?? []).not.toContain(DEV_WARNING)
    const tracePath = String(out.trace_path)
    expect(path.dirname(tracePath)).toBe(tokenTraces)
    const trace = expectVerified(tracePath, publicKey)
    expect(trace.verdict).toBe("allow")
    expect(trace.trace_id).toBe(out.trace_id)
    expect((trace.signature as { key_id: string }).key_id).toBe(keyIdOf(publicKey))
  })

  it("compat mode answers 200 for every verdict on every route, with the verdict's exit_code", async () => {
    const cases = [
      [CALLS.allow, "allow", 0],
      [CALLS.block, "block", 3],
      [CALLS.approval, "require_approval", 4],
      [CALLS.dryRun, "dry_run", 0]
    ] as const
    const tracePaths: Array<string> = []
    for (const route of ROUTES) {
      for (const [call, verdict, exitCode] of cases) {
        const reply = await postJson(tok.port, call, route, AUTH)
        expect(reply.status, `${route} ${verdict}: ${reply.text}`).toBe(200)
        const out = decisionOf(route, reply)
        expect(out, `${route} ${verdict}`).toMatchObject({ ok: true, executed: false, verdict, exit_code: exitCode })
        tracePaths.push(String(out.trace_path))
      }
    }
    expect(new Set(tracePaths).size).toBe(tracePaths.length)
    for (const tracePath of tracePaths) expectVerified(tracePath, publicKey)
  })

  it("/v1/evaluate/sse is exactly one `event: evaluate` frame; /v1/evaluate/stream is exactly one NDJSON line", async () => {
    const sse = await postJson(tok.port, CALLS.block, "/v1/evaluate/sse", AUTH)
    expect(sse.status).toBe(200)
    expect(sse.headers["content-type"]).toMatch(/^text\/event-stream/)
    expect(sse.headers["cache-control"]).toBe("no-cache")
    const fromSse = sseData(sse)
    expect(fromSse).toMatchObject({ ok: true, executed: false, adapter: "openai", tool_name: "shell.exec", verdict: "block", exit_code: 3 })

    const stream = await postJson(tok.port, CALLS.approval, "/v1/evaluate/stream", AUTH)
    expect(stream.status).toBe(200)
    expect(stream.headers["content-type"]).toMatch(/^application\/x-ndjson/)
    const fromStream = ndjsonLine(stream)
    expect(fromStream).toMatchObject({ ok: true, verdict: "require_approval", tool_name: "git.commit", exit_code: 4 })
    expect(fromStream.reason_codes).toContain("write_requires_approval")
    for (const out of [fromSse, fromStream]) expectVerified(String(out.trace_path), publicKey)
  })

  it("strict mode: block 403, require_approval and dry_run 409, allow 200 — on every route, still with the decision body", async () => {
    const cases = [
      [CALLS.allow, "allow", 200, 0],
      [CALLS.block, "block", 403, 3],
      [CALLS.approval, "require_approval", 409, 4],
      [CALLS.dryRun, "dry_run", 409, 0]
    ] as const
    for (const route of ROUTES) {
      for (const [call, verdict, status, exitCode] of cases) {
        const reply = await postJson(strict.port, call, route)
        expect(reply.status, `${route} ${verdict}: ${reply.text}`).toBe(status)
        expect(decisionOf(route, reply), `${route} ${verdict}`).toMatchObject({ ok: true, executed: false, verdict, exit_code: exitCode })
      }
    }
  })

  it("dev mode signs every decision of one server process with the same key", async () => {
    const first = (await postJson(strict.port, CALLS.allow)).json()
    const second = (await postJson(strict.port, CALLS.block, "/v1/evaluate/stream").then(ndjsonLine))
    expect(first.warnings).toContain(DEV_WARNING)
    expect(first.trace_path).not.toBe(second.trace_path)
    const keyIds = [first, second].map((out) => {
      const tracePath = String(out.trace_path)
      expect(path.dirname(tracePath)).toBe(strictTraces)
      const trace = JSON.parse(readFileSync(tracePath, "utf8")) as { signature: { key_id: string } }
      return trace.signature.key_id
    })
    expect(keyIds[0]).toMatch(/^[0-9a-f]{64}$/)
    expect(keyIds[1]).toBe(keyIds[0])
    // ...and every trace of this process carries that one key id.
    const all = traceFiles(strictTraces).map(
      (f) => (JSON.parse(readFileSync(path.join(strictTraces, f), "utf8")) as { signature: { key_id: string } }).signature.key_id
    )
    expect(all.length).toBeGreaterThan(2)
    expect(new Set(all)).toEqual(new Set([keyIds[0]]))
  })

  it("both servers are still alive and healthy after all the bad requests", async () => {
    for (const server of [tok, strict]) {
      const health = await send(server.port, { method: "GET", path: "/healthz" })
      expect(health.status).toBe(200)
      expect(health.json()).toEqual({ ok: true, service: "gait.mcp.serve" })
      expect(server.stdout().trim().split("\n")).toHaveLength(1)
    }
  })
})
