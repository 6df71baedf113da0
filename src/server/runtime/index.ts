// The runtime port (port.ts) and the one way to get an implementation (createRuntime). Modules
// outside src/server/runtime/ import from here, never from an engine's directory.
import type { Config } from "../config";
import { DockerRuntime } from "./docker/runtime";
import type { AgentRuntime } from "./port";

export type * from "./port";
export { DockerRuntime };
export type { EngineEndpoint } from "./docker/host";
// Engine-neutral parts of the container contract and helpers (uid, gid and paths: src/contracts/armoryd.ts).
export { agentLabels, containerName, LABELS } from "./docker/containers";
export { RELAY_ALIAS, RELAY_PORT } from "./docker/project-network";
export { agentImageProgressPrinter, agentImageTag } from "./docker/agent-image";
export { imageRepository } from "./docker/versions";
export { compareRawTime } from "./docker/logs";
export { engineMessage, engineUnavailable, isEngineUnreachable } from "./docker/client";

/** The runtime the configuration names (config.engine: the local socket, tcp:// with or without TLS, or ssh://). */
export function createRuntime(config: Pick<Config, "engine" | "limits">): AgentRuntime & DockerRuntime {
  return DockerRuntime.connect(config.engine, config.limits.dockerMaxSockets);
}
