// The runtime port (port.ts) and the one way to get an implementation (createRuntime). Modules
// outside src/server/runtime/ import from here, never from an engine's directory.
import type { Config } from "../config";
import { createDockerClient } from "./docker/client";
import { DockerRuntime } from "./docker/runtime";
import type { AgentRuntime } from "./port";
import { SwarmRuntime } from "./swarm/runtime";

export type * from "./port";
export { DockerRuntime };
export type { EngineEndpoint } from "./docker/host";
// Engine-neutral parts of the container contract and helpers (uid, gid and paths: src/contracts/armoryd.ts).
export { agentLabels, containerName, LABELS } from "./agent-container";
export { RELAY_ALIAS, RELAY_PORT } from "./docker/project-network";
export { agentImageProgressPrinter, agentImageTag } from "./docker/agent-image";
export { imageRepository } from "./docker/versions";
export { compareRawTime } from "./docker/logs";
export { engineMessage, engineUnavailable, isEngineUnreachable } from "./docker/client";

/**
 * The runtime the configuration names: config.runtime.kind "docker" (one engine) or "swarm" (a
 * Swarm manager), at config.engine (the local socket, tcp:// with or without TLS, or ssh://).
 */
export function createRuntime(config: Pick<Config, "engine" | "limits" | "runtime">): AgentRuntime & DockerRuntime {
  const docker = createDockerClient(config.engine, config.limits.dockerMaxSockets);
  if (config.runtime.kind === "swarm") return new SwarmRuntime(docker, { constraints: config.runtime.constraints });
  return new DockerRuntime(docker);
}
