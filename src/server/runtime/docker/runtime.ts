// The runtime port on the Docker engine (dockerode): the local socket, or a remote engine through
// DOCKER_HOST (tcp:// with or without TLS, ssh://). The modules beside this one do the work; this
// class is the one way the rest of Armory reaches them.
import type Docker from "dockerode";
import type { Readable } from "node:stream";
import type {
  ArchiveVolume,
  VolumeArchiveReader,
  AgentContainerSpec,
  AgentImageProgress,
  AgentImageStatus,
  AgentRuntime,
  ContainerLimits,
  EngineNode,
  EngineVersion,
  EventsFollower,
  EventsFollowerOptions,
  LocalImageTag,
  LogLine,
  NetworkInfo,
  ObservedContainer,
  ProjectNetworkOptions,
  ProjectNetworks as ProjectNetworksPort,
  ResourceSample,
  StatsStreamHandle,
} from "../port";
import { DomainError } from "../../domain/errors";
import { agentImageStatus, ensureAgentImage } from "./agent-image";
import { createDockerClient, describeEngine, dockerError, engineUnavailable } from "./client";
import {
  createAgentContainer,
  ensureNetwork,
  ensureVolume,
  imageExists,
  inspectContainer,
  LABELS,
  listManagedContainers,
  removeContainer,
  removeVolume,
  restartContainer,
  startContainer,
  stopContainer,
  updateContainerLimits,
} from "./containers";
import { DockerEventsFollower } from "./events";
import type { EngineEndpoint } from "./host";
import { followContainerLogs, sinceAfter, tailContainerLogs } from "./logs";
import { ProjectNetworks } from "./project-network";
import { streamContainerStats } from "./stats";
import { readVolumes, writeVolumes } from "./volume-archive";
import { listRepositoryTags, renameContainer } from "./versions";

export class DockerRuntime implements AgentRuntime {
  /**
   * The dockerode client, for the code that still runs commands and moves archives in containers
   * through the engine (chat, files, config, health probes) until armoryd does that work.
   */
  readonly docker: Docker;

  constructor(docker: Docker) {
    this.docker = docker;
  }

  /** A runtime on the engine `endpoint` names, with at most `maxSockets` ordinary calls at once. */
  static connect(endpoint: EngineEndpoint, maxSockets?: number): DockerRuntime {
    return new DockerRuntime(createDockerClient(endpoint, maxSockets));
  }

  get containerIdIsEngineId(): boolean {
    return true;
  }

  get endpoint(): string {
    return describeEngine(this.docker);
  }

  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw engineUnavailable(err, this.endpoint);
    }
  }

  async version(): Promise<EngineVersion> {
    try {
      const v = await this.docker.version();
      return { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch };
    } catch (err) {
      throw dockerError(err, "ask the engine for its version");
    }
  }

  /** The one engine, as a node holding every agent container. */
  async listNodes(): Promise<EngineNode[]> {
    let info: { ID?: string; Name?: string; NCPU?: number; MemTotal?: number; ServerVersion?: string; Labels?: string[] };
    try {
      info = (await this.docker.info()) as typeof info;
    } catch (err) {
      throw dockerError(err, "ask the engine about itself");
    }
    const containers = await this.listContainers();
    return [
      {
        id: info.ID ?? "engine",
        hostname: info.Name ?? "engine",
        role: "engine",
        state: "ready",
        availability: "active",
        message: null,
        cpus: info.NCPU ?? 0,
        memoryBytes: info.MemTotal ?? 0,
        labels: Object.fromEntries((info.Labels ?? []).map((l) => [l.split("=")[0]!, l.split("=").slice(1).join("=")])),
        engineVersion: info.ServerVersion ?? null,
        agentContainers: [...containers.keys()],
      },
    ];
  }

  async setNodeAvailability(_nodeId: string, _availability: "active" | "drain"): Promise<void> {
    throw new DomainError("PRECONDITION_FAILED", "Armory runs its agents on one Docker engine (ARMORY_RUNTIME=docker): there is no other node to move them to. Drain needs a Docker Swarm (ARMORY_RUNTIME=swarm).");
  }

  get agentsCanMove(): boolean {
    return false;
  }

  createContainer(spec: AgentContainerSpec): Promise<string> {
    return createAgentContainer(this.docker, spec);
  }
  startContainer(id: string): Promise<boolean> {
    return startContainer(this.docker, id);
  }
  stopContainer(id: string, timeoutSeconds: number): Promise<boolean> {
    return stopContainer(this.docker, id, timeoutSeconds);
  }
  restartContainer(id: string, timeoutSeconds: number): Promise<boolean> {
    return restartContainer(this.docker, id, timeoutSeconds);
  }
  removeContainer(id: string): Promise<void> {
    return removeContainer(this.docker, id);
  }
  renameContainer(id: string, name: string): Promise<void> {
    return renameContainer(this.docker, id, name);
  }
  updateContainerLimits(id: string, limits: ContainerLimits): Promise<boolean> {
    return updateContainerLimits(this.docker, id, limits);
  }
  inspectContainer(id: string): Promise<ObservedContainer | null> {
    return inspectContainer(this.docker, id);
  }

  async listContainers(filter: { agentId?: string } = {}): Promise<Map<string, { id: string; agentId: string | null }>> {
    if (!filter.agentId) return listManagedContainers(this.docker);
    try {
      const list = await this.docker.listContainers({ all: true, filters: { label: [`${LABELS.agentId}=${filter.agentId}`] } });
      return new Map(list.map((c) => [c.Id, { id: c.Id, agentId: c.Labels[LABELS.agentId] ?? null }]));
    } catch (err) {
      throw dockerError(err, "list containers");
    }
  }

  followEvents(opts: EventsFollowerOptions): EventsFollower {
    return new DockerEventsFollower(this.docker, opts);
  }
  tailLogs(id: string, lines: number): Promise<LogLine[]> {
    return tailContainerLogs(this.docker, id, lines);
  }
  followLogs(id: string, opts: { tail?: number; since?: string }, signal?: AbortSignal): AsyncGenerator<LogLine> {
    return followContainerLogs(this.docker, id, opts, signal);
  }
  logSinceAfter(rawTime: string): string | undefined {
    return sinceAfter(rawTime);
  }
  streamStats(id: string, onSample: (sample: ResourceSample) => void): Promise<StatsStreamHandle> {
    return streamContainerStats(this.docker, id, onSample);
  }

  ensureNetwork(name: string): Promise<void> {
    return ensureNetwork(this.docker, name);
  }

  async inspectNetwork(name: string): Promise<NetworkInfo> {
    let info: Docker.NetworkInspectInfo;
    try {
      info = (await this.docker.getNetwork(name).inspect()) as Docker.NetworkInspectInfo;
    } catch (err) {
      throw dockerError(err, `inspect network ${name}`);
    }
    const configs = info.IPAM?.Config ?? [];
    return { name: info.Name, gateway: configs.find((c) => c.Gateway)?.Gateway ?? null, subnet: configs.find((c) => c.Subnet)?.Subnet ?? null };
  }

  projectNetworks(opts: ProjectNetworkOptions): ProjectNetworksPort {
    return new ProjectNetworks({ ...opts, docker: this.docker });
  }
  ensureVolume(name: string, labels: Record<string, string>, agentOwned?: { image: string }): Promise<void> {
    return ensureVolume(this.docker, name, labels, agentOwned);
  }
  removeVolume(name: string): Promise<void> {
    return removeVolume(this.docker, name);
  }
  readVolumes(volumes: ArchiveVolume[], image: string): Promise<VolumeArchiveReader> {
    return readVolumes(this.docker, volumes, image);
  }
  writeVolumes(volumes: ArchiveVolume[], image: string, tar: Readable): Promise<void> {
    return writeVolumes(this.docker, volumes, image, tar);
  }

  imageExists(image: string): Promise<boolean> {
    return imageExists(this.docker, image);
  }
  listImageTags(repository: string): Promise<LocalImageTag[]> {
    return listRepositoryTags(this.docker, repository);
  }

  async agentImageStatus(tag: string): Promise<AgentImageStatus> {
    try {
      return await agentImageStatus(this.docker, { tag });
    } catch (err) {
      throw dockerError(err, `inspect image ${tag}`);
    }
  }

  buildAgentImage(tag: string, onProgress?: (p: AgentImageProgress) => void): Promise<string> {
    return ensureAgentImage({ docker: this.docker, tag, onProgress });
  }
}
