import { runProcess } from "../cli/entry.js"

runProcess(process.argv.slice(2))
