/**
 * Relationship envelopes (spec session.md §2.7): normalisation shared by session events,
 * checkpoints and runpack timelines, and the builders of §2.2.3, §2.2.4 and §7.6.
 */
import { compareBytes, lowerTrim, trim, uniqueSorted } from "../kernel/text.js"
import type { Relationship } from "./schema.js"

export const PARENT_REF_KINDS = ["trace", "run", "session", "intent", "policy", "agent", "evidence"] as const
export const ENTITY_REF_KINDS = ["agent", "tool", "resource", "policy", "run", "trace", "delegation", "evidence"] as const
export const AGENT_ROLES = ["requester", "delegator", "delegate"] as const
export const EDGE_KINDS = ["delegates_to", "calls", "governed_by", "targets", "derived_from", "emits_evidence"] as const

export interface NodeRef {
  readonly kind: string
  readonly id: string
}

export interface AgentLink {
  readonly identity: string
  readonly role: string
}

export interface Edge {
  readonly kind: string
  readonly from: NodeRef
  readonly to: NodeRef
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const PARENT_KINDS: ReadonlySet<string> = new Set(PARENT_REF_KINDS)
const ENTITY_KINDS: ReadonlySet<string> = new Set(ENTITY_REF_KINDS)
const ROLES: ReadonlySet<string> = new Set(AGENT_ROLES)
const EDGES: ReadonlySet<string> = new Set(EDGE_KINDS)

const compareTuples = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): number => {
  for (let i = 0; i < a.length; i++) {
    const c = compareBytes(a[i] ?? "", b[i] ?? "")
    if (c !== 0) return c
  }
  return 0
}

/** Dedupe by `key` (first occurrence wins), then sort by the same tuple. */
const uniqueSortedBy = <A>(items: ReadonlyArray<A>, key: (a: A) => ReadonlyArray<string>): Array<A> => {
  const seen = new Map<string, { readonly item: A; readonly tuple: ReadonlyArray<string> }>()
  for (const item of items) {
    const tuple = key(item)
    const id = JSON.stringify(tuple)
    if (!seen.has(id)) seen.set(id, { item, tuple })
  }
  return [...seen.values()].sort((x, y) => compareTuples(x.tuple, y.tuple)).map((v) => v.item)
}

const nodeRef = (ref: NodeRef | undefined, kinds: ReadonlySet<string> | undefined): NodeRef | undefined => {
  if (ref === undefined) return undefined
  const kind = lowerTrim(ref.kind)
  const id = trim(ref.id)
  if (kind === "" || id === "" || (kinds !== undefined && !kinds.has(kind))) return undefined
  return { kind, id }
}

const entityRefs = (refs: ReadonlyArray<NodeRef> | undefined): Array<NodeRef> =>
  uniqueSortedBy(
    (refs ?? []).flatMap((r) => nodeRef(r, ENTITY_KINDS) ?? []),
    (r) => [r.kind, r.id]
  )

const agentChain = (links: ReadonlyArray<AgentLink> | undefined): Array<AgentLink> =>
  uniqueSortedBy(
    (links ?? []).flatMap((l) => {
      const identity = trim(l.identity)
      const role = lowerTrim(l.role)
      return identity === "" || !ROLES.has(role) ? [] : [{ identity, role }]
    }),
    (l) => [l.role, l.identity]
  )

// Edge end points are trimmed and must be non-empty; their kinds are not restricted to one
// vocabulary because the builders' own edges run from `tool`, which is not a parent kind.
const edges = (list: ReadonlyArray<Edge> | undefined): Array<Edge> =>
  uniqueSortedBy(
    (list ?? []).flatMap((e) => {
      const kind = lowerTrim(e.kind)
      const from = nodeRef(e.from, undefined)
      const to = nodeRef(e.to, undefined)
      return !EDGES.has(kind) || from === undefined || to === undefined ? [] : [{ kind, from, to }]
    }),
    (e) => [e.kind, e.from.kind, e.from.id, e.to.kind, e.to.id]
  )

type PolicyRef = NonNullable<Relationship["policy_ref"]>

const policyRef = (ref: PolicyRef | undefined): PolicyRef | undefined => {
  if (ref === undefined) return undefined
  const out: Mutable<PolicyRef> = {}
  const id = trim(ref.policy_id ?? "")
  const version = trim(ref.policy_version ?? "")
  const digest = lowerTrim(ref.policy_digest ?? "")
  const rules = uniqueSorted(ref.matched_rule_ids)
  if (id !== "") out.policy_id = id
  if (version !== "") out.policy_version = version
  if (digest !== "") out.policy_digest = digest
  if (rules.length > 0) out.matched_rule_ids = rules
  return Object.keys(out).length === 0 ? undefined : out
}

/**
 * Normalises an envelope (§2.7): vocabularies, trimming, dedupe and sort of every list, derived
 * `related_entity_ids`; `undefined` when nothing survives. `agent_lineage` has no normalisation rule
 * in the spec and is kept as given (it only counts towards emptiness).
 */
export const normalizeRelationship = (r: Relationship | null | undefined): Relationship | undefined => {
  if (r === null || r === undefined) return undefined
  const out: Mutable<Relationship> = {}
  const parent = nodeRef(r.parent_ref, PARENT_KINDS)
  const refs = entityRefs(r.entity_refs)
  const policy = policyRef(r.policy_ref)
  const chain = agentChain(r.agent_chain)
  const edgeList = edges(r.edges)
  const parentRecordId = trim(r.parent_record_id ?? "")
  const relatedRecordIds = uniqueSorted(r.related_record_ids)
  const explicitEntityIds = uniqueSorted(r.related_entity_ids)
  const relatedEntityIds = explicitEntityIds.length > 0 ? explicitEntityIds : uniqueSorted(refs.map((e) => e.id))
  if (parent !== undefined) out.parent_ref = parent
  if (refs.length > 0) out.entity_refs = refs
  if (policy !== undefined) out.policy_ref = policy
  if (chain.length > 0) out.agent_chain = chain
  if (edgeList.length > 0) out.edges = edgeList
  if (parentRecordId !== "") out.parent_record_id = parentRecordId
  if (relatedRecordIds.length > 0) out.related_record_ids = relatedRecordIds
  if (relatedEntityIds.length > 0) out.related_entity_ids = relatedEntityIds
  if (r.agent_lineage !== undefined && r.agent_lineage.length > 0) out.agent_lineage = r.agent_lineage
  return Object.keys(out).length === 0 ? undefined : out
}

const ROLE_PREFERENCE = ["delegate", "requester", "delegator"] as const

/**
 * The agent that `calls` the tool: the explicit actor, otherwise the first identity (in input
 * order) with the best role, delegate > requester > delegator; "" when there is none.
 */
export const selectEventActor = (actorIdentity: string | undefined, chain: ReadonlyArray<AgentLink> | undefined): string => {
  const explicit = trim(actorIdentity ?? "")
  if (explicit !== "") return explicit
  for (const role of ROLE_PREFERENCE) {
    const link = (chain ?? []).find((l) => lowerTrim(l.role) === role && trim(l.identity) !== "")
    if (link !== undefined) return trim(link.identity)
  }
  return ""
}

export interface EventRelationshipInput {
  readonly sessionId: string
  readonly runId: string
  readonly toolName?: string | undefined
  readonly traceId?: string | undefined
  readonly policyDigest?: string | undefined
  readonly policyId?: string | undefined
  readonly policyVersion?: string | undefined
  readonly matchedRuleIds?: ReadonlyArray<string> | undefined
  readonly agentChain?: ReadonlyArray<AgentLink> | undefined
  readonly actorIdentity?: string | undefined
}

/** §2.2.3: the envelope of a session event. */
export const eventRelationship = (input: EventRelationshipInput): Relationship | undefined => {
  const tool = trim(input.toolName ?? "")
  const policyDigest = lowerTrim(input.policyDigest ?? "")
  const actor = selectEventActor(input.actorIdentity, input.agentChain)
  const edgeList: Array<Edge> = []
  if (tool !== "" && policyDigest !== "") {
    edgeList.push({ kind: "governed_by", from: { kind: "tool", id: tool }, to: { kind: "policy", id: policyDigest } })
  }
  if (actor !== "" && tool !== "") {
    edgeList.push({ kind: "calls", from: { kind: "agent", id: actor }, to: { kind: "tool", id: tool } })
  }
  return normalizeRelationship({
    parent_ref: { kind: "session", id: input.sessionId },
    entity_refs: [
      { kind: "run", id: input.runId },
      { kind: "tool", id: tool },
      { kind: "trace", id: input.traceId ?? "" },
      { kind: "policy", id: policyDigest }
    ],
    policy_ref: {
      policy_id: input.policyId ?? "",
      policy_version: input.policyVersion ?? "",
      policy_digest: policyDigest,
      matched_rule_ids: input.matchedRuleIds ?? []
    },
    agent_chain: input.agentChain ?? [],
    edges: edgeList,
    parent_record_id: input.sessionId
  })
}

export interface CheckpointRelationshipInput {
  readonly sessionId: string
  readonly runId: string
  readonly checkpointRunId: string
  readonly checkpointDigest: string
  readonly manifestDigest: string
}

/** §2.2.4: the envelope of a session checkpoint. */
export const checkpointRelationship = (input: CheckpointRelationshipInput): Relationship | undefined =>
  normalizeRelationship({
    parent_ref: { kind: "session", id: input.sessionId },
    entity_refs: [
      { kind: "run", id: input.runId },
      { kind: "run", id: input.checkpointRunId },
      { kind: "evidence", id: input.checkpointDigest },
      { kind: "evidence", id: input.manifestDigest }
    ],
    edges: [
      {
        kind: "derived_from",
        from: { kind: "evidence", id: input.checkpointDigest },
        to: { kind: "run", id: input.checkpointRunId }
      }
    ],
    parent_record_id: input.sessionId
  })

export interface TimelineRelationshipInput {
  readonly event: "session_event" | "session_checkpoint_emitted"
  /** The checkpoint runpack's run id (`<run_id>_cp_NNNN`). */
  readonly runId: string
  /** The session id for `session_event`, `checkpoint:<index>` for `session_checkpoint_emitted`. */
  readonly refId: string
  readonly traceId?: string | undefined
  readonly toolName?: string | undefined
  readonly policyDigest?: string | undefined
}

/** §7.6: the envelope of one run timeline entry of a checkpoint runpack. */
export const timelineRelationship = (input: TimelineRelationshipInput): Relationship | undefined => {
  const run: NodeRef = { kind: "run", id: input.runId }
  if (input.event === "session_checkpoint_emitted") {
    const evidence: NodeRef = { kind: "evidence", id: input.refId }
    return normalizeRelationship({
      parent_ref: run,
      entity_refs: [evidence],
      edges: [{ kind: "emits_evidence", from: run, to: evidence }]
    })
  }
  const trace = trim(input.traceId ?? "")
  const tool = trim(input.toolName ?? "")
  const policyDigest = lowerTrim(input.policyDigest ?? "")
  const edgeList: Array<Edge> = []
  if (trace !== "") edgeList.push({ kind: "derived_from", from: { kind: "trace", id: trace }, to: run })
  if (tool !== "" && policyDigest !== "") {
    edgeList.push({ kind: "governed_by", from: { kind: "tool", id: tool }, to: { kind: "policy", id: policyDigest } })
  }
  return normalizeRelationship({
    parent_ref: run,
    entity_refs: [
      { kind: "trace", id: trace },
      { kind: "tool", id: tool },
      { kind: "policy", id: policyDigest },
      { kind: "evidence", id: input.refId }
    ],
    edges: edgeList
  })
}
