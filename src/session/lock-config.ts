/**
 * Session lock tuning (spec session.md §3.2), re-read from the environment on every acquisition:
 * `GAIT_SESSION_LOCK_PROFILE` (standard | swarm), then `GAIT_SESSION_LOCK_TIMEOUT`, `_RETRY` and
 * `_STALE_AFTER` in Go duration syntax. Bad values never fail: empty or invalid falls back to the
 * profile, values ≤ 0 to the standard constants, and the retry is capped at the timeout.
 */
import { Config, Effect, Option } from "effect"
import { parseGoDuration } from "../kernel/duration.js"
import { lowerTrim, trim } from "../kernel/text.js"
import type { LockProfile } from "./errors.js"

export interface LockSettings {
  readonly profile: LockProfile
  readonly timeoutMs: number
  readonly retryMs: number
  readonly staleAfterMs: number
  /** Whether journal appends are fsynced (swarm trades that for throughput; the state index always is). */
  readonly fsyncAppends: boolean
}

const STANDARD = { timeoutMs: 2_000, retryMs: 50, staleAfterMs: 300_000 }
const SWARM = { timeoutMs: 10_000, retryMs: 20, staleAfterMs: 600_000 }

export const LOCK_ENV = {
  profile: "GAIT_SESSION_LOCK_PROFILE",
  timeout: "GAIT_SESSION_LOCK_TIMEOUT",
  retry: "GAIT_SESSION_LOCK_RETRY",
  staleAfter: "GAIT_SESSION_LOCK_STALE_AFTER"
} as const

const override = (raw: string, profileValue: number, standardValue: number): number => {
  const text = trim(raw)
  if (text === "") return profileValue
  const parsed = parseGoDuration(text)
  if (Option.isNone(parsed)) return profileValue
  const ms = Number(parsed.value) / 1e6
  return ms <= 0 ? standardValue : ms
}

/** Pure resolution from the four raw variable values. */
export const resolveLockSettings = (env: {
  readonly profile: string
  readonly timeout: string
  readonly retry: string
  readonly staleAfter: string
}): LockSettings => {
  const profile: LockProfile = lowerTrim(env.profile) === "swarm" ? "swarm" : "standard"
  const base = profile === "swarm" ? SWARM : STANDARD
  const timeoutMs = override(env.timeout, base.timeoutMs, STANDARD.timeoutMs)
  const retryMs = Math.min(override(env.retry, base.retryMs, STANDARD.retryMs), timeoutMs)
  const staleAfterMs = override(env.staleAfter, base.staleAfterMs, STANDARD.staleAfterMs)
  return { profile, timeoutMs, retryMs, staleAfterMs, fsyncAppends: profile !== "swarm" }
}

const variable = (name: string) => Config.string(name).pipe(Config.withDefault(""))

/** Reads the variables through `Config` (so tests can supply a ConfigProvider). */
export const lockSettings: Effect.Effect<LockSettings> = Effect.map(
  Effect.orElseSucceed(
    Config.all({
      profile: variable(LOCK_ENV.profile),
      timeout: variable(LOCK_ENV.timeout),
      retry: variable(LOCK_ENV.retry),
      staleAfter: variable(LOCK_ENV.staleAfter)
    }),
    () => ({ profile: "", timeout: "", retry: "", staleAfter: "" })
  ),
  resolveLockSettings
)
