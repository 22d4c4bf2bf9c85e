// Doctor against real directories: a fresh checkout fails production readiness with the exact checks,
// the hardened template passes, and each production check flips to fail when its one key changes.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { type DoctorResult, runDoctor } from "../../src/doctor/doctor.js"
import * as Gate from "../../src/gate/gate.js"
import { initProduction } from "../../src/init/production.js"

const services = Gate.layer.pipe(Layer.provideMerge(NodeFileSystem.layer))

const doctor = (workdir: string, productionReadiness = true) =>
  runDoctor({ workdir, outputDir: "./gait-out", keys: { keyMode: "" }, productionReadiness }).pipe(Effect.provide(services))

const status = (r: DoctorResult, name: string) => r.checks.find((c) => c.name === name)?.status
const failing = (r: DoctorResult) => r.checks.filter((c) => c.status === "fail").map((c) => c.name)

const hardened = () =>
  Effect.gen(function* () {
    const dir = mkdtempSync(path.join(tmpdir(), "gait-doctor-"))
    yield* initProduction(dir).pipe(Effect.provide(NodeFileSystem.layer))
    return dir
  })

const setConfig = (dir: string, from: string, to: string) => {
  const file = path.join(dir, ".gait", "config.yaml")
  const text = readFileSync(file, "utf8")
  expect(text).toContain(from)
  writeFileSync(file, text.replace(from, to))
}

describe("gait doctor --production-readiness", () => {
  it.effect("a fresh directory fails with the exact production checks named", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(path.join(tmpdir(), "gait-doctor-empty-"))
      const r = yield* doctor(dir)
      expect(r.status).toBe("fail")
      expect(failing(r)).toEqual([
        "production_readiness_config",
        "production_profile",
        "production_key_mode",
        "production_retention",
        "production_context_strictness",
        "production_signing_key",
        "production_self_test"
      ])
      expect(status(r, "output_dir")).toBe("warn")
      expect(r.fix_commands).toContain("gait init --production")
      expect([...r.fix_commands]).toEqual([...r.fix_commands].sort())
    })
  )

  it.effect("the hardened template written by init --production passes every check", () =>
    Effect.gen(function* () {
      const r = yield* doctor(yield* hardened())
      expect(failing(r)).toEqual([])
      expect(r.status).toBe("pass")
      expect(r.checks.map((c) => c.name)).toContain("production_self_test")
      expect(r.checks.find((c) => c.name === "production_self_test")?.message).toContain("verdict=block")
    })
  )

  const flips: ReadonlyArray<readonly [string, string, string, ReadonlyArray<string>]> = [
    ["profile", "profile: oss-prod", "profile: standard", ["production_profile", "production_context_strictness"]],
    ["key mode", "key_mode: prod", "key_mode: dev", ["production_key_mode"]],
    ["retention syntax", "trace_ttl: 168h", "trace_ttl: 7d", ["production_retention"]],
    ["retention missing", "export_ttl: 168h", 'export_ttl: ""', ["production_retention"]],
    ["auth off a public listener", "listen: 127.0.0.1:8787\n  auth_mode: token", "listen: 0.0.0.0:8787\n  auth_mode: off", ["production_service_boundary"]],
    ["token without env", "auth_token_env: GAIT_MCP_TOKEN", 'auth_token_env: ""', ["production_service_boundary"]],
    ["client artifact paths", "allow_client_artifact_paths: false", "allow_client_artifact_paths: true", ["production_service_boundary"]],
    ["unbounded requests", "max_request_bytes: 1048576", "max_request_bytes: 0", ["production_service_boundary"]],
    ["compat status", "http_verdict_status: strict", "http_verdict_status: compat", ["production_service_boundary"]],
    ["no policy", "policy: .gait/policy.yaml", 'policy: ""', ["production_context_strictness", "production_self_test"]],
    ["no signing key", "private_key: .gait/keys/gait_private.key", 'private_key: ""', ["key_config", "production_signing_key"]]
  ]
  for (const [name, from, to, expected] of flips) {
    it.effect(`flips to fail when one key changes: ${name}`, () =>
      Effect.gen(function* () {
        const dir = yield* hardened()
        setConfig(dir, from, to)
        const r = yield* doctor(dir)
        expect(failing(r)).toEqual(expected)
        expect(r.status).toBe("fail")
      })
    )
  }

  it.effect("the self-test fails for a policy that lets a destructive delete through", () =>
    Effect.gen(function* () {
      const dir = yield* hardened()
      writeFileSync(path.join(dir, ".gait", "policy.yaml"), "default_verdict: allow\n")
      const r = yield* doctor(dir)
      expect(failing(r)).toEqual(["production_self_test"])
      expect(r.checks.find((c) => c.name === "production_self_test")?.message).toContain("verdict=allow")
    })
  )

  it.effect("a group-writable key file is reported with the chmod fix", () =>
    Effect.gen(function* () {
      const dir = yield* hardened()
      const key = path.join(dir, ".gait", "keys", "gait_private.key")
      chmodSync(key, 0o620)
      const r = yield* doctor(dir)
      const check = r.checks.find((c) => c.name === "key_permissions")
      expect(check?.status).toBe("warn")
      expect(check?.fix_command).toBe(`chmod go-w '${key}'`)
    })
  )

  it.effect("a config that is not YAML is the only production check reported", () =>
    Effect.gen(function* () {
      const dir = yield* hardened()
      writeFileSync(path.join(dir, ".gait", "config.yaml"), "gate: [unclosed\n")
      const r = yield* doctor(dir)
      expect(r.checks.filter((c) => c.scope === "production_readiness").map((c) => c.name)).toEqual(["production_readiness_config"])
      expect(r.checks.find((c) => c.name === "production_readiness_config")?.message).toMatch(/^failed to parse \.gait\/config\.yaml: .*:1:/)
    })
  )
})
