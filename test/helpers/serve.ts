/** Starts `gait mcp serve` on 127.0.0.1:0 and resolves its base URL from the JSON startup line. */
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"
import { EXAMPLES, GAIT_BIN } from "./cli.js"

export const startServer = (cwd: string, args: ReadonlyArray<string>, servers: Array<ChildProcess>) =>
  new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [GAIT_BIN, "mcp", "serve", "--policy", path.join(EXAMPLES, "policy.yaml"), "--listen", "127.0.0.1:0", "--json", ...args],
      { cwd, stdio: ["ignore", "pipe", "inherit"] }
    )
    servers.push(child)
    let out = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8")
      const line = out.split("\n")[0]
      if (out.includes("\n") && line !== undefined) resolve(`http://${(JSON.parse(line) as { listen: string }).listen}`)
    })
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)))
  })
