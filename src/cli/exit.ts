/** The exit code a command asks for when it succeeds (verdict codes 3 and 4 are not failures). */
import { Context, Effect, Layer, Ref } from "effect"

export class CliExit extends Context.Tag("gait/CliExit")<CliExit, Ref.Ref<number>>() {}

export const layer = Layer.effect(CliExit, Ref.make(0))

export const setExitCode = (code: number) => Effect.flatMap(CliExit, (ref) => Ref.set(ref, code))
