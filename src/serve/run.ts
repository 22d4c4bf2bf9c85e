/**
 * Runs the HTTP service until the process is interrupted: builds the Node server layer, prints the
 * startup line once listening, then waits. On SIGINT/SIGTERM the runtime interrupts this fiber; closing
 * the scope stops accepting connections and lets in-flight requests finish.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, Effect, Layer } from "effect"
import { createServer, STATUS_CODES } from "node:http"
import type { Duplex } from "node:stream"
import { diagnose } from "../diagnostics/diagnostics.js"
import { renderJsonRecord } from "../kernel/json-output.js"
import type { Gate } from "../gate/gate.js"
import type { Traces } from "../gate/traces.js"
import type { Keys } from "../keys/keys.js"
import type { Auth } from "./auth.js"
import type { Retention } from "./retention.js"
import type { SessionStore } from "../session/store.js"
import { RequestRejected, ServeConfigInvalid } from "./errors.js"
import { makeApp, type ServeSettings } from "./server.js"

const describeServeError = (e: unknown): string => {
  const cause = (e as { readonly cause?: unknown }).cause
  return cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e)
}

export interface ListenAddress {
  readonly host: string
  readonly port: number
}

/**
 * Requests Node's parser rejects (broken request line or headers, oversized headers, a header
 * timeout) never reach the app; they still get a JSON error body like every other refusal.
 */
const answerClientError = (error: Error & { readonly code?: string }, socket: Duplex): void => {
  if (!socket.writable || error.code === "ECONNRESET") {
    socket.destroy()
    return
  }
  const rejection =
    error.code === "HPE_HEADER_OVERFLOW"
      ? new RequestRejected({ status: 431, detail: "request headers are too large" })
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? new RequestRejected({ status: 408, detail: "request not received in time" })
        : new RequestRejected({ status: 400, detail: "malformed HTTP request" })
  const body = `${renderJsonRecord(diagnose(rejection, undefined).body)}\n`
  // Destroyed once written: a client that never reads must not keep the descriptor open.
  socket.end(
    `HTTP/1.1 ${rejection.status} ${STATUS_CODES[rejection.status]}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy()
  )
}

/** Timeouts against slow clients: headers within 5 s, whole request within 30 s, idle keep-alive 60 s. */
const nodeServer = () => {
  const server = createServer()
  server.headersTimeout = 5_000
  server.requestTimeout = 30_000
  server.keepAliveTimeout = 60_000
  server.on("clientError", answerClientError)
  return server
}

export const runServe = <E, R, R2>(
  settings: ServeSettings,
  listen: ListenAddress,
  onListening: (address: string) => Effect.Effect<void, never, R2>,
  services: Layer.Layer<Gate | Traces | Keys | Auth | Retention | SessionStore, E, R>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const app = makeApp(settings)
      const serverLayer = HttpServer.serve(app).pipe(
        Layer.provide(services),
        Layer.provideMerge(NodeHttpServer.layer(nodeServer, { host: listen.host, port: listen.port }))
      )
      // A listen failure (address in use, permission) is a startup refusal, exit 6, not a crash.
      const context = yield* Layer.build(serverLayer).pipe(
        Effect.mapError((e) => new ServeConfigInvalid({ detail: `listen ${listen.host}:${listen.port}: ${describeServeError(e)}` }))
      )
      const server = Context.get(context, HttpServer.HttpServer)
      const address =
        server.address._tag === "TcpAddress" ? `${server.address.hostname}:${server.address.port}` : server.address.path
      yield* onListening(address)
      return yield* Effect.never
    })
  )
