// An agent on Docker Swarm is a replicated service: 1 replica while it runs, 0 while it is stopped.
// The service carries the same labels, hardening and limits as a container on one engine (the
// shared pieces: ../agent-container.ts) and is pinned to the node its volumes live on
// (./placement.ts). "Container id" in the runtime port means the service id here.
//
// Differences from one engine, and why:
//   - no-new-privileges cannot be asked per service on engine 20.10 (API 1.41): each node's dockerd
//     runs with --no-new-privileges (README "Running on several hosts"). CAP_DROP ALL empties the
//     bounding set anyway, so a setuid binary gains no capability.
//   - the home tmpfs cannot be given to the agent's uid (tmpfs options are mode and size only on
//     1.41): it is mode 1777 like /tmp.
//   - Swarm restarts a task that ended (restart condition any): that is what brings an agent back
//     when its node returns after an outage, and after Swarm stopped it as unhealthy (armoryd
//     could not reach any Armory for a while, e.g. the instance it dialled died: armoryd exits 0
//     on SIGTERM, which "on-failure" would have left down); a stop (0 replicas) is never undone.
//   - a health check reflects armoryd: healthy while the daemon holds its connection home (a TCP
//     connection to the project relay's port). Swarm counts a task as running only once it is
//     healthy, which gates its rolling updates (failure_action rollback).
import type Docker from "dockerode";
import { AGENT_USER, WORKSPACE_DIR } from "../../../contracts/armoryd";
import { AGENT_HARDENING, AGENT_TMPFS_DIRS, agentEnv, agentLabels, agentLimits, agentVolumeMounts, containerName, LABELS } from "../agent-container";
import { dockerError, statusOf } from "../docker/client";
import type { AgentContainerSpec, ContainerLimits, ObservedContainer, ObservedState } from "../port";
import { RELAY_PORT } from "../docker/project-network";

/** How long Swarm waits after SIGTERM before SIGKILL when it stops a task. */
export const STOP_GRACE_SECONDS = 10;

/** The health check: armoryd is connected home (an established TCP connection to the relay port). */
export function daemonHealthCheck(): Docker.HealthConfig {
  const port = RELAY_PORT.toString(16).toUpperCase().padStart(4, "0");
  return {
    // /proc/net/tcp: "sl local rem st ..."; st 01 is ESTABLISHED.
    Test: ["CMD-SHELL", `grep -q ' [0-9A-F]*:${port} 01 ' /proc/net/tcp`],
    Interval: 2e9,
    Timeout: 2e9,
    Retries: 3,
    StartPeriod: 30e9,
  };
}

/** How long Swarm watches a new task after it started before it counts the update as done. */
export const UPDATE_MONITOR_MS = 15_000;

/** The service spec of an agent; `constraints`: its pin first, then the configured ones. */
export function agentServiceSpec(spec: AgentContainerSpec, constraints: string[]): Docker.ServiceSpec {
  const limits = agentLimits(spec);
  const labels = agentLabels(spec);
  const volumeLabels = { [LABELS.managed]: "true", [LABELS.agentId]: spec.agentId, [LABELS.projectId]: spec.projectId };
  const containerSpec = {
    Image: spec.image,
    User: AGENT_USER,
    Dir: WORKSPACE_DIR,
    Env: agentEnv(spec),
    Labels: labels,
    Hostname: spec.agentName,
    ReadOnly: AGENT_HARDENING.readOnlyRoot,
    Init: AGENT_HARDENING.init,
    CapabilityDrop: [...AGENT_HARDENING.capDrop],
    Sysctls: { ...AGENT_HARDENING.sysctls },
    DNSConfig: { Options: [...AGENT_HARDENING.dnsOptions] },
    StopGracePeriod: STOP_GRACE_SECONDS * 1e9,
    HealthCheck: daemonHealthCheck(),
    Mounts: [
      ...agentVolumeMounts(spec).map((m) => ({ Type: "volume", Source: m.source, Target: m.target, VolumeOptions: { Labels: volumeLabels } })),
      ...AGENT_TMPFS_DIRS.map((dir) => ({ Type: "tmpfs", Target: dir, TmpfsOptions: { Mode: 0o1777 } })),
    ],
  };
  return {
    Name: spec.name ?? containerName(spec.agentName, spec.agentId),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: containerSpec as unknown as Docker.ContainerSpec,
      Resources: { Limits: { MemoryBytes: limits.memoryBytes, NanoCPUs: limits.nanoCpus, Pids: limits.pids } as Docker.ResourceRequirements["Limits"] },
      RestartPolicy: { Condition: "any", Delay: 2e9 },
      Placement: { Constraints: constraints },
      Networks: [{ Target: spec.network }],
      LogDriver: { Name: "json-file", Options: { ...AGENT_HARDENING.logOptions } },
    },
    Mode: { Replicated: { Replicas: 0 } },
    // One task at a time, stopped before its successor starts (the volumes are one node's, and
    // two daemons of one agent must not run at once); a successor that does not become healthy
    // within the monitor window rolls the service back to what it was.
    UpdateConfig: { Parallelism: 1, Order: "stop-first", FailureAction: "rollback", Monitor: UPDATE_MONITOR_MS * 1e6, MaxFailureRatio: 0 },
    RollbackConfig: { Parallelism: 1, Order: "stop-first", FailureAction: "pause", Monitor: UPDATE_MONITOR_MS * 1e6, MaxFailureRatio: 0 },
  };
}

export async function createAgentService(docker: Docker, spec: AgentContainerSpec, constraints: string[]): Promise<string> {
  try {
    const created = (await docker.createService(agentServiceSpec(spec, constraints))) as { id?: string; ID?: string };
    const id = created.id ?? created.ID;
    if (!id) throw new Error("the engine returned no service id");
    return id;
  } catch (err) {
    throw dockerError(err, `create the service for ${spec.agentName}`);
  }
}

/** The service as it is now, or null when it is gone. */
export async function inspectService(docker: Docker, id: string): Promise<Docker.Service | null> {
  try {
    return (await docker.getService(id).inspect()) as Docker.Service;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw dockerError(err, "inspect the service");
  }
}

/** Changes the service's spec (the version the engine last saw guards against lost updates); false when it is gone. */
export async function updateService(docker: Docker, id: string, change: (spec: Docker.ServiceSpec) => Docker.ServiceSpec, what: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const service = await inspectService(docker, id);
    if (!service) return false;
    try {
      await docker.getService(id).update({ ...change(structuredClone(service.Spec as Docker.ServiceSpec)), version: service.Version?.Index });
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      // "update out of sequence": someone else updated it meanwhile; read it again.
      if (attempt < 3 && /out of sequence/i.test(String((err as Error).message))) continue;
      throw dockerError(err, what);
    }
  }
}

export function setReplicas(docker: Docker, id: string, replicas: number): Promise<boolean> {
  return updateService(docker, id, (spec) => ({ ...spec, Mode: { Replicated: { Replicas: replicas } } }), replicas ? "start the service" : "stop the service");
}

/** A new task with the same spec (Swarm's own restart). */
export function forceRestart(docker: Docker, id: string): Promise<boolean> {
  return updateService(
    docker,
    id,
    (spec) => ({ ...spec, TaskTemplate: { ...spec.TaskTemplate, ForceUpdate: ((spec.TaskTemplate as { ForceUpdate?: number })?.ForceUpdate ?? 0) + 1 } }),
    "restart the service",
  );
}

/** New limits; Swarm applies them by replacing the task (a restart), unlike one engine's live update. */
export function setLimits(docker: Docker, id: string, l: ContainerLimits): Promise<boolean> {
  const limits = agentLimits(l);
  return updateService(
    docker,
    id,
    (spec) => ({
      ...spec,
      TaskTemplate: {
        ...spec.TaskTemplate,
        Resources: { Limits: { MemoryBytes: limits.memoryBytes, NanoCPUs: limits.nanoCpus, Pids: limits.pids } as Docker.ResourceRequirements["Limits"] },
      },
    }),
    "update the service's limits",
  );
}

export async function removeService(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getService(id).remove();
  } catch (err) {
    if (statusOf(err) === 404) return;
    throw dockerError(err, "remove the service");
  }
}

export interface SwarmTask {
  ID: string;
  NodeID?: string;
  Version?: { Index?: number };
  CreatedAt?: string;
  UpdatedAt?: string;
  DesiredState?: string;
  Spec?: { ContainerSpec?: { Image?: string } };
  Status?: { Timestamp?: string; State?: string; Message?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}

export async function serviceTasks(docker: Docker, serviceId: string): Promise<SwarmTask[]> {
  try {
    return (await docker.listTasks({ filters: { service: [serviceId] } })) as SwarmTask[];
  } catch (err) {
    throw dockerError(err, "list the service's tasks");
  }
}

/** The task that says most about the service now: the newest one Swarm wants running, else the newest. */
export function currentTask(tasks: SwarmTask[]): SwarmTask | null {
  const byAge = [...tasks].sort((a, b) => Date.parse(b.CreatedAt ?? "") - Date.parse(a.CreatedAt ?? ""));
  return byAge.find((t) => t.DesiredState === "running") ?? byAge[0] ?? null;
}

const STARTING = new Set(["new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting"]);

function date(s: string | undefined): Date | null {
  if (!s || s.startsWith("0001-")) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * The port's view of a service: its current task's state, and its node's ("unknown" while the
 * node is down: its engine does not answer the manager, so nobody knows what runs there).
 */
export function observeService(service: Docker.Service, tasks: SwarmTask[], nodes: Map<string, { state: string; name: string }>): ObservedContainer {
  const spec = service.Spec as Docker.ServiceSpec;
  const labels = (spec.Labels ?? {}) as Record<string, string>;
  const replicas = spec.Mode?.Replicated?.Replicas ?? 0;
  const task = currentTask(tasks);
  const taskState = task?.Status?.State ?? "";
  // The node the service is pinned to (its volumes'), else the one its task was placed on.
  const pinned = ((spec.TaskTemplate as { Placement?: { Constraints?: string[] } })?.Placement?.Constraints ?? [])
    .map((c) => /^node\.id==(.+)$/.exec(c)?.[1])
    .find(Boolean);
  const nodeId = pinned ?? task?.NodeID;
  const node = nodeId ? nodes.get(nodeId) : undefined;
  const exitCode = task?.Status?.ContainerStatus?.ExitCode ?? null;
  let state: ObservedState;
  let detail: string | null = null;
  if (node && node.state !== "ready" && replicas > 0) {
    // Swarm keeps a replacement task pending (the pin allows no other node) until the node is back.
    state = "unknown";
    detail = `its node ${node.name} is ${node.state}: the engine there does not answer the manager`;
  } else if (!task) {
    // Swarm deletes a scaled-down service's tasks; a service never updated was never started.
    const neverStarted = !service.UpdatedAt || service.UpdatedAt === service.CreatedAt;
    state = replicas ? "restarting" : neverStarted ? "created" : "exited";
    detail = replicas ? "waiting for Swarm to schedule it" : neverStarted ? "created, not started" : "stopped";
  } else if (node && node.state !== "ready" && (taskState === "running" || STARTING.has(taskState))) {
    state = "unknown";
    detail = `its node ${node.name} is ${node.state}: the engine there does not answer the manager`;
  } else if (taskState === "running") {
    // Desired otherwise: Swarm is stopping it (the grace period runs), and until then it runs.
    state = "running";
    if (task.DesiredState !== "running") detail = "stopping";
  } else if (STARTING.has(taskState) && task.DesiredState === "running") {
    state = "restarting";
    detail = taskState === "pending" ? `waiting for a node: ${task.Status?.Err ?? task.Status?.Message ?? "no node fits"}` : `starting (${taskState})`;
  } else if (replicas && task.DesiredState === "running") {
    state = "restarting";
    detail = `Swarm is replacing a task that ended (${task.Status?.Err ?? taskState})`;
  } else {
    state = "exited";
    const code = exitCode ?? 0;
    detail = task.Status?.Err ? `exited with code ${code}: ${task.Status.Err}` : code === 0 ? "stopped" : `exited with code ${code}`;
  }
  return {
    id: service.ID,
    agentId: labels[LABELS.agentId] ?? null,
    configHash: labels[LABELS.configHash] ?? null,
    state,
    exitCode: state === "exited" ? exitCode ?? 0 : null,
    // Swarm's task status does not say whether the kernel killed it for memory.
    oomKilled: false,
    startedAt: taskState === "running" ? date(task?.Status?.Timestamp) : null,
    finishedAt: state === "exited" ? date(task?.Status?.Timestamp) : null,
    detail,
    image: ((spec.TaskTemplate as { ContainerSpec?: { Image?: string } })?.ContainerSpec?.Image ?? "").replace(/@sha256:[0-9a-f]+$/, ""),
    networks: ((spec.TaskTemplate as { Networks?: { Target: string }[] })?.Networks ?? []).map((n) => n.Target),
  };
}

/** Every agent service (any state), by id. */
export async function listAgentServices(docker: Docker, agentId?: string): Promise<Map<string, { id: string; agentId: string | null }>> {
  try {
    const label = agentId ? `${LABELS.agentId}=${agentId}` : `${LABELS.managed}=true`;
    const list = (await docker.listServices({ filters: { label: [label] } })) as Docker.Service[];
    return new Map(list.map((s) => [s.ID, { id: s.ID, agentId: ((s.Spec?.Labels ?? {}) as Record<string, string>)[LABELS.agentId] ?? null }]));
  } catch (err) {
    throw dockerError(err, "list services");
  }
}
