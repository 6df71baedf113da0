// The Docker engine connection and the translation of engine errors into clear domain errors.
// All Docker knowledge lives under src/server/runtime/docker/.
import http from "node:http";
import https from "node:https";
import { inspect } from "node:util";
import Docker from "dockerode";
import { DomainError } from "../../domain/errors";
import { metrics } from "../../metrics";
import { describeEndpoint, dockerodeOptions, parseEngineEndpoint, type EngineEndpoint } from "./host";

export type { Docker };

/** Sockets Armory opens to the engine at once for ordinary (request/response) calls; more calls queue. */
export const DOCKER_MAX_SOCKETS = 32;

export interface DockerAgents {
  /** Request/response calls (inspect, create, start, stop, list, ...): bounded, kept alive. */
  calls: http.Agent;
  /** Calls whose answer is a stream (events, logs, stats, exec and attach streams, archives, builds): they hold their socket for as long as they live, so they must not take the calls' slots. */
  streams: http.Agent;
}

const agentsOf = new WeakMap<Docker, DockerAgents>();

/** The connection pools of a client made by createDockerClient (for tests and metrics). */
export function dockerAgents(docker: Docker): DockerAgents | undefined {
  return agentsOf.get(docker);
}

interface DialOptions {
  isStream?: boolean;
  hijack?: boolean;
  openStdin?: boolean;
}
interface PooledModem {
  agent?: http.Agent;
  dial(options: DialOptions, callback: unknown): unknown;
}

/** The engine `dockerHost` (or DOCKER_HOST) names, with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH from the environment. */
function endpointOf(dockerHost: string | undefined): EngineEndpoint {
  return parseEngineEndpoint({ DOCKER_HOST: dockerHost, DOCKER_TLS_VERIFY: process.env.DOCKER_TLS_VERIFY, DOCKER_CERT_PATH: process.env.DOCKER_CERT_PATH });
}

/**
 * A client of the engine `target` names (an endpoint, or a DOCKER_HOST string; default: the
 * environment's DOCKER_HOST, else the local socket). Engine calls go through a bounded pool
 * (`maxSockets` at once, the rest queue), so a burst of calls never opens hundreds of sockets
 * (EAGAIN on the engine's socket); streaming calls use a pool of their own, so open streams
 * never starve ordinary calls. (Over ssh:// every call has its own SSH channel; the pools do not apply.)
 */
export function createDockerClient(target: EngineEndpoint | string | undefined = process.env.DOCKER_HOST, maxSockets = DOCKER_MAX_SOCKETS): Docker {
  const endpoint = typeof target === "object" ? target : endpointOf(target);
  const secure = endpoint.kind === "tcp" && !!endpoint.tls;
  const Agent = secure ? https.Agent : http.Agent;
  const agents: DockerAgents = {
    calls: new Agent({ keepAlive: true, maxSockets, maxFreeSockets: Math.min(maxSockets, 8) }),
    streams: new Agent({ keepAlive: false }),
  };
  // docker-modem formats every request's options for its debug log, agent included, whether or not
  // the log is on (util.inspect, every property, no depth limit): with 1,000 open stats streams
  // that walk of the agent's sockets took most of a CPU and starved the daemons' connections.
  for (const a of Object.values(agents)) Object.defineProperty(a, inspect.custom, { value: () => `[${Agent.name}]` });
  const docker = new Docker(dockerodeOptions(endpoint, { SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK }));
  engineOf.set(docker, endpoint);
  if (endpoint.kind === "ssh") return docker;
  // docker-modem reads `modem.agent` synchronously while building each request: pick the pool per call.
  const modem = docker.modem as unknown as PooledModem;
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    modem.agent = options.isStream || options.hijack || options.openStdin ? agents.streams : agents.calls;
    try {
      return dial(options, callback);
    } finally {
      modem.agent = agents.calls;
    }
  };
  modem.agent = agents.calls;
  agentsOf.set(docker, agents);
  return docker;
}

const engineOf = new WeakMap<Docker, EngineEndpoint>();

/** Where the engine is, without credentials: of `docker` (a client made here) or of the environment's DOCKER_HOST. */
export function describeEngine(docker?: Docker): string {
  const known = docker && engineOf.get(docker);
  if (known) return describeEndpoint(known);
  try {
    return describeEndpoint(endpointOf(process.env.DOCKER_HOST));
  } catch {
    return process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  }
}

interface DockerodeError {
  statusCode?: number;
  code?: string;
  reason?: string;
  json?: { message?: string } | null;
  message?: string;
}

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOENT", "EACCES", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "EPIPE"]);

export function isEngineUnreachable(err: unknown): boolean {
  const e = err as DockerodeError | undefined;
  return !!e?.code && UNREACHABLE_CODES.has(e.code);
}

export function engineMessage(err: unknown): string {
  const e = err as DockerodeError | undefined;
  return (e?.json?.message ?? e?.reason ?? e?.message ?? String(err)).trim();
}

export function statusOf(err: unknown): number | undefined {
  return (err as DockerodeError | undefined)?.statusCode;
}

/** `where`: the engine's description (default: the environment's DOCKER_HOST). */
export function engineUnavailable(err?: unknown, where = describeEngine()): DomainError {
  const why = err ? ` (${(err as DockerodeError).code ?? engineMessage(err)})` : "";
  return new DomainError("PRECONDITION_FAILED", `The Docker engine is not reachable at ${where}${why}. Start Docker (or fix DOCKER_HOST) and try again.`);
}

/** Turns an engine failure during `action` into a DomainError with a message a person can act on. */
export function dockerError(err: unknown, action: string): DomainError {
  if (err instanceof DomainError) return err;
  metrics().dockerErrors.inc({ kind: isEngineUnreachable(err) ? "unreachable" : String(statusOf(err) ?? "other") });
  if (isEngineUnreachable(err)) return engineUnavailable(err);
  const status = statusOf(err);
  const msg = engineMessage(err);
  if (status === 404) return new DomainError("NOT_FOUND", `Could not ${action}: ${msg}`);
  if (status === 409) return new DomainError("CONFLICT", `Could not ${action}: ${msg}`);
  if (status === 400) return new DomainError("BAD_REQUEST", `Could not ${action}: ${msg}`);
  return new DomainError("ENGINE_ERROR", `Could not ${action}: the Docker engine said "${msg}"`);
}
