// The Nodes page (admin): the machines agents run on (a Swarm's nodes, or the one engine) with
// their CPU, memory, state and availability, labels, and the agents placed on each; draining a
// node. Shared by the API (node.*), the nodes service (src/server/nodes/) and the UI.
import { z } from "zod";

export const NODE_ROLES = ["manager", "worker", "engine"] as const;
export const NODE_STATES = ["ready", "down", "disconnected", "unknown"] as const;
export const NODE_AVAILABILITIES = ["active", "pause", "drain"] as const;

export const nodeAgentView = z.object({
  agentId: z.string(),
  name: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  observedState: z.string(),
  /** Why the agent cannot move to another node when this one is drained (null: it can). */
  cannotMove: z.string().nullable(),
});
export type NodeAgentView = z.infer<typeof nodeAgentView>;

export const nodeView = z.object({
  id: z.string(),
  hostname: z.string(),
  role: z.enum(NODE_ROLES),
  state: z.enum(NODE_STATES),
  availability: z.enum(NODE_AVAILABILITIES),
  message: z.string().nullable(),
  cpus: z.number(),
  memoryBytes: z.number(),
  labels: z.record(z.string(), z.string()),
  engineVersion: z.string().nullable(),
  agents: z.array(nodeAgentView),
});
export type NodeView = z.infer<typeof nodeView>;

export const nodeListOutput = z.object({
  /** ARMORY_RUNTIME: "docker" (one engine, nothing to drain) or "swarm". */
  runtime: z.enum(["docker", "swarm"]),
  nodes: z.array(nodeView),
});
export type NodeList = z.infer<typeof nodeListOutput>;

export const nodeIdInput = z.object({
  nodeId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_-]+$/, "must be a node id (letters, digits, - and _)"),
});

export const nodeAvailabilityOutput = z.object({
  nodeId: z.string(),
  availability: z.enum(NODE_AVAILABILITIES),
  /** Agents that stay on the node (their volumes are local to it): stopped until it is active again. */
  stranded: z.array(nodeAgentView),
});
export type NodeAvailabilityResult = z.infer<typeof nodeAvailabilityOutput>;
