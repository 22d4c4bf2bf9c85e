// Chaos: request-size limits of a real `gait mcp serve --max-request-bytes <limit>`. Bodies of
// limit−1 and limit bytes get a normal decision; limit+1, 10× (declared and chunked) and a streamed
// 1 GiB body (generated on the fly) get a 413 JSON envelope, after which the server closes the
// connection without reading the rest. Evidence that it did not read the body: the bytes the server
// process read (/proc/<pid>/io rchar) and the bytes the client managed to push before the answer,
// against the size offered; its RSS stays near the baseline. The oversized set runs CHAOS_REPEAT times.
//
// Env: CHAOS_LIMIT_BYTES (1048576), CHAOS_STREAM_BYTES (1 GiB), CHAOS_REPEAT (5),
// CHAOS_SLACK_BYTES (16 MiB: socket buffers between client and server), CHAOS_RSS_GROWTH_MIB (64),
// GAIT_BIN (the CLI to test).
import * as net from "node:net"
import {
  CALLS,
  bytesReadBy,
  decisionProblem,
  envInt,
  errorEnvelopeProblem,
  MiB,
  makeChecks,
  memoryOf,
  mib,
  parseJson,
  removeDir,
  request,
  startServer,
  tempDir
} from "./lib-serve.mjs"

const LIMIT = envInt("CHAOS_LIMIT_BYTES", 1024 * 1024)
const STREAM_BYTES = envInt("CHAOS_STREAM_BYTES", 1024 * 1024 * 1024)
const REPEAT = envInt("CHAOS_REPEAT", 5)
const SLACK = envInt("CHAOS_SLACK_BYTES", 16 * MiB)
const RSS_GROWTH = envInt("CHAOS_RSS_GROWTH_MIB", 64) * MiB
const CHUNK = 64 * 1024
/** How long the server may take to close the connection after its 413. */
const CLOSE_WITHIN_MS = 5_000
const ROUTES = ["/v1/evaluate", "/v1/evaluate/sse", "/v1/evaluate/stream"]

/** The oversized uploads of one round (limit+1 on every route is sent as well). */
const CASES = [
  { name: "10x declared, head only", total: 10 * LIMIT, framing: "length", polite: true, headOnly: true },
  { name: "10x declared", total: 10 * LIMIT, framing: "length", polite: true },
  { name: "10x chunked", total: 10 * LIMIT, framing: "chunked", polite: true },
  { name: `${mib(STREAM_BYTES)} chunked stream`, total: STREAM_BYTES, framing: "chunked", polite: true },
  { name: `${mib(STREAM_BYTES)} declared stream, blind client`, total: STREAM_BYTES, framing: "length", polite: false }
]

const started = Date.now()
const checks = makeChecks()
const { check } = checks

/** A valid allow request of exactly `bytes` bytes (JSON followed by whitespace padding). */
const bodyOfSize = (bytes) => {
  const json = JSON.stringify(CALLS.allow)
  if (json.length > bytes) throw new Error(`CHAOS_LIMIT_BYTES too small: the base body is ${json.length} bytes`)
  return json + " ".repeat(bytes - json.length)
}

/** Parses a raw HTTP/1.1 response once head and Content-Length body are complete. */
const parseResponse = (raw) => {
  const end = raw.indexOf("\r\n\r\n")
  if (end < 0) return undefined
  const [statusLine, ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n")
  const headers = {}
  for (const line of lines) {
    const colon = line.indexOf(":")
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const length = Number(headers["content-length"] ?? Number.NaN)
  const body = raw.subarray(end + 4)
  if (!Number.isFinite(length) || body.length < length) return undefined
  return { status: Number(statusLine.split(" ")[1]), headers, text: body.subarray(0, length).toString("utf8") }
}

/**
 * Uploads `total` body bytes over a raw socket, generated on the fly from one reused buffer, while
 * reading the response. `framing` is "length" (declared Content-Length) or "chunked". A "polite"
 * client yields to the event loop between writes and stops writing once the response has arrived
 * (as clients that watch for an early answer do); a "blind" one writes as fast as backpressure
 * allows until the connection fails. Resolves with what was observed.
 */
const upload = (port, { total, framing, polite, headOnly = false }) =>
  new Promise((resolve) => {
    const startedAt = Date.now()
    const socket = net.connect(port, "127.0.0.1")
    const payload = Buffer.alloc(CHUNK, 0x20)
    const frame = framing === "chunked" ? Buffer.concat([Buffer.from(`${CHUNK.toString(16)}\r\n`), payload, Buffer.from("\r\n")]) : payload
    let raw = Buffer.alloc(0)
    let response
    let sent = 0
    let sentAtResponse
    let responseMs
    let ending
    const finish = (how) => {
      if (ending !== undefined) return
      ending = how
      clearTimeout(timer)
      socket.destroy()
      resolve({ response, sent, sentAtResponse, responseMs, ending, closeMs: Date.now() - startedAt, raw: raw.subarray(0, 300).toString("latin1") })
    }
    const timer = setTimeout(() => finish("timeout"), 30_000)
    socket.on("data", (d) => {
      raw = Buffer.concat([raw, d])
      if (response === undefined) {
        response = parseResponse(raw)
        if (response !== undefined) {
          sentAtResponse = sent
          responseMs = Date.now() - startedAt
          // After a complete answer the server must hang up by itself within CLOSE_WITHIN_MS.
          setTimeout(() => finish("still open after the response"), CLOSE_WITHIN_MS).unref()
        }
      }
    })
    socket.on("end", () => finish("closed (FIN)"))
    socket.on("error", (e) => finish(`closed (${e.code ?? e.message})`))
    socket.on("close", () => finish("closed"))
    const head =
      framing === "chunked"
        ? "POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        : `POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`
    socket.write(head)
    const pump = () => {
      while (ending === undefined && !socket.destroyed && !headOnly) {
        if (polite && response !== undefined) return
        if (sent >= total) {
          if (framing === "chunked") socket.write("0\r\n\r\n")
          return
        }
        const size = Math.min(CHUNK, total - sent)
        const piece = size === CHUNK ? frame : framing === "chunked" ? Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), payload.subarray(0, size), Buffer.from("\r\n")]) : payload.subarray(0, size)
        sent += size
        if (!socket.write(piece)) {
          socket.once("drain", pump)
          return
        }
        if (polite) {
          setImmediate(pump)
          return
        }
      }
    }
    pump()
  })

/** Checks a 413 envelope; returns the server's `received_at_least`. */
const checkTooLarge = (name, reply) => {
  if (!check(reply !== undefined, name, "no response before the connection ended")) return undefined
  if (!check(reply.status === 413, `${name} status`, `expected 413, got ${reply.status}: ${reply.text.slice(0, 200)}`)) return undefined
  check(errorEnvelopeProblem(reply) === undefined, `${name} body`, errorEnvelopeProblem(reply))
  check(String(reply.headers.connection).toLowerCase() === "close", `${name} connection header`, `got ${reply.headers.connection}`)
  const body = parseJson(reply.text).value ?? {}
  check(body.error_code === "request_too_large" && body.limit_bytes === LIMIT, `${name} envelope`, reply.text.slice(0, 200))
  return Number(body.received_at_least)
}

const server = await (async () => {
  const cwd = tempDir("gait-chaos-payload-")
  const process_ = await startServer(["--max-request-bytes", String(LIMIT), "--trace-max-count", "20"], { cwd })
  return { ...process_, cwd }
})()
console.log(`payload_limits: server pid ${server.pid} port ${server.port}, limit ${LIMIT} bytes, stream ${mib(STREAM_BYTES)}, ${REPEAT} repetitions`)

let peakRss = 0
const sampler = setInterval(() => {
  if (server.alive()) peakRss = Math.max(peakRss, memoryOf(server.pid).rss)
}, 50)

try {
  // At and just below the limit: a normal decision on every route.
  for (const size of [LIMIT - 1, LIMIT]) {
    for (const path of ROUTES) {
      const reply = await request(server.port, { path, body: bodyOfSize(size), headers: { "content-type": "application/json" } })
      const name = `${size} bytes on ${path}`
      if (!check(reply.status === 200, name, reply.error ?? `status ${reply.status}: ${reply.text?.slice(0, 200)}`)) continue
      const json = path === "/v1/evaluate/sse" ? (/^data: (.*)$/m.exec(reply.text)?.[1] ?? "") : reply.text
      check(decisionProblem({ text: json }, { verdict: "allow", exitCode: 0 }) === undefined, `${name} decision`, decisionProblem({ text: json }))
    }
  }
  const baseline = memoryOf(server.pid).rss
  peakRss = baseline
  console.log(`payload_limits: limit-1 and limit answered on ${ROUTES.length} routes; baseline RSS ${mib(baseline)}`)

  const offered = { total: 0 }
  const readBefore = bytesReadBy(server.pid)
  const outcomes = new Map()
  for (let round = 1; round <= REPEAT; round += 1) {
    // limit+1 on every route, with Content-Length: refused from the declared length.
    for (const path of ROUTES) {
      const reply = await request(server.port, { path, body: bodyOfSize(LIMIT + 1), headers: { "content-type": "application/json" } })
      checkTooLarge(`round ${round} limit+1 on ${path}`, reply.error === undefined ? reply : undefined)
      offered.total += LIMIT + 1
    }
    for (const c of CASES) {
      const name = `round ${round} ${c.name}`
      const readAtStart = bytesReadBy(server.pid)
      const result = await upload(server.port, c)
      // What the server process read while this upload ran: the limit plus socket buffers at most.
      const readByServer = bytesReadBy(server.pid) - readAtStart
      check(readByServer <= LIMIT + SLACK, `${name} server read only about the limit`, `server read ${mib(readByServer)} of ${mib(c.total)}`)
      offered.total += c.total
      const outcome = result.response !== undefined ? `${result.response.status}` : "reset"
      const counts = outcomes.get(c.name) ?? new Map()
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
      outcomes.set(c.name, counts)
      // A client that is still writing when the server hangs up may lose the 413 to the reset that
      // follows; only the head-only client is guaranteed to read it.
      if (c.headOnly || result.response !== undefined) {
        const received = checkTooLarge(name, result.response)
        if (received !== undefined && c.framing === "chunked") {
          check(received <= LIMIT + 4 * CHUNK, `${name} read only about the limit`, `server reports ${received} bytes read`)
        }
        check(
          result.sentAtResponse === undefined || result.sentAtResponse <= LIMIT + SLACK,
          `${name} answered early`,
          `client had sent ${mib(result.sentAtResponse ?? 0)} when the 413 arrived`
        )
      }
      check(result.ending.startsWith("closed"), `${name} server closed the connection`, `${result.ending} after ${result.closeMs} ms`)
      check(result.sent <= LIMIT + 2 * SLACK, `${name} stopped early`, `client pushed ${mib(result.sent)} of ${mib(c.total)}`)
      if (round === 1 || checks.failed() > 0) {
        console.log(
          `  ${name}: ${result.response?.status ?? "no response"} after ${mib(result.sentAtResponse ?? result.sent)} sent, ${result.ending} at ${result.closeMs} ms; client pushed ${mib(result.sent)}, server read ${mib(readByServer)}`
        )
      }
    }
    const health = await request(server.port, { method: "GET", path: "/healthz" })
    check(health.status === 200, `round ${round} healthz`, health.error ?? health.text)
    const after = await request(server.port, { body: JSON.stringify(CALLS.allow), headers: { "content-type": "application/json" } })
    check(after.status === 200 && decisionProblem(after, { verdict: "allow", exitCode: 0 }) === undefined, `round ${round} decision after`, after.error ?? after.text)
    console.log(`payload_limits: round ${round}/${REPEAT} done; server RSS ${mib(memoryOf(server.pid).rss)}`)
  }
  const read = bytesReadBy(server.pid) - readBefore
  // The kernel's high-water mark also covers spikes between two samples.
  peakRss = Math.max(peakRss, memoryOf(server.pid).peak)
  check(peakRss <= baseline + RSS_GROWTH, "RSS stays near the baseline", `baseline ${mib(baseline)}, peak ${mib(peakRss)}, bound +${mib(RSS_GROWTH)}`)
  check(server.alive(), "server still running", `exited ${JSON.stringify(server.exitInfo())}; stderr: ${server.stderr().slice(-600)}`)
  for (const c of CASES) {
    const counts = outcomes.get(c.name) ?? new Map()
    // Resets are tolerated per upload, but a server that never gets its 413 across fails.
    check((counts.get("413") ?? 0) > 0, `${c.name}: at least one 413 delivered`, [...counts].map(([k, v]) => `${v}x ${k}`).join(", "))
  }
  const observed = [...outcomes].map(([name, counts]) => `${name}: ${[...counts].map(([k, v]) => `${v}x ${k}`).join("+")}`).join("; ")
  console.log(`payload_limits: server read ${mib(read)} of ${mib(offered.total)} offered; peak RSS ${mib(peakRss)} (baseline ${mib(baseline)})`)
  console.log(`payload_limits: outcomes per upload kind: ${observed}`)
  clearInterval(sampler)
  await server.stop()
  removeDir(server.cwd)
  process.exit(
    checks.report(
      "payload_limits",
      `limit ${LIMIT}, ${REPEAT}x oversized set incl. ${mib(STREAM_BYTES)} streams; server read ${mib(read)} of ${mib(offered.total)} offered, peak RSS ${mib(peakRss)}`,
      started
    )
  )
} catch (e) {
  clearInterval(sampler)
  check(false, "unexpected error", e.stack ?? String(e))
  if (server.alive()) await server.stop()
  process.exit(checks.report("payload_limits", `aborted (server ${server.alive() ? "alive" : `exited ${JSON.stringify(server.exitInfo())}`})`, started))
}
