/**
 * Request bodies bounded by `max_request_bytes` while streaming: a `Content-Length` above the limit is
 * refused before reading, and a body that grows past the limit stops being read at the chunk that
 * crossed it. (The platform's own limit destroys the socket; the client must get a 413 JSON instead.)
 */
import { Effect } from "effect"
import type { IncomingMessage } from "node:http"
import { RequestRejected, RequestTooLarge } from "./errors.js"

export const readBoundedBody = (request: IncomingMessage, limit: number): Effect.Effect<string, RequestTooLarge | RequestRejected> =>
  Effect.async<string, RequestTooLarge | RequestRejected>((resume) => {
    const declared = Number(request.headers["content-length"] ?? Number.NaN)
    if (Number.isFinite(declared) && declared > limit) {
      resume(Effect.fail(new RequestTooLarge({ limit_bytes: limit, received_at_least: declared })))
      return
    }
    const chunks: Array<Buffer> = []
    let received = 0
    const cleanup = () => {
      request.off("data", onData).off("end", onEnd).off("error", onError).off("aborted", onAborted)
    }
    const onData = (chunk: Buffer) => {
      received += chunk.length
      if (received > limit) {
        cleanup()
        request.pause()
        resume(Effect.fail(new RequestTooLarge({ limit_bytes: limit, received_at_least: received })))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
    }
    const onError = (e: Error) => {
      cleanup()
      resume(Effect.fail(new RequestRejected({ status: 400, detail: `read request: ${e.message}` })))
    }
    const onAborted = () => onError(new Error("client aborted the request"))
    request.on("data", onData).on("end", onEnd).on("error", onError).on("aborted", onAborted)
    return Effect.sync(cleanup)
  })
