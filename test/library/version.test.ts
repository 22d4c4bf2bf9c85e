import { expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { VERSION } from "../../src/version.js"

it("VERSION equals package.json's version", () => {
  const pkg = JSON.parse(readFileSync(path.resolve(__dirname, "..", "..", "package.json"), "utf8")) as { version: string }
  expect(VERSION).toBe(pkg.version)
})
