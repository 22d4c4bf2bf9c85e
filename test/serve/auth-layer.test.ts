// Auth is a replaceable layer: the HTTP app from `makeApp` is served in-process with an integrator's
// own `Auth` (here: a client-certificate header set by a TLS-terminating proxy) and the same routes
// answer 401 or decide — without touching them. Swapping in the shipped token layer changes nothing
// else, and the check order (method before auth) holds for any layer.
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { readFileSync } from "node:fs"
import * as http from "node:http"
import * as Gate from "../../src/gate/gate.js"
import * as Traces from "../../src/gate/traces.js"
import { generateKeyPair, keyIdOf, verifySignedDocument } from "../../src/kernel/signing.js"
import * as Keys from "../../src/keys/keys.js"
import { Auth, type AuthRequest, layerToken } from "../../src/serve/auth.js"
import { RequestRejected } from "../../src/serve/errors.js"
import { makeApp, type ServeSettings } from "../../src/serve/server.js"
import { tempDir } from "../helpers/cli.js"
import { CALLS, errorBody, POLICY, type Reply, type SendOptions, send } from "./harness.js"

/** An integrator's Auth: only requests marked by the TLS proxy as carrying a trusted client cert. */
const ClientCertAuth = Layer.succeed(Auth, {
  mode: "client-cert",
  authorize: (request: AuthRequest) =>
    request.headers["x-client-cert"] === "trusted"
      ? Effect.void
      : Effect.fail(new RequestRejected({ status: 401, detail: "trusted client certificate required" }))
})

const settings = (traceDir: string): ServeSettings => ({
  policyPath: POLICY,
  adapter: "mcp",
  profile: "standard",
  maxRequestBytes: 64 * 1024,
  verdictStatus: "compat",
  allowClientArtifactPaths: false,
  traceDir
})

/** Serves `makeApp` on 127.0.0.1:0 with the given Auth layer for the rest of the test's scope. */
const serveWith = (auth: Layer.Layer<Auth>) =>
  Effect.gen(function* () {
    const pair = generateKeyPair()
    const traceDir = tempDir("gait-serve-auth-")
    const services = Layer.mergeAll(Gate.layer, Traces.layer.pipe(Layer.provideMerge(Keys.layerFromKeyPair(pair))), auth).pipe(
      Layer.provideMerge(NodeFileSystem.layer)
    )
    const serverLayer = HttpServer.serve(makeApp(settings(traceDir))).pipe(
      Layer.provide(services),
      Layer.provideMerge(NodeHttpServer.layer(() => http.createServer(), { port: 0, host: "127.0.0.1" }))
    )
    const context = yield* Layer.build(serverLayer)
    const { address } = Context.get(context, HttpServer.HttpServer)
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage(`expected a TCP address, got ${address._tag}`)
    return { port: address.port, publicKey: pair.publicKey, traceDir }
  })

const request = (port: number, options: SendOptions): Effect.Effect<Reply> => Effect.promise(() => send(port, options))

const evaluate = (port: number, headers: Record<string, string>, route = "/v1/evaluate") =>
  request(port, { path: route, body: JSON.stringify(CALLS.allow), headers: { "content-type": "application/json", ...headers } })

describe("mcp serve Auth layer", () => {
  it.scopedLive("a custom Auth layer guards every evaluate route without touching the routes", () =>
    Effect.gen(function* () {
      const { port, publicKey, traceDir } = yield* serveWith(ClientCertAuth)

      for (const route of ["/v1/evaluate", "/v1/evaluate/sse", "/v1/evaluate/stream"]) {
        for (const headers of [{}, { "x-client-cert": "untrusted" }, { authorization: "Bearer anything" }]) {
          const refused = yield* evaluate(port, headers, route)
          expect(refused.status, `${route} ${JSON.stringify(headers)}`).toBe(401)
          const { error, error_code } = errorBody(refused)
          expect(error).toBe("trusted client certificate required")
          expect(error_code).toBe("request_rejected")
        }
        const accepted = yield* evaluate(port, { "X-Client-Cert": "trusted" }, route)
        expect(accepted.status, accepted.text).toBe(200)
        expect(accepted.text).toContain('"verdict":"allow"')
      }

      const decided = yield* evaluate(port, { "x-client-cert": "trusted" })
      const out = decided.json()
      expect(out).toMatchObject({ ok: true, executed: false, verdict: "allow", exit_code: 0 })
      const trace = JSON.parse(readFileSync(String(out.trace_path), "utf8")) as Record<string, unknown>
      expect(String(out.trace_path).startsWith(traceDir)).toBe(true)
      expect(verifySignedDocument(trace, publicKey)._tag).toBe("Right")
      expect((trace.signature as { key_id: string }).key_id).toBe(keyIdOf(publicKey))

      // The order of checks is the routes' business: method first, then whatever Auth decides.
      const wrongMethod = yield* request(port, { method: "GET", path: "/v1/evaluate" })
      expect(wrongMethod.status).toBe(405)
      const health = yield* request(port, { method: "GET", path: "/healthz" })
      expect(health.status).toBe(200)
      const wrongType = yield* request(port, { body: "{}", headers: { "content-type": "text/plain" } })
      expect(wrongType.status).toBe(401)
    })
  )

  it.scopedLive("swapping in the shipped token layer changes who is let in, and nothing else", () =>
    Effect.gen(function* () {
      const { port } = yield* serveWith(layerToken(Redacted.make("layer-token")))
      expect((yield* evaluate(port, { "x-client-cert": "trusted" })).status).toBe(401)
      expect(errorBody(yield* evaluate(port, {})).error).toBe("missing bearer authorization")
      expect(errorBody(yield* evaluate(port, { authorization: "Bearer nope" })).error).toBe("invalid bearer authorization")
      const ok = yield* evaluate(port, { authorization: "Bearer layer-token" })
      expect(ok.status).toBe(200)
      expect(ok.json().verdict).toBe("allow")
    })
  )

  it.scopedLive("the Auth layer is told the client's remote address (AuthRequest.remoteAddress)", () =>
    Effect.gen(function* () {
      const seen: Array<string | undefined> = []
      const LoopbackOnly = Layer.succeed(Auth, {
        mode: "loopback-only",
        authorize: (req: AuthRequest) =>
          Effect.suspend(() => {
            seen.push(req.remoteAddress)
            return req.remoteAddress === "127.0.0.1" || req.remoteAddress === "::ffff:127.0.0.1"
              ? Effect.void
              : Effect.fail(new RequestRejected({ status: 401, detail: "loopback clients only" }))
          })
      })
      const { port } = yield* serveWith(LoopbackOnly)
      const reply = yield* evaluate(port, {})
      expect(seen).toEqual([expect.stringMatching(/127\.0\.0\.1$/)])
      expect(reply.status, reply.text).toBe(200)
    })
  )
})
