import { sha256Hex } from "../kernel/digest.js"

/** §2.4: sha256 of `"<manifest>:<prev>:<index>:<start>:<end>"` (prev is "" for the first checkpoint). */
export const checkpointDigestOf = (c: {
  readonly manifest_digest: string
  readonly prev_checkpoint_digest?: string | undefined
  readonly checkpoint_index: number
  readonly sequence_start: number
  readonly sequence_end: number
}): string =>
  sha256Hex(
    `${c.manifest_digest}:${c.prev_checkpoint_digest ?? ""}:${c.checkpoint_index}:${c.sequence_start}:${c.sequence_end}`
  )
