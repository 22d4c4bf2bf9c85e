/**
 * Child process for the lock contention gate: takes the real file `SessionLock` on a journal and
 * holds it. Bundled with esbuild by the test, then run as `node <bundle> <journal> <holdMs>`.
 * Prints `{"held":true,"pid":…}` once the lock file is in place and `{"released":true}` after the
 * release; `holdMs` 0 holds until stdin closes (or the process is killed, leaving the lock behind).
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Deferred, Effect } from "effect"
import { layerFile, SessionLock } from "../../src/session/lock.js"

const [journal, holdText] = process.argv.slice(2)
if (journal === undefined) throw new Error("usage: lock-holder <journal> <holdMs>")
const holdMs = Number(holdText ?? "0")

const say = (value: unknown) => Effect.sync(() => process.stdout.write(`${JSON.stringify(value)}\n`))

const program = Effect.gen(function* () {
  const lock = yield* SessionLock
  const stdinClosed = yield* Deferred.make<void>()
  process.stdin.on("end", () => Deferred.unsafeDone(stdinClosed, Effect.void))
  process.stdin.resume()
  yield* lock.withLock(journal, () =>
    Effect.zipRight(say({ held: true, pid: process.pid }), holdMs > 0 ? Effect.sleep(holdMs) : Deferred.await(stdinClosed))
  )
  yield* say({ released: true })
})

Effect.runFork(
  program.pipe(
    Effect.provide(layerFile),
    Effect.provide(NodeFileSystem.layer),
    Effect.catchAll((e) => say({ error: e._tag })),
    Effect.ensuring(Effect.sync(() => process.exit(0)))
  )
)
