import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Effect, Exit, Layer } from "effect"
import { CorrelationId } from "../cli/correlation.js"
import * as CliExit from "../cli/exit.js"
import { runCli } from "../cli/main.js"
import * as Gate from "../gate/gate.js"
import { correlationIdOf } from "../kernel/ids.js"

const args = process.argv.slice(2)
const services = Layer.mergeAll(Gate.layer, CliExit.layer, Layer.succeed(CorrelationId, correlationIdOf(["gait", ...args]))).pipe(
  Layer.provideMerge(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer))
)

NodeRuntime.runMain(runCli(args).pipe(Effect.provide(services)), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : Exit.isInterrupted(exit) ? 130 : 1)
})
