// Where the Docker engine is: DOCKER_HOST (unix://, tcp:// with or without TLS, ssh://), read the
// way the docker CLI reads it, checked up front so a wrong setting stops the server with a
// sentence that names the variable, and turned into dockerode's connection options.
import { createHmac } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";

export const DEFAULT_SOCKET = "/var/run/docker.sock";
const TLS_FILES = ["ca.pem", "cert.pem", "key.pem"] as const;

export type EngineEndpoint =
  | { kind: "unix"; socketPath: string }
  /** tls: the directory holding ca.pem (the engine's certificate is always verified against it), cert.pem and key.pem. */
  | { kind: "tcp"; host: string; port: number; tls: { certPath: string } | null }
  /** Through `docker system dial-stdio` on the remote host (what the docker CLI does); the host key must be in known_hosts. */
  | { kind: "ssh"; host: string; port: number; username: string };

export interface EngineEnv {
  DOCKER_HOST?: string;
  DOCKER_TLS_VERIFY?: string;
  DOCKER_CERT_PATH?: string;
}

/** A wrong engine setting: which variable, and what is wrong with it. */
export class EngineConfigError extends Error {
  constructor(
    readonly variable: keyof EngineEnv,
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = "EngineConfigError";
  }
}

function flag(v: string | undefined): boolean {
  return !!v && !["0", "false", "no"].includes(v.trim().toLowerCase());
}

/** Reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH; throws EngineConfigError naming the variable that is wrong. */
export function parseEngineEndpoint(env: EngineEnv, opts: { exists?: (file: string) => boolean; home?: string } = {}): EngineEndpoint {
  const exists = opts.exists ?? ((f: string) => fs.existsSync(f));
  const raw = env.DOCKER_HOST?.trim();
  if (!raw) return { kind: "unix", socketPath: DEFAULT_SOCKET };
  if (raw.startsWith("unix://")) {
    const socketPath = raw.slice("unix://".length) || DEFAULT_SOCKET;
    if (!socketPath.startsWith("/")) throw new EngineConfigError("DOCKER_HOST", `must name an absolute socket path, e.g. unix://${DEFAULT_SOCKET}`);
    return { kind: "unix", socketPath };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EngineConfigError("DOCKER_HOST", "must be unix:///path/to/docker.sock, tcp://host:port or ssh://user@host");
  }
  if (!url.hostname) throw new EngineConfigError("DOCKER_HOST", "names no host (e.g. tcp://docker.example:2376)");
  if (url.pathname && url.pathname !== "/") throw new EngineConfigError("DOCKER_HOST", "must not have a path (a path prefix is not supported)");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (url.protocol === "ssh:") {
    if (url.password) throw new EngineConfigError("DOCKER_HOST", "must not carry a password: use an SSH agent (SSH_AUTH_SOCK) or a key in ~/.ssh");
    return { kind: "ssh", host, port: Number(url.port || 22), username: decodeURIComponent(url.username) || os.userInfo().username };
  }
  if (url.protocol !== "tcp:" && url.protocol !== "http:" && url.protocol !== "https:") {
    throw new EngineConfigError("DOCKER_HOST", `scheme ${url.protocol}// is not supported: use unix://, tcp:// or ssh://`);
  }
  if (url.username || url.password) throw new EngineConfigError("DOCKER_HOST", "must not carry credentials: TLS client certificates (DOCKER_CERT_PATH) authenticate tcp://");
  const tls = flag(env.DOCKER_TLS_VERIFY) || !!env.DOCKER_CERT_PATH?.trim() || url.protocol === "https:";
  const port = Number(url.port || (tls ? 2376 : 2375));
  if (!tls) return { kind: "tcp", host, port, tls: null };
  const certPath = env.DOCKER_CERT_PATH?.trim() || path.join(opts.home ?? os.homedir(), ".docker");
  const missing = TLS_FILES.filter((f) => !exists(path.join(certPath, f)));
  if (missing.length) {
    throw new EngineConfigError(
      "DOCKER_CERT_PATH",
      `TLS to ${host}:${port} needs ca.pem, cert.pem and key.pem in ${certPath}; missing: ${missing.join(", ")}` +
        (env.DOCKER_CERT_PATH ? "" : " (DOCKER_CERT_PATH is unset, so ~/.docker was used)"),
    );
  }
  return { kind: "tcp", host, port, tls: { certPath } };
}

/** The endpoint without credentials, for logs and errors. */
export function describeEndpoint(ep: EngineEndpoint): string {
  if (ep.kind === "unix") return `unix://${ep.socketPath}`;
  const host = ep.host.includes(":") ? `[${ep.host}]` : ep.host;
  if (ep.kind === "ssh") return `ssh://${ep.username}@${host}${ep.port === 22 ? "" : `:${ep.port}`}`;
  return `tcp://${host}:${ep.port}${ep.tls ? " (TLS)" : ""}`;
}

// ---- ssh: the engine's host key must be one ~/.ssh/known_hosts lists (ssh2 itself accepts any) ----

/** `host` or `[host]:port` as known_hosts writes it. */
function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function hostPatternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return re.test(name);
}

/**
 * Whether `key` (the host key blob the server presented) is listed for host:port in the text of a
 * known_hosts file (plain or hashed names, wildcards, negations; @revoked entries refuse).
 */
export function knownHostsAccepts(knownHosts: string, host: string, port: number, key: Buffer): boolean {
  const name = knownHostsName(host, port);
  const blob = key.toString("base64");
  let accepted = false;
  for (const line of knownHosts.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith("#")) continue;
    const marker = fields[0].startsWith("@") ? fields.shift() : undefined;
    const [hosts, , keyData] = fields;
    if (!hosts || !keyData) continue;
    const patterns = hosts.split(",");
    if (patterns.some((p) => p.startsWith("!") && hostPatternMatches(p.slice(1), name))) continue;
    if (!patterns.some((p) => !p.startsWith("!") && hostPatternMatches(p, name))) continue;
    if (keyData !== blob) continue;
    if (marker === "@revoked") return false;
    if (marker === undefined) accepted = true;
  }
  return accepted;
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** dockerode's options for the endpoint (TLS files and SSH keys read now). */
export function dockerodeOptions(ep: EngineEndpoint, env: { SSH_AUTH_SOCK?: string; home?: string } = {}): Docker.DockerOptions {
  if (ep.kind === "unix") return { socketPath: ep.socketPath };
  if (ep.kind === "tcp") {
    if (!ep.tls) return { protocol: "http", host: ep.host, port: ep.port };
    const read = (f: string) => fs.readFileSync(path.join(ep.tls!.certPath, f));
    return { protocol: "https", host: ep.host, port: ep.port, ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem") };
  }
  const home = env.home ?? os.homedir();
  const sshDir = path.join(home, ".ssh");
  const known = [path.join(sshDir, "known_hosts"), "/etc/ssh/ssh_known_hosts"].map(readIfExists).filter((t): t is string => !!t).join("\n");
  const privateKey = env.SSH_AUTH_SOCK ? undefined : ["id_ed25519", "id_ecdsa", "id_rsa"].map((k) => readIfExists(path.join(sshDir, k))).find(Boolean);
  return {
    protocol: "ssh",
    host: ep.host,
    port: ep.port,
    username: ep.username,
    sshOptions: {
      agent: env.SSH_AUTH_SOCK,
      privateKey,
      hostVerifier: (key: Buffer) => knownHostsAccepts(known, ep.host, ep.port, key),
    },
  } as Docker.DockerOptions;
}
