/**
 * Start-up probe: how long loading a CommonJS bundle takes in a fresh process, split into reading
 * the file, compiling the top-level script, and evaluating it (module initialization plus the lazy
 * compilation of every function it calls). With a cache file argument, the compile uses (or, when
 * absent, produces) a V8 code cache. Prints one JSON line once the bundle's top level has run (a
 * bundle that keeps working asynchronously prints after it).
 * Usage: node load-probe.cjs <bundle.cjs> [cache-file]
 */
import { readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import * as NodePath from "node:path"
import { performance } from "node:perf_hooks"
import { Script } from "node:vm"

const startedMs = performance.now()
const target = NodePath.resolve(process.argv[2] ?? "")
const cacheFile = process.argv[3]

const t0 = process.hrtime.bigint()
let source = readFileSync(target, "utf8")
if (source.startsWith("#!")) source = `//${source.slice(2)}`
let cachedData: Buffer | undefined
if (cacheFile !== undefined) {
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
}
const t1 = process.hrtime.bigint()
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: target,
  ...(cachedData === undefined ? {} : { cachedData })
})
const t2 = process.hrtime.bigint()
type ModuleWrapper = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void
const mod = { exports: {} }
;(script.runInThisContext() as ModuleWrapper)(mod.exports, createRequire(target), mod, target, NodePath.dirname(target))
const t3 = process.hrtime.bigint()
// Written at exit, so the cache also holds the functions compiled lazily after evaluation.
if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
  process.once("exit", () => writeFileSync(cacheFile, script.createCachedData()))
}
const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6
process.stdout.write(
  `${JSON.stringify({
    beforeProbeMs: startedMs,
    readMs: ms(t0, t1),
    compileMs: ms(t1, t2),
    evaluateMs: ms(t2, t3),
    cache: cacheFile === undefined ? "none" : cachedData === undefined ? "produced" : script.cachedDataRejected === true ? "rejected" : "accepted",
    heapUsedMb: process.memoryUsage().heapUsed / 1048576
  })}\n`
)
