// Agent containers: the hardened create spec, lifecycle calls that treat "already in that state"
// as success, and inspection mapped to Armory's observed states.
import type Docker from "dockerode";
import { AGENT_GID, AGENT_UID, AGENT_USER, HOME_DIR, WORKSPACE_DIR } from "../../../contracts/armoryd";
import { AGENT_HARDENING, AGENT_TMPFS_DIRS, agentEnv, agentLabels, agentLimits, agentVolumeMounts, containerName, LABELS } from "../agent-container";
import type { AgentContainerSpec, ObservedContainer, ObservedState } from "../port";
import { dockerError, statusOf } from "./client";

export type { AgentContainerSpec, ObservedContainer, ObservedState };
// The container contract (uid, gid, paths) is src/contracts/armoryd.ts; re-exported for the modules that still import it from here.
export { AGENT_UID, WORKSPACE_DIR };
// The engine-neutral parts (../agent-container.ts), re-exported for the modules that import them from here.
export { agentLabels, containerName, LABELS };

/** What every container Armory makes shares (agents and project relays): an init, no capabilities, no privilege escalation, a read-only root. */
export const HARDENED_HOST_CONFIG = {
  Init: AGENT_HARDENING.init,
  CapDrop: [...AGENT_HARDENING.capDrop],
  SecurityOpt: ["no-new-privileges:true"],
  Privileged: false,
  ReadonlyRootfs: AGENT_HARDENING.readOnlyRoot,
} satisfies Docker.HostConfig;

export const AGENT_TMPFS: Record<string, string> = Object.fromEntries(
  AGENT_TMPFS_DIRS.map((dir) => [dir, dir === HOME_DIR ? `rw,nosuid,nodev,exec,uid=${AGENT_UID},gid=${AGENT_GID},mode=0755` : "rw,nosuid,nodev,exec,mode=1777"]),
);

/**
 * The container config: non-root, no capabilities, no privilege escalation, read-only root
 * filesystem, limits, init, own volumes, and the project's own network (spec.network).
 */
export function agentContainerOptions(spec: AgentContainerSpec): Docker.ContainerCreateOptions {
  const limits = agentLimits(spec);
  return {
    name: spec.name ?? containerName(spec.agentName, spec.agentId),
    Image: spec.image,
    User: AGENT_USER,
    WorkingDir: WORKSPACE_DIR,
    Env: agentEnv(spec),
    Labels: agentLabels(spec),
    Hostname: spec.agentName,
    HostConfig: {
      ...HARDENED_HOST_CONFIG,
      Tmpfs: AGENT_TMPFS,
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes, // no swap beyond the memory limit
      NanoCpus: limits.nanoCpus,
      PidsLimit: limits.pids,
      NetworkMode: spec.network,
      DnsOptions: [...AGENT_HARDENING.dnsOptions],
      Sysctls: { ...AGENT_HARDENING.sysctls },
      RestartPolicy: { Name: "no" }, // Armory decides about restarts
      Mounts: agentVolumeMounts(spec).map((m) => ({ Type: "volume" as const, Source: m.source, Target: m.target })),
      LogConfig: { Type: "json-file", Config: { ...AGENT_HARDENING.logOptions } },
    },
  };
}

/**
 * Creates a named volume; creating one that exists is a no-op in Docker, so no inspect first.
 * With `agentOwned` (an image with chown), a volume this call creates gets its root handed to
 * the agent user: a fresh volume mounted at a path the image does not have is root's (0755) and
 * unwritable for the agent. One short container does it, as root with only CAP_CHOWN, no network.
 */
export async function ensureVolume(docker: Docker, name: string, labels: Record<string, string>, agentOwned?: { image: string }): Promise<void> {
  if (agentOwned) {
    try {
      await docker.getVolume(name).inspect();
      return; // exists: its owner is whatever the agent (or an earlier create) left
    } catch (err) {
      if (statusOf(err) !== 404) throw dockerError(err, `inspect volume ${name}`);
    }
  }
  try {
    await docker.createVolume({ Name: name, Labels: labels });
  } catch (e) {
    throw dockerError(e, `create volume ${name}`);
  }
  if (agentOwned) await chownVolumeRoot(docker, name, agentOwned.image);
}

async function chownVolumeRoot(docker: Docker, volume: string, image: string): Promise<void> {
  const what = `hand volume ${volume} to the agent user`;
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      Image: image,
      User: "0:0",
      Entrypoint: ["chown"],
      Cmd: [`${AGENT_UID}:${AGENT_GID}`, "/volume"],
      NetworkDisabled: true,
      HostConfig: {
        ...HARDENED_HOST_CONFIG,
        Init: false,
        CapAdd: ["CHOWN"],
        NetworkMode: "none",
        Mounts: [{ Type: "volume", Source: volume, Target: "/volume" }],
      },
    });
  } catch (e) {
    throw dockerError(e, what);
  }
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`${what}: chown exited with ${StatusCode}`);
  } catch (e) {
    throw e instanceof Error && e.message.startsWith(what) ? e : dockerError(e, what);
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}

export async function removeVolume(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getVolume(name).remove();
  } catch (err) {
    if (statusOf(err) !== 404) throw dockerError(err, `remove volume ${name}`);
  }
}

/** Creates the uplink network (Armory's gateway and the project relays meet there) when missing. */
export async function ensureNetwork(docker: Docker, name: string): Promise<void> {
  if (name === "host" || name === "none" || name === "bridge") return;
  try {
    await docker.getNetwork(name).inspect();
  } catch (err) {
    if (statusOf(err) !== 404) throw dockerError(err, `inspect network ${name}`);
    try {
      await docker.createNetwork({ Name: name, Driver: "bridge", Labels: { [LABELS.managed]: "true" } });
    } catch (e) {
      if (statusOf(e) !== 409) throw dockerError(e, `create network ${name}`);
    }
  }
}

export async function imageExists(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw dockerError(err, `inspect image ${image}`);
  }
}

export async function createAgentContainer(docker: Docker, spec: AgentContainerSpec): Promise<string> {
  try {
    const c = await docker.createContainer(agentContainerOptions(spec));
    return c.id;
  } catch (err) {
    throw dockerError(err, `create the container for ${spec.agentName}`);
  }
}

/** Starts a container; already running is fine. Returns false when the container no longer exists. */
export async function startContainer(docker: Docker, id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).start();
    return true;
  } catch (err) {
    if (statusOf(err) === 304) return true;
    if (statusOf(err) === 404) return false;
    throw dockerError(err, "start the container");
  }
}

/** Stops a container (SIGTERM, then SIGKILL after `timeoutSeconds`); already stopped or gone is fine. */
export async function stopContainer(docker: Docker, id: string, timeoutSeconds = 10): Promise<boolean> {
  try {
    await docker.getContainer(id).stop({ t: timeoutSeconds });
    return true;
  } catch (err) {
    if (statusOf(err) === 304) return true;
    if (statusOf(err) === 404) return false;
    throw dockerError(err, "stop the container");
  }
}

export async function restartContainer(docker: Docker, id: string, timeoutSeconds = 10): Promise<boolean> {
  try {
    await docker.getContainer(id).restart({ t: timeoutSeconds });
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw dockerError(err, "restart the container");
  }
}

export async function removeContainer(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: false });
  } catch (err) {
    if (statusOf(err) === 404) return;
    // 409 "removal already in progress" is fine too.
    if (statusOf(err) === 409 && /already in progress/i.test(String((err as Error).message))) return;
    throw dockerError(err, "remove the container");
  }
}

/** Applies new limits to a live container (no restart needed). */
export async function updateContainerLimits(
  docker: Docker,
  id: string,
  limits: { memoryMb: number; cpus: number; pidsLimit: number },
): Promise<boolean> {
  const memoryBytes = limits.memoryMb * 1024 * 1024;
  try {
    await docker.getContainer(id).update({
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pidsLimit,
    });
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw dockerError(err, "update the container's limits");
  }
}

function dockerDate(s: string | undefined): Date | null {
  if (!s || s.startsWith("0001-")) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

function describeExit(code: number, oom: boolean, error: string | undefined): string {
  if (oom) return `killed: out of memory (exit code ${code})`;
  if (error) return `exited with code ${code}: ${error}`;
  if (code === 0) return "stopped";
  if (code === 137) return "killed (exit code 137)";
  if (code === 143) return "terminated (exit code 143)";
  return `exited with code ${code}`;
}

export function observeInspect(info: Docker.ContainerInspectInfo): ObservedContainer {
  const s = info.State;
  const known: ObservedState[] = ["created", "running", "restarting", "paused", "exited", "dead", "removing"];
  const state = (known.includes(s.Status as ObservedState) ? s.Status : "unknown") as ObservedState;
  const exited = state === "exited" || state === "dead";
  return {
    id: info.Id,
    agentId: info.Config.Labels?.[LABELS.agentId] ?? null,
    configHash: info.Config.Labels?.[LABELS.configHash] ?? null,
    state,
    exitCode: exited ? s.ExitCode : null,
    oomKilled: s.OOMKilled,
    startedAt: dockerDate(s.StartedAt),
    finishedAt: exited ? dockerDate(s.FinishedAt) : null,
    detail: exited ? describeExit(s.ExitCode, s.OOMKilled, s.Error || undefined) : state === "created" ? "created, not started" : null,
    image: info.Config.Image,
    networks: Object.keys(info.NetworkSettings?.Networks ?? {}),
  };
}

/** The container's current state, or null when it no longer exists. */
export async function inspectContainer(docker: Docker, id: string): Promise<ObservedContainer | null> {
  try {
    return observeInspect(await docker.getContainer(id).inspect());
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw dockerError(err, "inspect the container");
  }
}

/** Every container Armory manages (any state), by id. */
export async function listManagedContainers(docker: Docker): Promise<Map<string, { id: string; agentId: string | null }>> {
  try {
    const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`] } });
    return new Map(list.map((c) => [c.Id, { id: c.Id, agentId: c.Labels[LABELS.agentId] ?? null }]));
  } catch (err) {
    throw dockerError(err, "list containers");
  }
}
