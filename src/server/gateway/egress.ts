// The egress proxy: the only way an agent reaches anything beyond Armory's model gateway.
//
// Agents sit on an internal project network with no route out (src/server/runtime/docker/project-network.ts);
// their HTTPS_PROXY points at the project's relay, which copies bytes to Armory's gateway listener,
// where HTTP CONNECT requests land here. A tunnel opens only when
//   1. Proxy-Authorization carries the agent's own gateway token (Basic, any user name),
//   2. the host name is on the agent's template egressAllowlist (exact, or `*.example.com` for
//      its subdomains; IP literals never match), and
//   3. every address the name resolves to is public: loopback, private, link-local, Armory's own
//      addresses and the like are refused (ARMORY_EGRESS_ALLOW_PRIVATE=true lifts this for tests
//      and trusted LANs, except Armory's own listeners), and the tunnel connects to the address
//      that was checked (resolved once: no DNS rebinding).
// Everything else gets a clear HTTP status (407, 400, 403, 502) and the socket is closed. The
// default allowlist is empty: no egress at all. Enforced here, outside the agent's container.
import net from "node:net";
import type { Duplex } from "node:stream";
import type http from "node:http";
import type { PrismaClient } from "../db";
import type { Logger } from "../logger";
import { AddressRefused, classifyAddress, resolveGuarded } from "./address-guard";

export interface EgressProxyOptions {
  prisma: PrismaClient;
  log: Logger;
  /** The agent a gateway token belongs to, or null (ModelGateway.verifyToken). */
  verifyToken: (token: string) => Promise<string | null>;
  /** Allow non-public addresses (ARMORY_EGRESS_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Armory's own listening ports: never tunnelled to on a local or loopback address. */
  ownPorts: () => number[];
  /** Connect timeout for the upstream, ms. */
  connectTimeoutMs?: number;
}

const ALLOWLIST_TTL_MS = 5_000;
const HOST_PORT_RE = /^([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*\.?|\[[0-9a-f:.]+\]):(\d{1,5})$/i;

/** True when `host` is on the allowlist: an exact name, or under a `*.suffix` entry (not the bare suffix). */
export function hostAllowed(host: string, allowlist: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (net.isIP(h.replace(/^\[|\]$/g, ""))) return false;
  return allowlist.some((raw) => {
    const entry = raw.toLowerCase();
    if (entry.startsWith("*.")) {
      const suffix = entry.slice(1); // ".example.com"
      return h.endsWith(suffix) && h.length > suffix.length;
    }
    return h === entry;
  });
}

/** The token in a Proxy-Authorization header (Basic user:token, or Bearer token). */
export function proxyToken(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!value) return null;
  if (/^bearer$/i.test(scheme!)) return value;
  if (!/^basic$/i.test(scheme!)) return null;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return decoded || null;
  return decoded.slice(colon + 1) || decoded.slice(0, colon) || null;
}

function reply(socket: Duplex, status: number, reason: string, message: string, extra: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = `${message}\n`;
  const headers = {
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
    connection: "close",
    ...extra,
  };
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n${body}`);
}

export class EgressProxy {
  private allowlists = new Map<string, { hosts: string[]; until: number }>();
  private open = new Set<Duplex>();

  constructor(private readonly opts: EgressProxyOptions) {}

  /** Tunnels currently open (tests, metrics). */
  get openTunnels(): number {
    return this.open.size;
  }

  private async allowlistFor(agentId: string): Promise<string[]> {
    const cached = this.allowlists.get(agentId);
    if (cached && cached.until > Date.now()) return cached.hosts;
    const row = await this.opts.prisma.agent.findUnique({
      where: { id: agentId },
      select: { template: { select: { egressAllowlist: true } } },
    });
    const hosts = row?.template.egressAllowlist ?? [];
    if (this.allowlists.size > 10_000) this.allowlists.clear();
    this.allowlists.set(agentId, { hosts, until: Date.now() + ALLOWLIST_TTL_MS });
    return hosts;
  }

  /** Serves one CONNECT request (the http server's 'connect' event). */
  handle(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    void this.serve(req, socket, head).catch((err: unknown) => {
      this.opts.log.error({ err: (err as Error).message }, "egress proxy request failed");
      reply(socket, 500, "Internal Server Error", "Armory's egress proxy failed on this request.");
    });
  }

  private async serve(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { log } = this.opts;
    const token = proxyToken(req.headers["proxy-authorization"]);
    const agentId = token ? await this.opts.verifyToken(token) : null;
    if (!agentId) {
      return reply(socket, 407, "Proxy Authentication Required", "Armory's egress proxy needs the agent's gateway token.", {
        "proxy-authenticate": 'Basic realm="armory-egress"',
      });
    }
    const m = HOST_PORT_RE.exec(req.url ?? "");
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      return reply(socket, 400, "Bad Request", "CONNECT needs host:port (e.g. api.github.com:443).");
    }
    const host = m[1]!.toLowerCase().replace(/\.$/, "");
    if (!hostAllowed(host, await this.allowlistFor(agentId))) {
      log.warn({ agentId, host, port }, "egress refused: host not on the template's allowlist");
      return reply(socket, 403, "Forbidden", `${host} is not on this agent's egress allowlist (the template's egressAllowlist).`);
    }
    let addresses: { address: string; family: 4 | 6 }[];
    try {
      addresses = await resolveGuarded(host, { allowPrivate: this.opts.allowPrivate });
    } catch (err) {
      if (!(err instanceof AddressRefused)) throw err;
      log.warn({ agentId, host, port, reason: err.reason, address: err.address }, "egress refused: address not allowed");
      return reply(socket, err.reason === "unresolvable" ? 502 : 403, err.reason === "unresolvable" ? "Bad Gateway" : "Forbidden", err.message);
    }
    const target = addresses[0]!;
    // Even with private addresses allowed, never a tunnel back into Armory's own listeners.
    if ((classifyAddress(target.address) === "loopback" || classifyAddress(target.address) === "unspecified") && this.opts.ownPorts().includes(port)) {
      log.warn({ agentId, host, port }, "egress refused: Armory's own listener");
      return reply(socket, 403, "Forbidden", `${host}:${port} is Armory itself, which the egress proxy does not connect to.`);
    }
    if (socket.destroyed) return;
    const upstream = net.connect({ host: target.address, port, family: target.family });
    upstream.setTimeout(this.opts.connectTimeoutMs ?? 10_000);
    const timeout = () => upstream.destroy(new Error("connect timed out"));
    upstream.once("timeout", timeout);
    upstream.once("error", (err) => {
      if (upstream.connecting || !this.open.has(socket)) {
        reply(socket, 502, "Bad Gateway", `Armory's egress proxy could not connect to ${host}:${port} (${err.message}).`);
      } else socket.destroy();
    });
    socket.once("close", () => upstream.destroy());
    upstream.once("connect", () => {
      upstream.off("timeout", timeout);
      upstream.setTimeout(0);
      if (socket.destroyed) return void upstream.destroy();
      this.open.add(socket);
      socket.once("close", () => this.open.delete(socket));
      upstream.once("close", () => socket.destroy());
      log.info({ agentId, host, port }, "egress tunnel opened");
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
  }

  /** Closes every open tunnel (shutdown). */
  closeAll(): void {
    for (const s of this.open) s.destroy();
    this.open.clear();
  }
}
