// The engine-neutral shape of an agent's container: its name, labels, environment, volumes, and the
// hardening and limits every engine applies (runtime/docker/containers.ts turns this into a
// container's create call, runtime/swarm/services.ts into a Swarm service spec). One place, so the
// engines cannot drift apart on what an agent is allowed.
import { CLAUDE_CONFIG_DIR, HOME_DIR, WORKSPACE_DIR } from "../../contracts/armoryd";
import type { AgentContainerSpec } from "./port";

export const LABELS = {
  managed: "dev.armory.managed",
  agentId: "dev.armory.agent-id",
  projectId: "dev.armory.project-id",
  template: "dev.armory.template",
  version: "dev.armory.version",
  configHash: "dev.armory.config-hash",
  volumeRole: "dev.armory.volume",
} as const;

export function containerName(agentName: string, agentId: string): string {
  return `armory-${agentName}-${agentId.slice(0, 8)}`;
}

export function agentLabels(spec: Pick<AgentContainerSpec, "agentId" | "projectId" | "templateName" | "version" | "configHash">) {
  return {
    [LABELS.managed]: "true",
    [LABELS.agentId]: spec.agentId,
    [LABELS.projectId]: spec.projectId,
    [LABELS.template]: spec.templateName,
    [LABELS.version]: spec.version,
    [LABELS.configHash]: spec.configHash,
  };
}

/** KEY=value lines; Armory's own env last: an agent's env or secrets cannot point it at another model endpoint. */
export function agentEnv(spec: AgentContainerSpec): string[] {
  return Object.entries({ ...spec.env, ...spec.secretEnv, ...spec.extraEnv }).map(([k, v]) => `${k}=${v}`);
}

/** The agent's named volumes and where they are mounted: what must survive a re-create. */
export function agentVolumeMounts(spec: AgentContainerSpec): { source: string; target: string }[] {
  return [
    { source: spec.workspaceVolume, target: WORKSPACE_DIR },
    { source: spec.sessionVolume, target: CLAUDE_CONFIG_DIR },
    ...(spec.extraVolumes ?? []).map((v) => ({ source: v.name, target: v.mountPath })),
  ];
}

/**
 * Writable places on the read-only root, in memory (and in the memory limit): /tmp and the home
 * directory (~/.claude.json, ~/.gitconfig, caches); /workspace and ~/.claude are volumes mounted
 * over them, so what must survive a re-create does.
 */
export const AGENT_TMPFS_DIRS = ["/tmp", HOME_DIR] as const;

/** What every agent gets, whatever the engine: no capabilities, a read-only root, an init as PID 1. */
export const AGENT_HARDENING = {
  capDrop: ["ALL"],
  readOnlyRoot: true,
  init: true,
  // The project network resolves only its own containers' names; a lookup of anything else fails
  // (no way out), and fails fast instead of after glibc's 20 s of retries.
  dnsOptions: ["timeout:1", "attempts:2"],
  // No IPv6 at all: a listener on [::] must not answer on a link-local address of the host's side.
  sysctls: { "net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1" },
  /** The engine's json-file log rotation. */
  logOptions: { "max-size": "10m", "max-file": "3" },
} as const;

/** The limits in the engines' units. */
export function agentLimits(l: { memoryMb: number; cpus: number; pidsLimit: number }) {
  return { memoryBytes: l.memoryMb * 1024 * 1024, nanoCpus: Math.round(l.cpus * 1e9), pids: l.pidsLimit };
}
