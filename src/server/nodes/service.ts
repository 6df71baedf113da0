// The machines agents run on, for the admin's Nodes page: what the runtime reports about each
// node, with the agents placed there (from Armory's database: name, project, state) and whether
// each could move elsewhere; draining a node and making it active again.
import type { NodeAgentView, NodeAvailabilityResult, NodeList, NodeView } from "../../contracts/nodes";
import { DomainError } from "../domain/errors";
import type { Services } from "../services";

type NodeServices = Pick<Services, "runtime" | "config" | "db">;

/** Why an agent cannot leave its node, in the runtime's terms (null: it can). */
function cannotMove(services: NodeServices): string | null {
  if (services.runtime.agentsCanMove) return null;
  return services.config.runtime.kind === "swarm"
    ? "Its volumes are local to this node (Docker's local volume driver), so it is pinned here: draining stops it until the node is active again."
    : "Armory runs on one Docker engine: there is no other node to move to.";
}

export async function listNodes(services: NodeServices): Promise<NodeList> {
  const nodes = await services.runtime.listNodes();
  const ids = nodes.flatMap((n) => n.agentContainers);
  const rows = ids.length
    ? await services.db.prisma.agent.findMany({
        where: { containerId: { in: ids } },
        select: { id: true, name: true, projectId: true, observedState: true, containerId: true, project: { select: { name: true } } },
        orderBy: { name: "asc" },
      })
    : [];
  const why = cannotMove(services);
  const byContainer = new Map(rows.map((r) => [r.containerId!, r]));
  const views: NodeView[] = nodes.map((n) => ({
    id: n.id,
    hostname: n.hostname,
    role: n.role,
    state: n.state,
    availability: n.availability,
    message: n.message,
    cpus: n.cpus,
    memoryBytes: n.memoryBytes,
    labels: n.labels,
    engineVersion: n.engineVersion,
    agents: n.agentContainers
      .map((id) => byContainer.get(id))
      .filter((r) => !!r)
      .map(
        (r): NodeAgentView => ({ agentId: r.id, name: r.name, projectId: r.projectId, projectName: r.project.name, observedState: r.observedState, cannotMove: why }),
      ),
  }));
  return { runtime: services.config.runtime.kind, nodes: views };
}

export async function setAvailability(services: NodeServices, nodeId: string, availability: "active" | "drain"): Promise<NodeAvailabilityResult> {
  const before = await listNodes(services);
  const node = before.nodes.find((n) => n.id === nodeId);
  if (!node) throw new DomainError("NOT_FOUND", `There is no node ${nodeId} (the list of nodes shows their ids).`);
  if (availability === "drain" && node.role === "manager" && before.nodes.filter((n) => n.availability === "active").length <= 1) {
    throw new DomainError("PRECONDITION_FAILED", "This is the last active node: draining it would leave no node for any agent. Make another node active first.");
  }
  await services.runtime.setNodeAvailability(nodeId, availability);
  return { nodeId, availability, stranded: availability === "drain" ? node.agents.filter((a) => a.cannotMove) : [] };
}
