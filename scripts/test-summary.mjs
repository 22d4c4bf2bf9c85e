// Prints the plain closing line CI reads ("N passed, N failed, N skipped") from vitest JSON reports.
import { readFileSync } from "node:fs"

const reports = process.argv.slice(2).map((file) => JSON.parse(readFileSync(file, "utf8")))
const sum = (key) => reports.reduce((n, r) => n + r[key], 0)
const failed = sum("numFailedTests")
console.log(`${sum("numPassedTests")} passed, ${failed} failed, ${sum("numPendingTests") + sum("numTodoTests")} skipped`)
process.exit(failed === 0 && sum("numTotalTests") > 0 ? 0 : 1)
