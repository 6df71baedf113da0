// Where an agent runs on a Swarm. Docker's named volumes are local to a node, so an agent stays on
// the node where it was first placed: the first placement is recorded in the cluster (a Swarm
// config object per workspace volume, which is the agent's: configs live in the managers' Raft store, survive the service being
// removed and re-created, and are readable from any manager) and every service of the agent
// carries the constraint node.id==<that node>. A new agent goes to the node with the most free
// memory (its total, less the memory limits of the agent services running there) among the ready,
// active nodes that satisfy the configured constraints (ARMORY_SWARM_CONSTRAINTS) and its
// template's (placement.constraints).
import { createHash } from "node:crypto";
import type Docker from "dockerode";
import { DomainError } from "../../domain/errors";
import { LABELS } from "../agent-container";
import { dockerError, statusOf } from "../docker/client";
import { satisfiesConstraint } from "../../../contracts/placement";

export const PLACEMENT_LABELS = { role: "dev.armory.role", agentId: LABELS.agentId, volume: "dev.armory.volume-name" } as const;

function pinName(volume: string): string {
  return `armory-pin-${createHash("sha256").update(volume).digest("hex").slice(0, 24)}`;
}

/** What the engine says about a Swarm node (dockerode has no type for it). */
export interface SwarmNodeInfo {
  ID: string;
  Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
  Description?: {
    Hostname?: string;
    Resources?: { NanoCPUs?: number; MemoryBytes?: number };
    Engine?: { EngineVersion?: string; Labels?: Record<string, string> };
  };
  Status?: { State?: string; Message?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string };
}

export async function listSwarmNodes(docker: Docker): Promise<SwarmNodeInfo[]> {
  try {
    return (await docker.listNodes()) as SwarmNodeInfo[];
  } catch (err) {
    throw dockerError(err, "list the Swarm's nodes");
  }
}

interface ConfigInfo {
  ID: string;
  Spec?: { Name?: string; Data?: string; Labels?: Record<string, string> };
}

/** The node the workspace volume `volume` is on, or null when its agent was never placed. */
export async function pinnedNode(docker: Docker, volume: string): Promise<string | null> {
  try {
    const list = (await docker.listConfigs({ filters: { name: [pinName(volume)] } })) as ConfigInfo[];
    const found = list.find((c) => c.Spec?.Name === pinName(volume));
    if (!found?.Spec?.Data) return null;
    return Buffer.from(found.Spec.Data, "base64").toString("utf8");
  } catch (err) {
    throw dockerError(err, "read the agent's placement");
  }
}

export async function pinNode(docker: Docker, volume: string, agentId: string, nodeId: string): Promise<void> {
  try {
    await docker.createConfig({
      Name: pinName(volume),
      Data: Buffer.from(nodeId).toString("base64"),
      Labels: { [PLACEMENT_LABELS.role]: "agent-placement", [PLACEMENT_LABELS.agentId]: agentId, [PLACEMENT_LABELS.volume]: volume },
    });
  } catch (err) {
    if (statusOf(err) === 409) return; // placed meanwhile; the caller reads it again
    throw dockerError(err, "record the agent's placement");
  }
}

/** Forgets the placement of the workspace volume `volume` (it is gone); none is fine. */
export async function unpin(docker: Docker, volume: string): Promise<void> {
  try {
    const list = (await docker.listConfigs({ filters: { name: [pinName(volume)] } })) as ConfigInfo[];
    for (const c of list.filter((c) => c.Spec?.Name === pinName(volume))) await docker.getConfig(c.ID).remove();
  } catch (err) {
    if (statusOf(err) !== 404) throw dockerError(err, "forget the agent's placement");
  }
}

/** Does the node satisfy `constraint` (node.id, node.hostname, node.role, node.labels.X, engine.labels.X, with == or !=)? */
export function satisfies(node: SwarmNodeInfo, constraint: string): boolean {
  return satisfiesConstraint(
    { id: node.ID, hostname: node.Description?.Hostname, role: node.Spec?.Role, labels: node.Spec?.Labels, engineLabels: node.Description?.Engine?.Labels },
    constraint,
  );
}

/** "host2 (worker, labels disk=ssd)" for messages about nodes that do not match. */
function describeNode(n: SwarmNodeInfo): string {
  const labels = Object.entries(n.Spec?.Labels ?? {}).map(([k, v]) => `${k}=${v}`);
  const state = n.Status?.State === "ready" && n.Spec?.Availability === "active" ? "" : `, ${n.Status?.State ?? "unknown"}/${n.Spec?.Availability ?? "unknown"}`;
  return `${n.Description?.Hostname ?? n.ID} (${n.Spec?.Role ?? "node"}${state}, ${labels.length ? `labels ${labels.join(" ")}` : "no labels"})`;
}

/** Memory (bytes) the running agent services reserve by their limits on each node. */
async function usedMemory(docker: Docker): Promise<Map<string, number>> {
  const used = new Map<string, number>();
  const tasks = (await docker.listTasks({ filters: { "desired-state": ["running"] } })) as {
    NodeID?: string;
    Spec?: { ContainerSpec?: { Labels?: Record<string, string> }; Resources?: { Limits?: { MemoryBytes?: number } } };
  }[];
  for (const t of tasks) {
    if (!t.NodeID || t.Spec?.ContainerSpec?.Labels?.[LABELS.managed] !== "true") continue;
    used.set(t.NodeID, (used.get(t.NodeID) ?? 0) + (t.Spec.Resources?.Limits?.MemoryBytes ?? 0));
  }
  return used;
}

/** The ready, active node with the most free memory among those satisfying `constraints`. */
export async function pickNode(docker: Docker, constraints: string[]): Promise<string> {
  let used: Map<string, number>;
  try {
    used = await usedMemory(docker);
  } catch (err) {
    throw dockerError(err, "list the Swarm's tasks");
  }
  const nodes = await listSwarmNodes(docker);
  const fit = nodes.filter((n) => n.Status?.State === "ready" && n.Spec?.Availability === "active" && constraints.every((c) => satisfies(n, c)));
  if (!fit.length) {
    throw new DomainError(
      "PRECONDITION_FAILED",
      constraints.length
        ? `No ready, active Swarm node satisfies ${constraints.join(" and ")}. The nodes: ${nodes.map(describeNode).join("; ") || "none"}. Add a label to a node (docker node update --label-add) or change the template's placement.`
        : "No Swarm node is ready and active: bring a node back or set one's availability to active.",
    );
  }
  const free = (n: SwarmNodeInfo) => (n.Description?.Resources?.MemoryBytes ?? 0) - (used.get(n.ID) ?? 0);
  fit.sort((a, b) => free(b) - free(a) || a.ID.localeCompare(b.ID));
  return fit[0]!.ID;
}

/**
 * The constraints of the agent's service: its pin (placing it now when it has none) and the
 * configured ones (ARMORY_SWARM_CONSTRAINTS) followed by its template's (placement.constraints),
 * each once. An agent pinned to a node that has left the Swarm cannot run: its volumes are there.
 */
export async function placementFor(
  docker: Docker,
  spec: { agentId: string; workspaceVolume: string; placementConstraints?: string[] },
  configured: string[],
): Promise<string[]> {
  const constraints = [...new Set([...configured, ...(spec.placementConstraints ?? [])])];
  let node = await pinnedNode(docker, spec.workspaceVolume);
  if (!node) {
    await pinNode(docker, spec.workspaceVolume, spec.agentId, await pickNode(docker, constraints));
    node = await pinnedNode(docker, spec.workspaceVolume);
    if (!node) throw new DomainError("ENGINE_ERROR", "The agent's placement could not be recorded on the Swarm.");
  } else {
    try {
      await docker.getNode(node).inspect();
    } catch (err) {
      if (statusOf(err) !== 404) throw dockerError(err, "inspect the agent's node");
      throw new DomainError(
        "PRECONDITION_FAILED",
        `The agent's volumes are on Swarm node ${node}, which has left the Swarm: bring that node back (or move the volumes and delete the agent's placement) to run it.`,
      );
    }
  }
  return [`node.id==${node}`, ...constraints];
}

export interface TaskPlacement {
  ServiceID?: string;
  NodeID?: string;
  DesiredState?: string;
}

/** Every task of the Swarm (where each service's tasks are placed). */
export async function allTasks(docker: Docker): Promise<TaskPlacement[]> {
  try {
    return (await docker.listTasks()) as TaskPlacement[];
  } catch (err) {
    throw dockerError(err, "list the Swarm's tasks");
  }
}

/** Sets the node's availability (the version guards against a concurrent change). */
export async function setAvailability(docker: Docker, nodeId: string, availability: "active" | "drain"): Promise<void> {
  const node = docker.getNode(nodeId);
  let info: { Version?: { Index?: number }; Spec?: Record<string, unknown> };
  try {
    info = (await node.inspect()) as typeof info;
  } catch (err) {
    throw dockerError(err, `inspect node ${nodeId}`);
  }
  try {
    await node.update({ ...info.Spec, Availability: availability, version: info.Version?.Index });
  } catch (err) {
    throw dockerError(err, `set node ${nodeId} to ${availability}`);
  }
}
