// The Docker engine connection and the translation of engine errors into clear domain errors.
// All Docker knowledge lives under src/server/docker/.
import Docker from "dockerode";
import { DomainError } from "../domain/errors";
import { metrics } from "../metrics";

export type { Docker };

/** DOCKER_HOST (unix://, tcp://, http(s)://) or the local socket. */
export function createDockerClient(dockerHost = process.env.DOCKER_HOST): Docker {
  if (!dockerHost) return new Docker({ socketPath: "/var/run/docker.sock" });
  if (dockerHost.startsWith("unix://")) return new Docker({ socketPath: dockerHost.slice("unix://".length) });
  const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === "https:" ? "https" : "http" });
}

export function describeEngine(dockerHost = process.env.DOCKER_HOST): string {
  return dockerHost ?? "unix:///var/run/docker.sock";
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

export function engineUnavailable(err?: unknown): DomainError {
  const why = err ? ` (${(err as DockerodeError).code ?? engineMessage(err)})` : "";
  return new DomainError(
    "PRECONDITION_FAILED",
    `The Docker engine is not reachable at ${describeEngine()}${why}. Start Docker (or fix DOCKER_HOST) and try again.`,
  );
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
