/** The exit code a command asks for when it succeeds (verdict codes 3 and 4 are not failures). */
import { Context, Effect, Layer, Ref } from "effect"

export class CliExit extends Context.Tag("gait/CliExit")<CliExit, Ref.Ref<number>>() {}

export const layer = Layer.effect(CliExit, Ref.make(0))

export const setExitCode = (code: number) => Effect.flatMap(CliExit, (ref) => Ref.set(ref, code))

/**
 * How an interrupt (SIGINT/SIGTERM) ends the process. A one-shot command that is interrupted exits
 * 130; a server that shuts down on a signal has done its job and exits 0. The server sets this when
 * it starts listening (process-wide state: the signal handling of the runtime is process-wide too).
 */
export const interruptPolicy = { exitCode: 130 }
