/**
 * Acceptance gate 1, error taxonomy (ops.md §3).
 *
 * - The list of errors is derived from the source: every tagged error class exported anywhere under
 *   src/ must have a row in the diagnostics table with a documented exit code, a canonical category
 *   that agrees with that exit code (§3.2), an HTTP status and a non-empty hint for every value of
 *   the error (checked on generated samples). A new error class without a row fails here even if it
 *   never reaches the union type.
 * - Golden envelopes: the real CLI's JSON line is compared byte for byte with committed fixtures in
 *   test/hardening/fixtures/. Masked, and only these: the producer version of `version --json`, and
 *   the timing members of a lock diagnostic (`waited_ms`, `attempts`, `holder_age_ms`, and the same
 *   numbers inside the message). Paths are relative to the temp working directory, and correlation
 *   ids are a hash of the argv (§4), so both stay unmasked. UPDATE_GOLDEN=1 rewrites the fixtures.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Effect, FastCheck, Schema } from "effect"
import { diagnose, isGaitError, type Rule, rules } from "../../src/diagnostics/diagnostics.js"
import { ERROR_CATEGORIES } from "../../src/kernel/exit-codes.js"
import { VERSION } from "../../src/version.js"
import { REPO_ROOT, runGait, tempDir } from "../helpers/cli.js"

const SRC = path.join(REPO_ROOT, "src")
const FIXTURES = path.join(__dirname, "fixtures")

/**
 * Tagged errors that are deliberately internal: never exported, caught inside their module.
 * Each entry names its file; an entry whose class no longer exists fails the suite.
 */
const INTERNAL_ERRORS: Readonly<Record<string, string>> = {
  LockBusy: "session/lock.ts"
}

/** What §3.2 says each category exits with. */
const EXIT_OF_CATEGORY: Readonly<Record<(typeof ERROR_CATEGORIES)[number], number>> = {
  invalid_input: 6,
  verification_failed: 2,
  policy_blocked: 3,
  approval_required: 4,
  dependency_missing: 7,
  io_failure: 1,
  state_contention: 1,
  network_transient: 1,
  network_permanent: 1,
  internal_failure: 1
}

interface Declared {
  readonly className: string
  readonly tag: string
  readonly file: string
  readonly exported: boolean
}

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith(".ts") ? [full] : []
  })

const SCHEMA_ERROR = /(export\s+)?class\s+(\w+)\s+extends\s+Schema\.TaggedError<\w+>\(\)\(\s*"(\w+)"/g
const DATA_ERROR = /(export\s+)?class\s+(\w+)\s+extends\s+Data\.TaggedError\(\s*"(\w+)"\s*\)/g

/** Every tagged error class declared under src/, read from the text of the files. */
const declaredErrors = (): Array<Declared> =>
  sourceFiles(SRC).flatMap((file) => {
    const text = readFileSync(file, "utf8")
    return [...text.matchAll(SCHEMA_ERROR), ...text.matchAll(DATA_ERROR)].map((m) => ({
      className: m[2] as string,
      tag: m[3] as string,
      file: path.relative(SRC, file),
      exported: m[1] !== undefined
    }))
  })

/** The class object of an exported error, imported from its module. */
const loadClass = async (d: Declared): Promise<Schema.Schema.Any> => {
  const module = (await import(pathToFileURL(path.join(SRC, d.file)).href)) as Record<string, unknown>
  const value = module[d.className]
  if (typeof value !== "function" || !Schema.isSchema(value)) throw new Error(`${d.file} does not export the schema class ${d.className}`)
  return value
}

const anyRule = (tag: string): Rule<unknown> | undefined =>
  Object.hasOwn(rules, tag) ? (rules as unknown as Record<string, Rule<unknown>>)[tag] : undefined

describe("error taxonomy, derived from the source", () => {
  const declared = declaredErrors()
  const exported = declared.filter((d) => d.exported)

  it("finds the error classes (sanity: the scan is not silently empty)", () => {
    expect(exported.length).toBeGreaterThanOrEqual(30)
    expect(exported.map((d) => d.tag)).toContain("SessionLockContention")
    expect(exported.map((d) => d.tag)).toContain("RequestTooLarge")
  })

  it("every exported tagged error has a row, and every row belongs to a declared error", () => {
    const missing = exported.filter((d) => anyRule(d.tag) === undefined).map((d) => `${d.tag} (${d.file})`)
    expect(missing, "error classes without a diagnostics row").toEqual([])
    const tags = new Set(exported.map((d) => d.tag))
    expect(Object.keys(rules).filter((tag) => !tags.has(tag)), "rows without an exported error class").toEqual([])
  })

  it("internal errors are the listed ones only, and stay unexported", () => {
    const internal = declared.filter((d) => !d.exported || anyRule(d.tag) === undefined)
    expect(Object.fromEntries(internal.map((d) => [d.tag, d.file]))).toEqual(INTERNAL_ERRORS)
  })

  it("every row: documented exit code agreeing with its category, HTTP 4xx/5xx, retryable only when transient", () => {
    for (const [tag, rule] of Object.entries(rules as unknown as Record<string, Rule<unknown>>)) {
      expect(ERROR_CATEGORIES, tag).toContain(rule.category)
      expect(rule.exitCode, `${tag}: exit code of category ${rule.category}`).toBe(EXIT_OF_CATEGORY[rule.category])
      expect(rule.code, tag).toMatch(/^[a-z][a-z_]*[a-z]$/)
      if (typeof rule.httpStatus === "number") expect(rule.httpStatus >= 400 && rule.httpStatus <= 599, tag).toBe(true)
      expect(rule.retryable, tag).toBe(rule.category === "state_contention" || rule.category === "network_transient")
    }
    // error codes name one failure each
    const codes = Object.values(rules as unknown as Record<string, Rule<unknown>>).map((r) => r.code)
    expect(codes.length - new Set(codes).size, "duplicate error_code values").toBeLessThanOrEqual(0)
  })

  it("every exported error renders a complete envelope with a non-empty hint, for generated values", async () => {
    for (const d of exported) {
      const cls = await loadClass(d)
      const samples = FastCheck.sample(Arbitrary.make(cls), { numRuns: 25, seed: 7 })
      expect(samples.length, d.tag).toBe(25)
      for (const error of samples) {
        expect(isGaitError(error), `${d.tag} is recognised as a GaitError`).toBe(true)
        if (!isGaitError(error)) continue
        const diagnostic = diagnose(error, "cid-taxonomy")
        const body = diagnostic.body
        expect(typeof body.hint === "string" && body.hint.trim() !== "", `${d.tag}: non-empty hint for ${JSON.stringify(error)}`).toBe(true)
        expect(typeof body.error === "string", `${d.tag}: error text`).toBe(true)
        expect(body.error_category, d.tag).toBe(anyRule(d.tag)?.category)
        expect(body.ok, d.tag).toBe(false)
        expect(Object.hasOwn(body, "_tag"), d.tag).toBe(false)
        expect(diagnostic.httpStatus >= 400 && diagnostic.httpStatus <= 599, `${d.tag}: HTTP ${diagnostic.httpStatus}`).toBe(true)
      }
    }
  })
})

// --- golden envelopes from the real CLI ---------------------------------------------------------

type Mask = (line: string) => string

const maskVersion: Mask = (line) => line.split(JSON.stringify(VERSION)).join('"<version>"')
const maskLockTiming: Mask = (line) =>
  line
    .replace(/"waited_ms":\d+/g, '"waited_ms":"<ms>"')
    .replace(/"attempts":\d+/g, '"attempts":"<n>"')
    .replace(/"holder_age_ms":\d+/g, '"holder_age_ms":"<ms>"')
    .replace(/waited=\d+ms attempts=\d+/g, "waited=<ms>ms attempts=<n>")

const expectGolden = (name: string, stdout: string): void => {
  const file = path.join(FIXTURES, `${name}.golden.json`)
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, stdout)
  expect(stdout, `${name}: one JSON line ending in a newline`).toMatch(/^\{.*\}\n$/)
  expect(stdout).toBe(readFileSync(file, "utf8"))
}

const lockLine = (createdAt: Date, pid: number): string =>
  `${JSON.stringify({ created_at: createdAt.toISOString(), pid, schema_id: "gait.runpack.session_lock", schema_version: "1.0.0", token: "golden" })}\n`

describe("golden JSON envelopes of the real CLI", () => {
  it.effect("usage error: exit 6, invalid_input", () =>
    Effect.sync(() => {
      const r = runGait(["gate", "eval", "--json"], { cwd: tempDir("gait-golden-") })
      expect(r.code).toBe(6)
      expectGolden("usage_error", r.stdout)
    })
  )

  it.effect("typed domain error (policy_unparsable): exit 6 with path, line and column", () =>
    Effect.sync(() => {
      const dir = tempDir("gait-golden-")
      writeFileSync(path.join(dir, "bad.yaml"), "default_verdict: [\n")
      writeFileSync(path.join(dir, "intent.json"), "{}\n")
      const r = runGait(["gate", "eval", "--policy", "bad.yaml", "--intent", "intent.json", "--json"], { cwd: dir })
      expect(r.code).toBe(6)
      expectGolden("policy_unparsable", r.stdout)
    })
  )

  it.effect("lock contention: exit 1, state_contention, retryable, the lock diagnostic", () =>
    Effect.sync(() => {
      const dir = tempDir("gait-golden-")
      const start = runGait(["run", "session", "start", "--journal", "j.jsonl", "--session-id", "s", "--run-id", "r", "--json"], { cwd: dir })
      expect(start.code).toBe(0)
      writeFileSync(path.join(dir, "j.jsonl.lock"), lockLine(new Date(), 4242))
      const r = runGait(["run", "session", "append", "--journal", "j.jsonl", "--tool", "tool.write", "--verdict", "allow", "--json"], {
        cwd: dir,
        env: { GAIT_SESSION_LOCK_TIMEOUT: "200ms", GAIT_SESSION_LOCK_PROFILE: undefined, GAIT_SESSION_LOCK_RETRY: undefined, GAIT_SESSION_LOCK_STALE_AFTER: undefined }
      })
      expect(r.code).toBe(1)
      // the masked members are checked for sense before they are masked
      const lock = r.json().lock as { readonly waited_ms: number; readonly attempts: number; readonly holder_age_ms: number }
      expect(lock.waited_ms).toBeGreaterThanOrEqual(200)
      expect(lock.attempts).toBeGreaterThanOrEqual(1)
      expect(lock.holder_age_ms).toBeGreaterThanOrEqual(0)
      expect(lock.holder_age_ms).toBeLessThan(60_000)
      expectGolden("session_lock_contention", maskLockTiming(r.stdout))
    })
  )

  it.effect("success: exit 0 with the correlation id of the argv", () =>
    Effect.sync(() => {
      const r = runGait(["version", "--json"], { cwd: tempDir("gait-golden-") })
      expect(r.code).toBe(0)
      // §4: sha256 over "gait\x1fversion\x1f--json", first 12 bytes (the spec's own example value)
      expect(r.stdout).toContain('"correlation_id":"e817da1ea5bc1c4b0c6da48f"')
      expectGolden("success_version", maskVersion(r.stdout))
    })
  )
})
