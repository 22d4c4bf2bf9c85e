/**
 * The CLI composition of src/bin/gait.ts behind a function, for two start-up experiments:
 * - run plainly, it only loads (module evaluation of the same code as dist/gait.cjs) and exits,
 *   which measures the cost of loading the bundle without running a command;
 * - under `node --build-snapshot`, it registers `main` as the snapshot's entry, so
 *   `node --snapshot-blob gait.blob gate eval …` starts from a heap where every module is initialized.
 */
import { startupSnapshot } from "node:v8"
import { runProcess } from "../src/cli/entry.js"

const main = (args: ReadonlyArray<string>): void => runProcess(args)

// A deserialized snapshot's process.argv is [node, ...user args] (no script path).
if (startupSnapshot.isBuildingSnapshot()) startupSnapshot.setDeserializeMainFunction(() => main(process.argv.slice(1)))
