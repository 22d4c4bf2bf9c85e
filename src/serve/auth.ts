/**
 * The `Auth` service decides whether a request may evaluate. Layers: `layerOff` and `layerToken`
 * (bearer token compared in constant time). An integrator replaces the layer (mTLS, JWT) without
 * touching the routes; the routes only call `authorize`.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import { timingSafeEqual, createHash } from "node:crypto"
import { RequestRejected } from "./errors.js"

export interface AuthRequest {
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly remoteAddress?: string | undefined
}

export interface AuthApi {
  readonly mode: string
  readonly authorize: (request: AuthRequest) => Effect.Effect<void, RequestRejected>
}

export class Auth extends Context.Tag("gait/Auth")<Auth, AuthApi>() {}

export const layerOff: Layer.Layer<Auth> = Layer.succeed(Auth, { mode: "off", authorize: () => Effect.void })

const unauthorized = (detail: string) => new RequestRejected({ status: 401, detail })

/** Equal-length digests, so the comparison takes the same time whatever the presented token is. */
const sameToken = (presented: string, expected: string): boolean =>
  timingSafeEqual(createHash("sha256").update(presented).digest(), createHash("sha256").update(expected).digest())

export const layerToken = (token: Redacted.Redacted<string>): Layer.Layer<Auth> =>
  Layer.succeed(Auth, {
    mode: "token",
    authorize: (request) =>
      Effect.suspend(() => {
        const expected = Redacted.value(token).trim()
        if (expected === "") return Effect.fail(unauthorized("auth token is not configured"))
        const header = (request.headers.authorization ?? "").trim()
        if (!header.startsWith("Bearer ")) return Effect.fail(unauthorized("missing bearer authorization"))
        return sameToken(header.slice("Bearer ".length).trim(), expected)
          ? Effect.void
          : Effect.fail(unauthorized("invalid bearer authorization"))
      })
  })
