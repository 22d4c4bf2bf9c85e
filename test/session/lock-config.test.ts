/**
 * Lock tuning (spec session.md §3.2): profiles, Go-duration overrides and their fallbacks, and the
 * per-acquisition read of the environment through `Config`.
 */
import * as path from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { LOCK_ENV, type LockSettings, lockSettings, resolveLockSettings } from "../../src/session/lock-config.js"
import { SessionLock } from "../../src/session/lock.js"
import { removeTempDirs, runWith, tempDir, withLockEnv } from "./fixtures/session-env.js"

afterEach(removeTempDirs)

const STANDARD: LockSettings = { profile: "standard", timeoutMs: 2_000, retryMs: 50, staleAfterMs: 300_000, fsyncAppends: true }
const SWARM: LockSettings = { profile: "swarm", timeoutMs: 10_000, retryMs: 20, staleAfterMs: 600_000, fsyncAppends: false }

type Raw = { readonly profile?: string; readonly timeout?: string; readonly retry?: string; readonly staleAfter?: string }
const resolve = (raw: Raw): LockSettings =>
  resolveLockSettings({ profile: raw.profile ?? "", timeout: raw.timeout ?? "", retry: raw.retry ?? "", staleAfter: raw.staleAfter ?? "" })

describe("resolveLockSettings", () => {
  const cases: ReadonlyArray<readonly [string, Raw, LockSettings]> = [
    ["nothing set → standard", {}, STANDARD],
    ["standard", { profile: "standard" }, STANDARD],
    ["swarm", { profile: "swarm" }, SWARM],
    ["profile is trimmed and lowercased", { profile: "  SwArM \t" }, SWARM],
    ["unknown profile → standard, reported as standard", { profile: "turbo" }, STANDARD],
    ["timeout override", { timeout: "200ms" }, { ...STANDARD, timeoutMs: 200 }],
    ["override is trimmed", { timeout: "  750ms  " }, { ...STANDARD, timeoutMs: 750 }],
    ["compound duration", { timeout: "1m30s" }, { ...STANDARD, timeoutMs: 90_000 }],
    ["fractional hours", { staleAfter: "1.5h" }, { ...STANDARD, staleAfterMs: 5_400_000 }],
    ["leading plus sign", { timeout: "+200ms" }, { ...STANDARD, timeoutMs: 200 }],
    ["leading-dot fraction", { timeout: ".5s" }, { ...STANDARD, timeoutMs: 500 }],
    ["days are not Go syntax → profile value", { staleAfter: "1d" }, STANDARD],
    ["microseconds (us)", { retry: "300us" }, { ...STANDARD, retryMs: 0.3 }],
    ["microseconds (µs)", { retry: "300µs" }, { ...STANDARD, retryMs: 0.3 }],
    ["swarm with every override", { profile: "swarm", timeout: "200ms", retry: "20ms", staleAfter: "2m" }, { ...SWARM, timeoutMs: 200, retryMs: 20, staleAfterMs: 120_000 }],
    ["invalid → profile value (standard)", { timeout: "soon" }, STANDARD],
    ["invalid → profile value (swarm)", { profile: "swarm", timeout: "soon", retry: "fast", staleAfter: "7d" }, SWARM],
    ["bare number is invalid → profile value", { profile: "swarm", timeout: "5", retry: "5", staleAfter: "5" }, SWARM],
    ["blank → profile value", { profile: "swarm", timeout: "   " }, SWARM],
    ["0 → standard constants", { timeout: "0", retry: "0", staleAfter: "0" }, STANDARD],
    [
      "0 under swarm → standard constants, not swarm's",
      { profile: "swarm", timeout: "0", retry: "0", staleAfter: "0" },
      { ...SWARM, timeoutMs: 2_000, retryMs: 50, staleAfterMs: 300_000 }
    ],
    [
      "negative under swarm → standard constants",
      { profile: "swarm", timeout: "-1s", retry: "-5ms", staleAfter: "-1m" },
      { ...SWARM, timeoutMs: 2_000, retryMs: 50, staleAfterMs: 300_000 }
    ],
    ["retry capped at the timeout", { timeout: "10ms" }, { ...STANDARD, timeoutMs: 10, retryMs: 10 }],
    ["explicit retry above the timeout is capped", { timeout: "100ms", retry: "5s" }, { ...STANDARD, timeoutMs: 100, retryMs: 100 }],
    ["retry capped at the standard timeout a 0 timeout falls back to", { timeout: "0", retry: "5s" }, { ...STANDARD, retryMs: 2_000 }],
    ["retry equal to the timeout stays", { timeout: "20ms", retry: "20ms" }, { ...STANDARD, timeoutMs: 20, retryMs: 20 }],
    ["swarm retry capped at an overridden timeout", { profile: "swarm", timeout: "5ms" }, { ...SWARM, timeoutMs: 5, retryMs: 5 }]
  ]
  for (const [name, raw, expected] of cases) {
    it(name, () => {
      expect(resolve(raw)).toEqual(expected)
    })
  }

  it("fsync of appends follows the profile only", () => {
    expect(resolve({ profile: "swarm", timeout: "0" }).fsyncAppends).toBe(false)
    expect(resolve({ profile: "standard", timeout: "10s" }).fsyncAppends).toBe(true)
  })
})

const envOf = (raw: Raw): Record<string, string> => ({
  ...(raw.profile === undefined ? {} : { [LOCK_ENV.profile]: raw.profile }),
  ...(raw.timeout === undefined ? {} : { [LOCK_ENV.timeout]: raw.timeout }),
  ...(raw.retry === undefined ? {} : { [LOCK_ENV.retry]: raw.retry }),
  ...(raw.staleAfter === undefined ? {} : { [LOCK_ENV.staleAfter]: raw.staleAfter })
})

describe("lockSettings (through Config)", () => {
  it.effect("the variable names are the reference's", () =>
    Effect.sync(() => {
      expect(LOCK_ENV).toEqual({
        profile: "GAIT_SESSION_LOCK_PROFILE",
        timeout: "GAIT_SESSION_LOCK_TIMEOUT",
        retry: "GAIT_SESSION_LOCK_RETRY",
        staleAfter: "GAIT_SESSION_LOCK_STALE_AFTER"
      })
    })
  )

  it.effect("reads the four variables from the ConfigProvider", () =>
    Effect.gen(function* () {
      const settings = yield* lockSettings.pipe(
        withLockEnv(envOf({ profile: "swarm", timeout: "200ms", retry: "20ms", staleAfter: "2m" }))
      )
      expect(settings).toEqual({ ...SWARM, timeoutMs: 200, retryMs: 20, staleAfterMs: 120_000 })
    })
  )

  it.effect("no variables → standard", () =>
    Effect.gen(function* () {
      expect(yield* lockSettings.pipe(withLockEnv({}))).toEqual(STANDARD)
    })
  )

  it.effect("bad values never fail the effect", () =>
    Effect.gen(function* () {
      const settings = yield* lockSettings.pipe(withLockEnv(envOf({ profile: "???", timeout: "5", retry: "x", staleAfter: "0" })))
      expect(settings).toEqual(STANDARD)
    })
  )

  it.live("the environment is re-read on every acquisition of one lock instance", () =>
    Effect.gen(function* () {
      const journal = path.join(tempDir(), "env.journal.jsonl")
      const lock = yield* SessionLock
      const seen = (env: Record<string, string>) => lock.withLock(journal, (s) => Effect.succeed(s)).pipe(withLockEnv(env))
      const first = yield* seen(envOf({ profile: "swarm", timeout: "300ms" }))
      const second = yield* seen(envOf({ retry: "7ms" }))
      const third = yield* seen({})
      expect(first).toEqual({ ...SWARM, timeoutMs: 300 })
      expect(second).toEqual({ ...STANDARD, retryMs: 7 })
      expect(third).toEqual(STANDARD)
    }).pipe(runWith({}))
  )
})
