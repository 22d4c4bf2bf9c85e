/**
 * Client-chosen artifact paths, when the operator allows them at all, stay inside the directory the
 * server was configured with: the path is resolved against that root, must not climb out of it
 * lexically (`..`) or through a symbolic link (the real path of its nearest existing ancestor must be
 * inside the root's real path), and an existing symbolic link at the target itself is refused.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect, Either } from "effect"
import * as NodePath from "node:path"
import { RequestRejected } from "./errors.js"

const inside = (root: string, candidate: string): boolean => {
  const rel = NodePath.relative(root, candidate)
  return rel !== "" && !rel.startsWith("..") && !NodePath.isAbsolute(rel)
}

export const confinePath = (field: string, root: string, requested: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const reject = (why: string) => new RequestRejected({ status: 400, detail: `request.${field} ${why}` })
    const text = requested.trim()
    if (text === "" || text.includes("\u0000")) return yield* reject("is not a usable path")
    const rootAbs = NodePath.resolve(root)
    const candidate = NodePath.resolve(rootAbs, text)
    if (!inside(rootAbs, candidate)) return yield* reject(`must stay inside ${root}`)
    const rootReal = yield* fs.realPath(rootAbs).pipe(Effect.mapError(() => reject(`cannot be checked: ${root} is not accessible`)))
    // The nearest existing ancestor decides where the path really leads.
    let ancestor = NodePath.dirname(candidate)
    for (;;) {
      const exists = yield* fs.exists(ancestor).pipe(Effect.orElseSucceed(() => false))
      if (exists || ancestor === NodePath.dirname(ancestor)) break
      ancestor = NodePath.dirname(ancestor)
    }
    const ancestorReal = yield* fs.realPath(ancestor).pipe(Effect.mapError(() => reject("cannot be checked")))
    if (ancestorReal !== rootReal && !inside(rootReal, ancestorReal)) return yield* reject(`must stay inside ${root} (symbolic link)`)
    const link = yield* Effect.either(fs.readLink(candidate))
    if (Either.isRight(link)) return yield* reject("must not be a symbolic link")
    return candidate
  })
