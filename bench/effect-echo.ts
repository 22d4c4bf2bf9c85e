/**
 * The serve bench's second baseline: the same JSON echo as the bare `node:http` one, but through the
 * stack `gait mcp serve` runs on (`HttpRouter` + `HttpServer` + the Node layer, body read as text,
 * parsed, re-rendered). Its throughput is the most any handler on this stack can reach here.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"

const echo = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const parsed: unknown = JSON.parse(yield* request.text)
  return HttpServerResponse.text(`${JSON.stringify({ ok: true, echo: parsed })}\n`, { contentType: "application/json" })
}).pipe(Effect.orDie)

const app = HttpRouter.empty.pipe(HttpRouter.post("/v1/evaluate", echo))

const main = Effect.gen(function* () {
  const server = yield* HttpServer.HttpServer
  if (server.address._tag === "TcpAddress") console.log(JSON.stringify({ listen: `127.0.0.1:${server.address.port}` }))
  return yield* Effect.never
})

NodeRuntime.runMain(
  Effect.scoped(
    Effect.flatMap(
      Layer.build(
        HttpServer.serve(app).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })))
      ),
      (context) => Effect.provide(main, context)
    )
  )
)
