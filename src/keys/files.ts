/** Key files as `gait keys init` writes them: base64 + newline, 0600, never overwriting an existing key. */
import { Effect } from "effect"
import * as NodePath from "node:path"
import { ArtifactWriteFailed } from "../kernel/errors.js"
import { ensureDirectory, writeFileAtomic } from "../kernel/files.js"
import { encodeBase64, generateKeyPair, privateKeyBytes } from "../kernel/signing.js"

export const writeKeyPair = Effect.fn("Keys.writeKeyPair")(function* (outDir: string, prefix: string) {
  const pair = generateKeyPair()
  const privatePath = NodePath.join(outDir, `${prefix}_private.key`)
  const publicPath = NodePath.join(outDir, `${prefix}_public.key`)
  yield* ensureDirectory(outDir)
  for (const [path, content] of [
    [privatePath, `${encodeBase64(privateKeyBytes(pair))}\n`],
    [publicPath, `${encodeBase64(pair.publicKey)}\n`]
  ] as const) {
    const created = yield* writeFileAtomic(path, content, { mode: 0o600, ifExists: "create" })
    if (created === "exists") {
      return yield* new ArtifactWriteFailed({ path, stage: "link", detail: "file exists; refusing to overwrite a key" })
    }
  }
  return { privatePath, publicPath, publicKey: encodeBase64(pair.publicKey), keyId: pair.keyId }
})
