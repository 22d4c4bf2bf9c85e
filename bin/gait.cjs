#!/usr/bin/env node
// Entry point of the `gait` CLI. Runs the single-file bundle (dist/gait.cjs) through V8's code cache
// (dist/gait.cjs.v8cache, produced by `scripts/build.mjs` from a training run), which removes most of
// the parse/compile cost of start-up. A missing or stale cache (other Node version, rebuilt bundle)
// is rejected by V8 and the bundle is simply compiled as usual.
"use strict"
const fs = require("node:fs")
const path = require("node:path")
const vm = require("node:vm")
const Module = require("node:module")

const bundle = path.join(__dirname, "..", "dist", "gait.cjs")
const cachePath = `${bundle}.v8cache`
let cachedData
try {
  cachedData = fs.readFileSync(cachePath)
} catch {
  cachedData = undefined
}
const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, "utf8")), {
  filename: bundle,
  ...(cachedData === undefined ? {} : { cachedData })
})
// Build-time only: write the cache after a representative run, once lazily compiled functions exist.
const trainingOutput = process.env.GAIT_CODE_CACHE_OUT
if (trainingOutput) process.once("exit", () => fs.writeFileSync(trainingOutput, script.createCachedData()))
const bundleModule = new Module(bundle, module)
bundleModule.filename = bundle
bundleModule.paths = Module._nodeModulePaths(path.dirname(bundle))
script.runInThisContext()(
  bundleModule.exports,
  Module.createRequire(bundle),
  bundleModule,
  bundle,
  path.dirname(bundle)
)
