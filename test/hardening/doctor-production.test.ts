/**
 * Acceptance gate 6, production readiness end to end (ops.md §2, the hardening contract's release
 * gate): with the real CLI, a project written by `gait init --production` passes
 * `gait doctor --production-readiness --json` (exit 0, every check pass); breaking any one posture
 * item makes it fail with exit 2 and names exactly the checks that broke, in JSON and in text.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { tempDir } from "../helpers/cli.js"
import { spawnGait } from "./procs.js"

const dirs: Array<string> = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const DOCTOR = ["doctor", "--production-readiness", "--json"]

interface Check {
  readonly name: string
  readonly status: "pass" | "warn" | "fail"
  readonly scope: string
  readonly message: string
  readonly fix_command?: string
}

/** A fresh project in the production posture, written by the real CLI. */
const productionProject = async (): Promise<string> => {
  const dir = tempDir("gait-acc-doctor-")
  dirs.push(dir)
  const init = await spawnGait(["init", "--production", "--json"], { cwd: dir })
  expect(init.code, init.stdout + init.stderr).toBe(0)
  expect(init.json()).toMatchObject({ ok: true, config_path: ".gait/config.yaml", next_commands: ["gait doctor --production-readiness --json"] })
  mkdirSync(path.join(dir, "gait-out"), { recursive: true })
  return dir
}

const editConfig = (from: string, to: string) => (dir: string) => {
  const file = path.join(dir, ".gait", "config.yaml")
  const text = readFileSync(file, "utf8")
  if (!text.includes(from)) throw new Error(`config has no ${JSON.stringify(from)}:\n${text}`)
  writeFileSync(file, text.replace(from, to))
}

const ALLOW_EVERYTHING = "schema_id: gait.gate.policy\nschema_version: 1.0.0\ndefault_verdict: allow\nrules: []\n"

/** One posture item broken per case, and exactly the checks that must then fail. */
const BREAKS: ReadonlyArray<readonly [string, (dir: string) => void, ReadonlyArray<string>]> = [
  ["gate.profile standard", editConfig("profile: oss-prod", "profile: standard"), ["production_profile", "production_context_strictness"]],
  ["gate.key_mode dev", editConfig("key_mode: prod", "key_mode: dev"), ["production_key_mode"]],
  ["retention TTL not a Go duration", editConfig("trace_ttl: 168h", "trace_ttl: 7d"), ["production_retention"]],
  ["retention TTL missing", editConfig("export_ttl: 168h", 'export_ttl: ""'), ["production_retention"]],
  ["public listener without token auth", editConfig("listen: 127.0.0.1:8787\n  auth_mode: token", "listen: 0.0.0.0:8787\n  auth_mode: off"), ["production_service_boundary"]],
  ["token auth without a token env var", editConfig("auth_token_env: GAIT_MCP_TOKEN", 'auth_token_env: ""'), ["production_service_boundary"]],
  ["client artifact paths allowed", editConfig("allow_client_artifact_paths: false", "allow_client_artifact_paths: true"), ["production_service_boundary"]],
  ["unbounded request size", editConfig("max_request_bytes: 1048576", "max_request_bytes: 0"), ["production_service_boundary"]],
  ["request size above 4 MiB", editConfig("max_request_bytes: 1048576", "max_request_bytes: 8388608"), ["production_service_boundary"]],
  ["compat verdict status", editConfig("http_verdict_status: strict", "http_verdict_status: compat"), ["production_service_boundary"]],
  ["no gate policy", editConfig("policy: .gait/policy.yaml", 'policy: ""'), ["production_context_strictness", "production_self_test"]],
  ["no signing key configured", editConfig("private_key: .gait/keys/gait_private.key", 'private_key: ""'), ["key_config", "production_signing_key"]],
  ["signing key file corrupted", (dir) => writeFileSync(path.join(dir, ".gait", "keys", "gait_private.key"), "not a key\n"), ["key_config", "production_signing_key"]],
  ["policy lets a destructive delete through", (dir) => writeFileSync(path.join(dir, ".gait", "policy.yaml"), ALLOW_EVERYTHING), ["production_self_test"]],
  ["config missing", (dir) => unlinkSync(path.join(dir, ".gait", "config.yaml")), ["production_readiness_config", "production_profile", "production_key_mode", "production_retention", "production_context_strictness", "production_signing_key", "production_self_test"]],
  ["config not YAML", (dir) => writeFileSync(path.join(dir, ".gait", "config.yaml"), "gate: [unclosed\n"), ["production_readiness_config"]],
  ["output directory is a file", (dir) => {
    rmSync(path.join(dir, "gait-out"), { recursive: true })
    writeFileSync(path.join(dir, "gait-out"), "")
  }, ["output_dir"]]
]

describe("gait doctor --production-readiness, end to end", () => {
  it("a project written by `gait init --production` passes: exit 0, ok, every check pass", async () => {
    const dir = await productionProject()
    const r = await spawnGait(DOCTOR, { cwd: dir })
    expect(r.code, r.stdout).toBe(0)
    const body = r.json()
    expect(body).toMatchObject({ ok: true, status: "pass", schema_id: "gait.doctor.result" })
    const checks = body.checks as ReadonlyArray<Check>
    expect(checks.filter((c) => c.status !== "pass"), "checks not passing").toEqual([])
    for (const name of ["production_readiness_config", "production_profile", "production_key_mode", "production_retention", "production_service_boundary", "production_context_strictness"]) {
      expect(checks.map((c) => c.name)).toContain(name)
    }
    expect(String(body.summary)).toContain("status=pass failed=0")
  })

  it(`each of ${BREAKS.length} broken posture items: exit 2, status fail, exactly the broken checks named`, async () => {
    const results = await Promise.all(
      BREAKS.map(async ([label, breakIt, expected]) => {
        const dir = await productionProject()
        breakIt(dir)
        return { label, expected, dir, r: await spawnGait(DOCTOR, { cwd: dir }) }
      })
    )
    for (const { label, expected, r } of results) {
      expect(r.code, `${label}: ${r.stdout}`).toBe(2)
      const body = r.json()
      expect(body.ok, label).toBe(false)
      expect(body.status, label).toBe("fail")
      const failing = (body.checks as ReadonlyArray<Check>).filter((c) => c.status === "fail")
      expect(failing.map((c) => c.name).sort(), label).toEqual([...expected].sort())
      for (const c of failing) expect(c.message.trim(), `${label}: ${c.name} says why`).not.toBe("")
      expect(String(body.summary), label).toContain(`status=fail failed=${expected.length} `)
    }
  })

  it("text mode names the failing check with its fix, and exits 2 as well", async () => {
    const dir = await productionProject()
    editConfig("http_verdict_status: strict", "http_verdict_status: compat")(dir)
    const r = await spawnGait(["doctor", "--production-readiness"], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stdout).toContain("- production_service_boundary: fail (mcp_serve.http_verdict_status must be strict in production)")
    expect(r.stdout).toContain("  fix: set mcp_serve.http_verdict_status=strict in '.gait/config.yaml'")
  })

  it("a group-writable signing key is reported, and restoring 0600 passes again", async () => {
    const dir = await productionProject()
    const key = path.join(dir, ".gait", "keys", "gait_private.key")
    chmodSync(key, 0o664)
    const loose = await spawnGait(DOCTOR, { cwd: dir })
    const check = (loose.json().checks as ReadonlyArray<Check>).find((c) => c.name === "key_permissions")
    expect(check?.status).not.toBe("pass")
    expect(check?.fix_command).toBe(`chmod go-w '${path.join(".gait", "keys", "gait_private.key")}'`)
    chmodSync(key, 0o600)
    expect((await spawnGait(DOCTOR, { cwd: dir })).code).toBe(0)
  })
})
