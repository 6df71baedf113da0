// The runtime port on Docker Swarm (ARMORY_RUNTIME=swarm): Armory talks to one manager's engine
// (DOCKER_HOST); each agent is a Swarm service (./services.ts) pinned to the node its volumes are
// on (./placement.ts), on its project's attachable overlay network, whose egress relay is a
// container on the manager beside Armory (the relay reaches Armory's gateway on the manager's
// uplink bridge; agents on any node reach the relay over the overlay, so armoryd dials home from
// every node with no route to Armory's host needed).
//
// What is the same as on one engine (inherited from DockerRuntime, on the manager's engine):
// ping/version, images (each node needs the agent images loaded: no registry), the uplink network,
// the relays. What is not possible here and says so: reading or writing an agent's volumes
// (snapshots) when the agent lives on another node than the manager.
import type Docker from "dockerode";
import type { Readable } from "node:stream";
import { DomainError } from "../../domain/errors";
import { followLogsOf, tailLogsOf, type LogSource } from "../docker/logs";
import { ProjectNetworks } from "../docker/project-network";
import { DockerRuntime } from "../docker/runtime";
import { streamContainerStats } from "../docker/stats";
import type {
  AgentContainerSpec,
  ArchiveVolume,
  ContainerLimits,
  EngineNode,
  EventsFollower,
  EventsFollowerOptions,
  LogLine,
  ObservedContainer,
  ProjectNetworkOptions,
  ProjectNetworks as ProjectNetworksPort,
  ResourceSample,
  StatsStreamHandle,
  VolumeArchiveReader,
} from "../port";
import { SwarmEventsFollower } from "./events";
import { allTasks, listSwarmNodes, placementFor, setAvailability, unpin } from "./placement";
import {
  createAgentService,
  currentTask,
  forceRestart,
  inspectService,
  listAgentServices,
  observeService,
  removeService,
  serviceTasks,
  UPDATE_MONITOR_MS,
  agentServiceSpec,
  updateService,
  setLimits,
  setReplicas,
} from "./services";

/** How long start/stop/restart wait for Swarm to reach the state (then the events tell the rest). */
const SETTLE_MS = 90_000;

export interface SwarmRuntimeOptions {
  /** Constraints every agent service gets besides its pin (ARMORY_SWARM_CONSTRAINTS), e.g. node.labels.armory==agents. */
  constraints?: string[];
}

export class SwarmRuntime extends DockerRuntime {
  private readonly constraints: string[];

  constructor(docker: Docker, opts: SwarmRuntimeOptions = {}) {
    super(docker);
    this.constraints = opts.constraints ?? [];
  }

  /** An agent's id here is its service's; armoryd reports its task's container id. */
  override get containerIdIsEngineId(): boolean {
    return false;
  }

  private async nodeStates(): Promise<Map<string, { state: string; name: string }>> {
    const nodes = await listSwarmNodes(this.docker);
    return new Map(nodes.map((n) => [n.ID, { state: n.Status?.State ?? "unknown", name: n.Description?.Hostname ? `${n.Description.Hostname} (${n.ID.slice(0, 12)})` : n.ID.slice(0, 12) }]));
  }

  override async listNodes(): Promise<EngineNode[]> {
    const [nodes, tasks, services] = await Promise.all([listSwarmNodes(this.docker), allTasks(this.docker), this.listContainers()]);
    const placed = new Map<string, Set<string>>();
    for (const t of tasks) {
      if (!t.NodeID || !t.ServiceID || !services.has(t.ServiceID) || t.DesiredState !== "running") continue;
      placed.set(t.NodeID, (placed.get(t.NodeID) ?? new Set()).add(t.ServiceID));
    }
    return nodes.map((n) => ({
      id: n.ID,
      hostname: n.Description?.Hostname ?? n.ID.slice(0, 12),
      role: n.Spec?.Role === "manager" ? "manager" : "worker",
      state: (["ready", "down", "disconnected"] as const).find((s) => s === n.Status?.State) ?? "unknown",
      availability: (["active", "pause", "drain"] as const).find((a) => a === n.Spec?.Availability) ?? "active",
      message: n.Status?.Message || null,
      cpus: (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
      memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
      labels: n.Spec?.Labels ?? {},
      engineVersion: n.Description?.Engine?.EngineVersion ?? null,
      agentContainers: [...(placed.get(n.ID) ?? [])],
    }));
  }

  override async setNodeAvailability(nodeId: string, availability: "active" | "drain"): Promise<void> {
    await setAvailability(this.docker, nodeId, availability);
  }

  /** Agent volumes are local to a node (Docker's local driver): an agent stays where its volumes are. */
  override get agentsCanMove(): boolean {
    return false;
  }

  override async createContainer(spec: AgentContainerSpec): Promise<string> {
    const constraints = await placementFor(this.docker, spec, this.constraints);
    return createAgentService(this.docker, spec, constraints);
  }

  /** Waits until the service's state passes `done` (or the wait is over: the events carry on from there). */
  private async settle(id: string, done: (o: ObservedContainer) => boolean): Promise<ObservedContainer | null> {
    const deadline = Date.now() + SETTLE_MS;
    let delay = 100;
    for (;;) {
      const o = await this.inspectContainer(id);
      if (!o || done(o) || Date.now() > deadline) return o;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
    }
  }

  override async startContainer(id: string): Promise<boolean> {
    if (!(await setReplicas(this.docker, id, 1))) return false;
    const o = await this.settle(id, (s) => s.state === "running" || s.state === "unknown" || (s.state === "restarting" && /waiting for a node/.test(s.detail ?? "")));
    return !!o;
  }

  override async stopContainer(id: string, _timeoutSeconds: number): Promise<boolean> {
    // The grace period is the service's (STOP_GRACE_SECONDS): Swarm stops its tasks itself.
    if (!(await setReplicas(this.docker, id, 0))) return false;
    const o = await this.settle(id, (s) => s.state === "exited" || s.state === "created" || s.state === "unknown");
    return !!o;
  }

  override async restartContainer(id: string, _timeoutSeconds: number): Promise<boolean> {
    const before = currentTask(await serviceTasks(this.docker, id))?.ID;
    if (!(await setReplicas(this.docker, id, 1))) return false;
    if (!(await forceRestart(this.docker, id))) return false;
    // Done when a task other than the one before runs (or its node is down: the events tell the rest).
    const deadline = Date.now() + SETTLE_MS;
    while (Date.now() < deadline) {
      const task = currentTask(await serviceTasks(this.docker, id));
      const o = await this.inspectContainer(id);
      if (!o) return false;
      if (o.state === "unknown" || (task && task.ID !== before && o.state === "running")) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return true;
  }

  override removeContainer(id: string): Promise<void> {
    return removeService(this.docker, id);
  }

  /** Swarm cannot rename a service: a replacement keeps the name it was created with (it is found by id and labels). */
  override async renameContainer(): Promise<void> {}

  override updateContainerLimits(id: string, limits: ContainerLimits): Promise<boolean> {
    return setLimits(this.docker, id, limits);
  }

  /**
   * Swarm's own rolling update to `spec` (the service keeps its id, name, pin and replica count):
   * one task at a time, stopped before its successor starts, and rolled back by Swarm when the
   * successor does not become healthy (the health check is armoryd's connection home). Resolves
   * when Swarm says the update completed or was rolled back.
   */
  async updateInPlace(id: string, spec: AgentContainerSpec, timeoutMs: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    const before = await inspectService(this.docker, id);
    if (!before) return { ok: false, reason: "the agent's service no longer exists" };
    const startedBefore = (before as { UpdateStatus?: { StartedAt?: string } }).UpdateStatus?.StartedAt ?? null;
    const current = before.Spec as Docker.ServiceSpec;
    const constraints = (current.TaskTemplate as { Placement?: { Constraints?: string[] } })?.Placement?.Constraints ?? [];
    const next = agentServiceSpec(spec, constraints);
    const updated = await updateService(
      this.docker,
      id,
      (now) => ({ ...next, Name: now.Name, Mode: now.Mode }),
      `update the service of ${spec.agentName}`,
    );
    if (!updated) return { ok: false, reason: "the agent's service no longer exists" };
    if (!current.Mode?.Replicated?.Replicas) return { ok: true }; // nothing running: the next start uses the new spec
    return this.updateOutcome(id, startedBefore, timeoutMs);
  }

  /** Waits for the outcome of the update that started after `startedBefore`. */
  private async updateOutcome(id: string, startedBefore: string | null, timeoutMs: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    // Swarm's own monitor window and the health check's start period come on top of the caller's wait.
    const deadline = Date.now() + timeoutMs + UPDATE_MONITOR_MS + 60_000;
    let delay = 200;
    for (;;) {
      const s = (await inspectService(this.docker, id)) as (Docker.Service & { UpdateStatus?: { State?: string; StartedAt?: string; Message?: string } }) | null;
      if (!s) return { ok: false, reason: "the agent's service was removed during the update" };
      const u = s.UpdateStatus;
      if (u && u.StartedAt !== startedBefore) {
        if (u.State === "completed") return { ok: true };
        if (u.State === "rollback_completed" || u.State === "rollback_paused" || u.State === "paused") {
          return { ok: false, reason: `Swarm rolled the update back (${u.Message ?? u.State})` };
        }
      }
      if (Date.now() > deadline) return { ok: false, reason: `Swarm had not finished the update after ${Math.round((deadline - Date.now() + timeoutMs) / 1000)} s (${u?.State ?? "no update status"})` };
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }

  override async inspectContainer(id: string): Promise<ObservedContainer | null> {
    const service = await inspectService(this.docker, id);
    if (!service) return null;
    const [tasks, nodes] = await Promise.all([serviceTasks(this.docker, id), this.nodeStates()]);
    return observeService(service, tasks, nodes);
  }

  override listContainers(filter: { agentId?: string } = {}): Promise<Map<string, { id: string; agentId: string | null }>> {
    return listAgentServices(this.docker, filter.agentId);
  }

  override followEvents(opts: EventsFollowerOptions): EventsFollower {
    return new SwarmEventsFollower(this.docker, opts);
  }

  /** The service's log: every task's output, wherever it ran (Swarm's service logs). */
  override tailLogs(id: string, lines: number): Promise<LogLine[]> {
    return tailLogsOf(this.docker.getService(id) as unknown as LogSource, lines, "the service's logs");
  }
  override followLogs(id: string, opts: { tail?: number; since?: string }, signal?: AbortSignal): AsyncGenerator<LogLine> {
    return followLogsOf(this.docker.getService(id) as unknown as LogSource, opts, "the service's logs", signal);
  }

  /**
   * Resource samples come from the engine the task runs on. Armory talks to the manager only, so
   * they are the manager's engine's stats for an agent on the manager node; an agent on another
   * node has none (its handle ends when stopped; armoryd's health still says whether it lives).
   */
  override async streamStats(id: string, onSample: (sample: ResourceSample) => void): Promise<StatsStreamHandle> {
    const task = currentTask(await serviceTasks(this.docker, id));
    const self = ((await this.docker.info()) as { Swarm?: { NodeID?: string } }).Swarm?.NodeID;
    const containerId = task?.Status?.ContainerStatus?.ContainerID;
    if (task?.Status?.State === "running" && containerId && task.NodeID === self) return streamContainerStats(this.docker, containerId, onSample);
    let stop = () => {};
    const ended = new Promise<string>((resolve) => (stop = () => resolve("stopped")));
    return { ended, stop };
  }

  override projectNetworks(opts: ProjectNetworkOptions): ProjectNetworksPort {
    return new ProjectNetworks({ ...opts, docker: this.docker, driver: "overlay" });
  }

  /** A service's volume is created by its task on its node (the mount's VolumeOptions carry the labels). */
  override async ensureVolume(): Promise<void> {}

  /**
   * Removes the volume when it is on the manager; a volume on another node stays there (the
   * manager cannot reach another node's volumes: `docker volume prune` on that node removes it).
   * The agent's placement goes with its workspace volume.
   */
  override async removeVolume(name: string): Promise<void> {
    await super.removeVolume(name);
    await unpin(this.docker, name);
  }

  private async onManager(volumes: ArchiveVolume[]): Promise<void> {
    for (const v of volumes) {
      try {
        await this.docker.getVolume(v.name).inspect();
      } catch {
        throw new DomainError(
          "PRECONDITION_FAILED",
          `The volume ${v.name} is not on the Swarm manager Armory talks to (it lives on the agent's node): snapshots of agents on other nodes are not supported on Swarm.`,
        );
      }
    }
  }

  override async readVolumes(volumes: ArchiveVolume[], image: string): Promise<VolumeArchiveReader> {
    await this.onManager(volumes);
    return super.readVolumes(volumes, image);
  }

  override async writeVolumes(volumes: ArchiveVolume[], image: string, tar: Readable): Promise<void> {
    await this.onManager(volumes);
    return super.writeVolumes(volumes, image, tar);
  }
}
