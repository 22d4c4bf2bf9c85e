/** Composes the CLI's layers and runs it as the process: exit code from the outcome, 130 on interrupt. */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Effect, Exit, Layer } from "effect"
import { correlationIdOf } from "../kernel/ids.js"
import { Telemetry, layerFromEnv as telemetryFromEnv } from "../telemetry/telemetry.js"
import { CorrelationId } from "./correlation.js"
import * as CliExit from "./exit.js"
import { runCli } from "./main.js"

/** The process exit code of an outcome: the code the CLI chose, 130 on interrupt, 1 on a defect. */
const exitCodeOf = (exit: Exit.Exit<unknown, unknown>): number =>
  Exit.isSuccess(exit) && typeof exit.value === "number"
    ? exit.value
    : Exit.isInterrupted(exit)
      ? CliExit.interruptPolicy.exitCode
      : 1

export const runProcess = (args: ReadonlyArray<string>): void => {
  const correlationId = correlationIdOf(["gait", ...args])
  const services = Layer.mergeAll(
    CliExit.layer,
    Layer.succeed(CorrelationId, correlationId),
    telemetryFromEnv
  ).pipe(Layer.provideMerge(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)))
  // The end event carries the code the process exits with; telemetry never changes it.
  const program = Effect.flatMap(Telemetry, (telemetry) =>
    Effect.flatMap(telemetry.start({ args, correlationId }), (run) =>
      runCli(args).pipe(Effect.onExit((exit) => run.finish(exitCodeOf(exit))))
    )
  )
  NodeRuntime.runMain(program.pipe(Effect.provide(services)), {
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) => onExit(exitCodeOf(exit))
  })
}
