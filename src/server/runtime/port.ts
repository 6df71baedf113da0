// The runtime port: every engine operation Armory needs, named by what it does, with engine-neutral
// types. Services take an `AgentRuntime`; only src/server/runtime/<engine>/ knows the engine
// (today Docker, src/server/runtime/docker/runtime.ts). Failures arrive as DomainErrors with a
// message a person can act on (an unreachable engine is PRECONDITION_FAILED).
import type { Logger } from "../logger";

/** Armory's description of an agent container; the runtime turns it into the engine's create call. */
export interface AgentContainerSpec {
  agentId: string;
  projectId: string;
  agentName: string;
  templateName: string;
  image: string;
  version: string;
  configHash: string;
  env: Record<string, string>;
  /** Env Armory adds on top (model gateway URL and token, secrets); wins over env. */
  extraEnv?: Record<string, string>;
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
  workspaceVolume: string;
  sessionVolume: string;
  extraVolumes?: { name: string; mountPath: string }[];
  network: string;
  /** The template's placement constraints (only a Swarm runtime applies them; one engine has nowhere else to place). */
  placementConstraints?: string[];
  /** Decrypted secrets (src/server/secrets), added to `env` and overriding it; never logged. */
  secretEnv?: Record<string, string>;
  /** Another container name than the agent's own (a safe re-create's new container, until it takes over). */
  name?: string;
}

export type ObservedState = "created" | "running" | "restarting" | "paused" | "exited" | "dead" | "removing" | "missing" | "unknown";

/** What the engine says about a container. */
export interface ObservedContainer {
  id: string;
  agentId: string | null;
  configHash: string | null;
  state: ObservedState;
  exitCode: number | null;
  oomKilled: boolean;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** A sentence about the state ("stopped", "killed: out of memory (exit code 137)", ...), null while running. */
  detail: string | null;
  /** The image the container was created from, as it was named at create time. */
  image: string;
  /** The networks it is attached to (names). */
  networks: string[];
}

export interface ContainerLimits {
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
}

/** A lifecycle event of one of Armory's containers. */
export interface ContainerEvent {
  /** e.g. start, die, stop, kill, oom, destroy, create, pause, unpause, restart, exec_create: … */
  action: string;
  containerId: string;
  agentId: string | null;
  exitCode: number | null;
  time: Date;
}

export interface EventsFollowerOptions {
  log: Logger;
  onEvent(event: ContainerEvent): void;
  /** Called with "up" after (re)connecting and "down" when the engine cannot be reached. */
  onEngineState(state: "up" | "down", message: string | null): void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** One events subscription, reconnecting with back-off until stopped. */
export interface EventsFollower {
  start(): void;
  stop(): void;
  /** Retry now instead of at the end of the current back-off (an operation just reached the engine). */
  nudge(): void;
}

export type OutputStream = "stdout" | "stderr";

/** One line a container wrote. */
export interface LogLine {
  timestamp: Date;
  /** Nanosecond-precise time as the engine wrote it (RFC 3339), for resuming without duplicates. */
  rawTime: string;
  stream: OutputStream;
  message: string;
}

export interface ResourceSample {
  time: Date;
  cpuPercent: number;
  memoryUsageMB: number;
  memoryLimitMB: number;
  networkRxMB: number;
  networkTxMB: number;
  blockReadMB: number;
  blockWriteMB: number;
  pids: number;
}

export interface StatsStreamHandle {
  stop(): void;
  /** Settles when the stream ended (container stopped, engine gone, or stop()); says why. */
  ended: Promise<string>;
}

export interface LocalImageTag {
  image: string;
  tag: string;
  imageId: string;
  createdAt: Date;
  sizeBytes: number;
}

export type AgentImageStatus = "missing" | "stale" | "current";

/** Progress of the default agent image's build. */
export interface AgentImageProgress {
  phase: "base" | "cli" | "daemon" | "image" | "done";
  message: string;
  /** 0-100 within the phase, when known. */
  percent?: number;
  /** Bytes downloaded or sent so far in this phase, when that is what the phase is doing. */
  bytes?: number;
}

export interface NetworkInfo {
  name: string;
  /** The network's gateway address (the first one its address configs name), null when it has none. */
  gateway: string | null;
  subnet: string | null;
}

/** Each project's own internal network and its egress relay (src/server/runtime/docker/project-network.ts). */
export interface ProjectNetworkOptions {
  log: Logger;
  /** The uplink network the relays join (ARMORY_AGENT_NETWORK); Armory's gateway listens on it. */
  uplink: string;
  /** CIDR the per-project /24 subnets are cut from (ARMORY_PROJECT_SUBNETS). */
  subnetPool: string;
  /** The image the relay runs (the default agent image, which carries armory-relay). */
  relayImage: () => Promise<string>;
  /** Where the relay forwards to: the gateway listener as seen from the uplink network. */
  relayTarget: () => Promise<{ host: string; port: number }>;
}

export interface ProjectNetworks {
  /** Makes sure the project's network and relay exist; returns the network's name. */
  ensure(projectId: string): Promise<string>;
  /** Forgets what is known about the project's network (it vanished behind Armory's back). */
  invalidate(projectId: string): void;
  /** Removes the project's relay and network. */
  release(projectId: string): Promise<void>;
  /** Removes networks and relays of projects `releasable` names; returns how many went. */
  sweep(releasable: (projectIds: string[]) => Promise<string[]>): Promise<number>;
}

/** One volume of a volume archive: its entries sit under `root/` (a plain name, e.g. "workspace"). */
export interface ArchiveVolume {
  name: string;
  root: string;
}

/** A tar stream of volumes being read; `close()` releases what the engine needed for it. */
export interface VolumeArchiveReader {
  stream: import("node:stream").Readable;
  /** What every entry name starts with before its root ("snapshot/"): the reader of the stream strips it. */
  prefix: string;
  close(): Promise<void>;
}

export interface EngineVersion {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
}

/** One machine agents run on: a Swarm node, or the one engine. */
export interface EngineNode {
  id: string;
  hostname: string;
  /** "engine": the one Docker engine (not a Swarm). */
  role: "manager" | "worker" | "engine";
  /** The manager's view: "down" when the node's engine does not answer. */
  state: "ready" | "down" | "disconnected" | "unknown";
  /** Whether new work may go there (drain: none, and Swarm moves what it can away). */
  availability: "active" | "pause" | "drain";
  /** Why the node is in its state, when the engine says. */
  message: string | null;
  cpus: number;
  memoryBytes: number;
  labels: Record<string, string>;
  engineVersion: string | null;
  /** Ids (the runtime's container ids) of the agent containers placed there, running or not. */
  agentContainers: string[];
}

export interface AgentRuntime {
  /** Where the engine is, without credentials ("unix:///var/run/docker.sock", "tcp://host:2376 (TLS)", "ssh://user@host"). */
  readonly endpoint: string;
  /**
   * Whether the id this runtime gives an agent's container is the engine container's own id (the
   * one armoryd reports when it dials home): true on one engine, false on Swarm (a service id).
   */
  readonly containerIdIsEngineId: boolean;

  // ---- engine
  /** Throws PRECONDITION_FAILED when the engine cannot be reached. */
  ping(): Promise<void>;
  version(): Promise<EngineVersion>;

  // ---- nodes
  /** The machines agents run on (a one-engine runtime has one). */
  listNodes(): Promise<EngineNode[]>;
  /**
   * Sets a node's availability. On Swarm, drain moves the tasks that may move; agents stay pinned
   * to the node that holds their (local) volumes and wait there. One engine cannot be drained.
   */
  setNodeAvailability(nodeId: string, availability: "active" | "drain"): Promise<void>;
  /** Whether an agent's container can move to another node (its volumes can follow it). */
  readonly agentsCanMove: boolean;

  // ---- containers
  /** Creates the agent's container from Armory's spec; returns its id. */
  createContainer(spec: AgentContainerSpec): Promise<string>;
  /** Starts it; already running is fine. False when the container no longer exists. */
  startContainer(id: string): Promise<boolean>;
  /** Stops it (SIGTERM, then SIGKILL after `timeoutSeconds`); already stopped is fine. False when gone. */
  stopContainer(id: string, timeoutSeconds: number): Promise<boolean>;
  /** False when the container no longer exists. */
  restartContainer(id: string, timeoutSeconds: number): Promise<boolean>;
  /** Force-removes it (keeping its volumes); gone already is fine. */
  removeContainer(id: string): Promise<void>;
  renameContainer(id: string, name: string): Promise<void>;
  /**
   * Engines with their own health-gated rolling update (Swarm) replace an agent's container in
   * place: moves container `id` to `spec`, and the engine rolls it back when the new one does not
   * become healthy within `timeoutMs`. Absent: Armory creates the new container beside the old one.
   */
  updateInPlace?(id: string, spec: AgentContainerSpec, timeoutMs: number): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Applies new limits to a live container (no restart). False when the container no longer exists. */
  updateContainerLimits(id: string, limits: ContainerLimits): Promise<boolean>;
  /** The container's state, or null when it no longer exists. */
  inspectContainer(id: string): Promise<ObservedContainer | null>;
  /** Every container Armory manages (any state), by id; `agentId` narrows to one agent's. */
  listContainers(filter?: { agentId?: string }): Promise<Map<string, { id: string; agentId: string | null }>>;

  // ---- events, logs, stats
  /** Follows lifecycle events of Armory's containers (reconnecting; reports the engine going up and down). */
  followEvents(opts: EventsFollowerOptions): EventsFollower;
  /** The last `lines` lines of the container's output (stdout and stderr interleaved, in order); [] when it is gone. */
  tailLogs(id: string, lines: number): Promise<LogLine[]>;
  /** Follows the container's output until it stops or `signal` aborts: `tail` lines of history first, or everything after `since` (logSinceAfter). */
  followLogs(id: string, opts: { tail?: number; since?: string }, signal?: AbortSignal): AsyncGenerator<LogLine>;
  /** The `since` that means "strictly after this line" (`LogLine.rawTime`). */
  logSinceAfter(rawTime: string): string | undefined;
  /** Follows the container's resource usage (a sample about every second). */
  streamStats(id: string, onSample: (sample: ResourceSample) => void): Promise<StatsStreamHandle>;

  // ---- networks and volumes
  /** Creates the network when missing (the uplink network Armory's gateway listens on). */
  ensureNetwork(name: string): Promise<void>;
  inspectNetwork(name: string): Promise<NetworkInfo>;
  /** Per-project networks and relays. */
  projectNetworks(opts: ProjectNetworkOptions): ProjectNetworks;
  /**
   * Creates a named volume; existing already is fine. `agentOwned`: a volume created now is handed
   * to the agent user (its root is otherwise root's wherever the image lacks the mount path).
   */
  ensureVolume(name: string, labels: Record<string, string>, agentOwned?: { image: string }): Promise<void>;
  /** Removes it; gone already is fine. */
  removeVolume(name: string): Promise<void>;
  /**
   * A tar of the volumes' contents (snapshots), read through a container of `image` that mounts
   * them read-only; the volumes may be in use meanwhile (no point-in-time guarantee).
   */
  readVolumes(volumes: ArchiveVolume[], image: string): Promise<VolumeArchiveReader>;
  /**
   * Empties the volumes and extracts `tar` (entries named `<root>/...`, already checked by the
   * caller) into them, owners and modes as the entries say. The volumes must not be in use.
   */
  writeVolumes(volumes: ArchiveVolume[], image: string, tar: import("node:stream").Readable): Promise<void>;

  // ---- images
  imageExists(image: string): Promise<boolean>;
  /** Every local tag of the repository (`armory-agent` -> armory-agent:2.1.330-r1, ...), newest first. */
  listImageTags(repository: string): Promise<LocalImageTag[]>;
  /** Whether the default agent image `tag` exists and matches Armory's image sources. */
  agentImageStatus(tag: string): Promise<AgentImageStatus>;
  /** Builds the default agent image `tag` when it is missing or stale (concurrent callers share one build); resolves with the tag. */
  buildAgentImage(tag: string, onProgress?: (p: AgentImageProgress) => void): Promise<string>;
}
