import { describe, expect, it } from "@effect/vitest"
import {
  checkpointRelationship,
  eventRelationship,
  normalizeRelationship,
  selectEventActor,
  timelineRelationship
} from "../../src/session/relationship.js"

const b64 = "b".repeat(64)

describe("normalizeRelationship (§2.7)", () => {
  it("collapses an envelope whose parts are all invalid (TestNormalizeRunpackRelationshipEnvelopeDropsInvalidEntries)", () => {
    expect(
      normalizeRelationship({
        parent_ref: { kind: "invalid", id: "root" },
        entity_refs: [{ kind: "invalid", id: "x" }],
        agent_chain: [{ identity: "agent.demo", role: "approver" }],
        edges: [
          { kind: "invalid", from: { kind: "tool", id: "tool.write" }, to: { kind: "policy", id: "f".repeat(64) } }
        ]
      })
    ).toBeUndefined()
    expect(normalizeRelationship(undefined)).toBeUndefined()
    expect(normalizeRelationship(null)).toBeUndefined()
    expect(normalizeRelationship({})).toBeUndefined()
    expect(normalizeRelationship({ entity_refs: [], related_record_ids: ["  "], parent_record_id: " " })).toBeUndefined()
  })

  it("trims, lowercases kinds, deduplicates and sorts every list", () => {
    const r = normalizeRelationship({
      parent_ref: { kind: " Session ", id: " sess_1 " },
      entity_refs: [
        { kind: "TOOL", id: " tool.b " },
        { kind: "tool", id: "tool.a" },
        { kind: "tool", id: "tool.b" },
        { kind: "evidence", id: "zz" },
        { kind: "session", id: "not-an-entity-kind" },
        { kind: "run", id: "   " }
      ],
      agent_chain: [
        { identity: " agent.b ", role: "Requester" },
        { identity: "agent.a", role: "requester" },
        { identity: "agent.z", role: "delegate" },
        { identity: "agent.b", role: "requester" },
        { identity: "", role: "delegate" }
      ],
      edges: [
        { kind: "Governed_By", from: { kind: "tool", id: "t" }, to: { kind: "policy", id: "p" } },
        { kind: "calls", from: { kind: "agent", id: "a" }, to: { kind: "tool", id: "t" } },
        { kind: "governed_by", from: { kind: "TOOL", id: " t " }, to: { kind: "policy", id: "p" } },
        { kind: "calls", from: { kind: "agent", id: "" }, to: { kind: "tool", id: "t" } }
      ],
      related_record_ids: ["r2", " r1 ", "r2", ""]
    })
    expect(r).toEqual({
      parent_ref: { kind: "session", id: "sess_1" },
      entity_refs: [
        { kind: "evidence", id: "zz" },
        { kind: "tool", id: "tool.a" },
        { kind: "tool", id: "tool.b" }
      ],
      agent_chain: [
        { identity: "agent.z", role: "delegate" },
        { identity: "agent.a", role: "requester" },
        { identity: "agent.b", role: "requester" }
      ],
      edges: [
        { kind: "calls", from: { kind: "agent", id: "a" }, to: { kind: "tool", id: "t" } },
        { kind: "governed_by", from: { kind: "tool", id: "t" }, to: { kind: "policy", id: "p" } }
      ],
      related_record_ids: ["r1", "r2"],
      related_entity_ids: ["tool.a", "tool.b", "zz"]
    })
  })

  it("keeps explicit related_entity_ids, derives them only when empty", () => {
    const refs = [{ kind: "run", id: "run_1" }]
    expect(normalizeRelationship({ entity_refs: refs, related_entity_ids: ["x", "x", " a "] })?.related_entity_ids).toEqual([
      "a",
      "x"
    ])
    expect(normalizeRelationship({ entity_refs: refs, related_entity_ids: [" "] })?.related_entity_ids).toEqual(["run_1"])
  })

  it("normalises the policy ref and drops it when all four parts are empty", () => {
    expect(
      normalizeRelationship({
        policy_ref: { policy_id: " p ", policy_version: "", policy_digest: " ABCD ", matched_rule_ids: ["b", "a", "b", " "] }
      })
    ).toEqual({ policy_ref: { policy_id: "p", policy_digest: "abcd", matched_rule_ids: ["a", "b"] } })
    expect(normalizeRelationship({ policy_ref: { policy_id: " ", matched_rule_ids: [""] } })).toBeUndefined()
  })

  it("drops a parent ref whose kind is outside the parent vocabulary (tool is not a parent kind)", () => {
    expect(normalizeRelationship({ parent_ref: { kind: "tool", id: "x" }, parent_record_id: "p" })).toEqual({
      parent_record_id: "p"
    })
  })
})

describe("selectEventActor (TestSelectRunpackEventActor)", () => {
  it("an explicit actor wins", () => {
    expect(
      selectEventActor("agent.explicit", [
        { identity: "agent.delegate", role: "delegate" },
        { identity: "agent.requester", role: "requester" }
      ])
    ).toBe("agent.explicit")
  })

  it("prefers delegate, then requester, then delegator; first in input order", () => {
    expect(
      selectEventActor("", [
        { identity: "agent.requester", role: "requester" },
        { identity: "agent.delegator", role: "delegator" },
        { identity: "agent.delegate", role: "delegate" }
      ])
    ).toBe("agent.delegate")
    expect(
      selectEventActor(undefined, [
        { identity: "agent.delegator", role: "delegator" },
        { identity: "agent.r1", role: "requester" },
        { identity: "agent.r2", role: "requester" }
      ])
    ).toBe("agent.r1")
  })

  it("returns empty for an unusable chain", () => {
    expect(
      selectEventActor("", [
        { identity: "", role: "delegate" },
        { identity: "agent.invalid", role: "approver" }
      ])
    ).toBe("")
    expect(selectEventActor(" ", undefined)).toBe("")
  })
})

describe("relationship builders (TestSessionRelationshipBuildersNormalizeAndSort)", () => {
  it("event: session parent, policy lineage, sorted rules and chain, calls edge from the explicit actor", () => {
    const r = eventRelationship({
      sessionId: "sess_demo",
      runId: "run_demo",
      toolName: "tool.write",
      traceId: "trace_demo",
      policyId: "gait.gate.policy",
      policyVersion: "1.0.0",
      policyDigest: b64,
      matchedRuleIds: ["rule_b", "rule_a", "rule_a"],
      actorIdentity: "agent.exec",
      agentChain: [
        { identity: "agent.b", role: "requester" },
        { identity: "agent.a", role: "requester" },
        { identity: "agent.ignore", role: "approver" }
      ]
    })
    expect(r).toEqual({
      parent_ref: { kind: "session", id: "sess_demo" },
      entity_refs: [
        { kind: "policy", id: b64 },
        { kind: "run", id: "run_demo" },
        { kind: "tool", id: "tool.write" },
        { kind: "trace", id: "trace_demo" }
      ],
      policy_ref: {
        policy_id: "gait.gate.policy",
        policy_version: "1.0.0",
        policy_digest: b64,
        matched_rule_ids: ["rule_a", "rule_b"]
      },
      agent_chain: [
        { identity: "agent.a", role: "requester" },
        { identity: "agent.b", role: "requester" }
      ],
      edges: [
        { kind: "calls", from: { kind: "agent", id: "agent.exec" }, to: { kind: "tool", id: "tool.write" } },
        { kind: "governed_by", from: { kind: "tool", id: "tool.write" }, to: { kind: "policy", id: b64 } }
      ],
      parent_record_id: "sess_demo",
      related_entity_ids: [b64, "run_demo", "tool.write", "trace_demo"]
    })
  })

  it("event: the CLI example of §2.2.3 (tool only, no policy, no actor)", () => {
    expect(eventRelationship({ sessionId: "sess_demo", runId: "run_demo", toolName: "tool.write" })).toEqual({
      parent_ref: { kind: "session", id: "sess_demo" },
      entity_refs: [
        { kind: "run", id: "run_demo" },
        { kind: "tool", id: "tool.write" }
      ],
      parent_record_id: "sess_demo",
      related_entity_ids: ["run_demo", "tool.write"]
    })
  })

  it("event: the actor comes from the agent chain when none is explicit; no tool means no edges", () => {
    const withChain = eventRelationship({
      sessionId: "s",
      runId: "r",
      toolName: "t",
      agentChain: [
        { identity: "agent.req", role: "requester" },
        { identity: "agent.del", role: "delegate" }
      ]
    })
    expect(withChain?.edges).toEqual([{ kind: "calls", from: { kind: "agent", id: "agent.del" }, to: { kind: "tool", id: "t" } }])
    const noTool = eventRelationship({ sessionId: "s", runId: "r", policyDigest: b64, actorIdentity: "a" })
    expect(noTool?.edges).toBeUndefined()
    expect(noTool?.policy_ref).toEqual({ policy_digest: b64 })
  })

  it("checkpoint: session parent, evidence refs first, derived_from edge", () => {
    const c = "c".repeat(64)
    const d = "d".repeat(64)
    const r = checkpointRelationship({
      sessionId: "sess_demo",
      runId: "run_demo",
      checkpointRunId: "run_demo_cp_0001",
      checkpointDigest: c,
      manifestDigest: d
    })
    expect(r).toEqual({
      parent_ref: { kind: "session", id: "sess_demo" },
      entity_refs: [
        { kind: "evidence", id: c },
        { kind: "evidence", id: d },
        { kind: "run", id: "run_demo" },
        { kind: "run", id: "run_demo_cp_0001" }
      ],
      edges: [{ kind: "derived_from", from: { kind: "evidence", id: c }, to: { kind: "run", id: "run_demo_cp_0001" } }],
      parent_record_id: "sess_demo",
      related_entity_ids: [c, d, "run_demo", "run_demo_cp_0001"]
    })
  })

  it("timeline: run parent with derived_from and governed_by edges for a session event", () => {
    const e = "e".repeat(64)
    const r = timelineRelationship({
      event: "session_event",
      runId: "run_demo_cp_0001",
      refId: "sess_demo",
      traceId: "trace_demo",
      toolName: "tool.write",
      policyDigest: e
    })
    expect(r?.parent_ref).toEqual({ kind: "run", id: "run_demo_cp_0001" })
    expect(r?.entity_refs).toEqual([
      { kind: "evidence", id: "sess_demo" },
      { kind: "policy", id: e },
      { kind: "tool", id: "tool.write" },
      { kind: "trace", id: "trace_demo" }
    ])
    expect(r?.edges).toEqual([
      { kind: "derived_from", from: { kind: "trace", id: "trace_demo" }, to: { kind: "run", id: "run_demo_cp_0001" } },
      { kind: "governed_by", from: { kind: "tool", id: "tool.write" }, to: { kind: "policy", id: e } }
    ])
    expect(r?.parent_record_id).toBeUndefined()
  })

  it("timeline: the emitted entry has an emits_evidence edge to checkpoint:1", () => {
    expect(timelineRelationship({ event: "session_checkpoint_emitted", runId: "run_demo_cp_0001", refId: "checkpoint:1" })).toEqual({
      parent_ref: { kind: "run", id: "run_demo_cp_0001" },
      entity_refs: [{ kind: "evidence", id: "checkpoint:1" }],
      edges: [
        {
          kind: "emits_evidence",
          from: { kind: "run", id: "run_demo_cp_0001" },
          to: { kind: "evidence", id: "checkpoint:1" }
        }
      ],
      related_entity_ids: ["checkpoint:1"]
    })
  })
})
