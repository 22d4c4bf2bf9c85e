/** Command normalisation shared by both telemetry logs (ops.md §5.1) and the milestone table (§5.3). */
import { describe, expect, it } from "vitest"
import { milestoneOf, normalizeAdoptionCommand } from "../../src/telemetry/command.js"

describe("normalizeAdoptionCommand", () => {
  it.each([
    [[], "version"],
    [[""], "unknown"],
    ["  ", "unknown"],
    [["--help"], "help"],
    [["-h"], "help"],
    [["help", "gate"], "help"],
    [["--version"], "version"],
    [["-v"], "version"],
    [["version", "--json"], "version"],
    [["--explain"], "explain"],
    [["doctor", "--json"], "doctor"],
    [["doctor", "adoption", "--from", "x.jsonl"], "doctor adoption"],
    [["gate", "eval", "--policy", "p.yaml"], "gate eval"],
    [["run", "session", "start"], "run session"],
    [["regress", "run", "--help"], "regress run"],
    [["policy", "test"], "policy test"],
    [["policy", ""], "policy"],
    [["policy", "  "], "policy"],
    [["mcp", "-x"], "mcp"],
    [[" keys ", " init "], "keys init"],
    [["verify", "session-chain"], "verify"],
    [["demo", "extra"], "demo"],
    [["mcp-verify", "x"], "mcp-verify"],
    [["unknown-command", "arg"], "unknown-command"],
    [["constructor"], "constructor"],
    [["toString", "x"], "toString"]
  ] as ReadonlyArray<[ReadonlyArray<string> | string, string]>)("%j → %s", (args, expected) => {
    expect(normalizeAdoptionCommand(typeof args === "string" ? [args] : args)).toBe(expected)
  })
})

describe("milestoneOf", () => {
  it("maps the four activation commands and nothing else", () => {
    expect(["demo", "verify", "regress init", "regress run", "regress bootstrap", "version", "constructor"].map(milestoneOf)).toStrictEqual([
      "A1",
      "A2",
      "A3",
      "A4",
      undefined,
      undefined,
      undefined
    ])
  })
})
