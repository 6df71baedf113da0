// One model request from the gateway to its upstream (a registered provider or the operator's
// ANTHROPIC_BASE_URL), bounded and pinned:
// - the host is resolved ONCE here and the connection goes to that checked address (the socket's
//   `lookup` answers with it), so DNS cannot rebind between the check and the connection;
// - a provider whose host resolves to a loopback, link-local, unspecified (or multicast/reserved)
//   address, or to one of Armory's own listeners, is refused before connecting, unless the admin
//   registered exactly that address (the base URL's host is that IP literal);
// - redirects are never followed (node:http does not follow; a 3xx becomes a 502);
// - a hop header goes upstream, so a gateway that receives it knows it is being looped;
// - time (connect, total, silence) and response size are bounded; the body streams chunk by chunk.
import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { classifyAddress, localAddresses } from "./address-guard";

/** Sent with every forwarded request; a gateway refuses requests that carry it (no loops). */
export const HOP_HEADER = "x-armory-gateway-hop";

/** Address classes the gateway never connects a provider to (unless registered as that exact IP). */
const REFUSED_CLASSES = new Set(["unspecified", "loopback", "link-local", "multicast", "reserved"]);

export interface Listener {
  address: string;
  port: number;
}

export interface UpstreamPolicy {
  /** The operator's own upstream (ANTHROPIC_BASE_URL): trusted as configured, no address checks. */
  operator: boolean;
  /** Armory's own listeners (its HTTP server, the gateway listener); a wildcard address means every local address. */
  ownListeners: Listener[];
  /** Resolver (tests may pass one); default: the system's, every address. */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
  /** How long resolving may take (part of the connect timeout). */
  resolveTimeoutMs?: number;
}

export class UpstreamRefused extends Error {
  constructor(
    message: string,
    /** A DNS failure that may pass (answered 502, which the CLI retries); else a refusal (403). */
    readonly transient = false,
  ) {
    super(message);
    this.name = "UpstreamRefused";
  }
}

const WILDCARDS = new Set(["0.0.0.0", "::", "::0"]);
const bare = (host: string) => host.replace(/^\[|\]$/g, "").split("%")[0]!.toLowerCase();

/** "::ffff:127.0.0.1" → "127.0.0.1" (the IPv4 address a mapped one stands for). */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address.toLowerCase();
}

function isOwnListener(address: string, port: number, listeners: Listener[]): boolean {
  const a = unmapped(address);
  let locals: Set<string> | null = null;
  for (const l of listeners) {
    if (l.port !== port) continue;
    const la = unmapped(bare(l.address));
    if (la === a) return true;
    if (WILDCARDS.has(la) || la === "localhost") {
      locals ??= new Set([...localAddresses()].map(unmapped));
      if (locals.has(a) || classifyAddress(a) === "loopback" || classifyAddress(a) === "unspecified") return true;
    }
  }
  return false;
}

/**
 * Resolves the upstream's host once and returns the address to connect to, or throws
 * UpstreamRefused saying why (never connecting).
 */
export async function checkedAddress(url: URL, policy: UpstreamPolicy): Promise<{ address: string; family: 4 | 6 }> {
  const host = bare(url.hostname);
  const literal = net.isIP(host);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  let found: { address: string; family: number }[];
  if (literal) found = [{ address: host, family: literal }];
  else {
    let timer: NodeJS.Timeout | undefined;
    try {
      const resolving = (policy.resolve ?? ((h: string) => dnsLookup(h, { all: true, verbatim: true })))(host);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEOUT" })), policy.resolveTimeoutMs ?? 10_000);
      });
      found = await Promise.race([resolving, timeout]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      throw new UpstreamRefused(`the model provider's host ${host} does not resolve (${code})`, code !== "ENOTFOUND");
    } finally {
      clearTimeout(timer);
    }
    if (!found.length) throw new UpstreamRefused(`the model provider's host ${host} does not resolve`);
  }
  if (!policy.operator) {
    for (const { address } of found) {
      // The admin registered exactly this address (an IP literal): that is their decision.
      if (literal) break;
      const cls = classifyAddress(unmapped(address));
      if (cls && REFUSED_CLASSES.has(cls)) {
        throw new UpstreamRefused(
          `the model provider's host ${host} resolves to ${address}, ${/^[aeiou]/.test(cls) ? "an" : "a"} ${cls} address; the gateway connects there only when an instance admin registers that exact address as the provider's base URL (e.g. ${url.protocol}//${address.includes(":") ? `[${address}]` : address}:${port})`,
        );
      }
    }
    for (const { address } of found) {
      if (isOwnListener(address, port, policy.ownListeners) && !literal) {
        throw new UpstreamRefused(`the model provider's host ${host} resolves to one of Armory's own listeners (${address}:${port})`);
      }
    }
  }
  const first = found[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

export interface UpstreamLimits {
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  idleTimeoutMs: number;
  maxResponseBytes: number;
}

export type UpstreamFailure =
  | { kind: "connect-timeout" }
  | { kind: "timeout"; afterHeaders: boolean; idle: boolean }
  | { kind: "too-large"; bytes: number }
  | { kind: "network"; message: string; afterHeaders: boolean }
  | { kind: "aborted" };

export interface UpstreamResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body, chunk by chunk; ends early (with `failure` set) when a bound is crossed. */
  chunks: AsyncIterable<Buffer>;
  /** Why the body ended early, once it did. */
  failure(): UpstreamFailure | null;
  /** Drops the rest of the body and the connection. */
  discard(): void;
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

/**
 * POSTs `body` to `url`, connected to `pinned` (the checked address). Resolves with the status
 * and headers (a redirect is returned as is, never followed); rejects with an UpstreamFailure
 * before headers. `signal` aborts everything (the agent went away).
 */
export function postUpstream(
  url: URL,
  pinned: { address: string; family: 4 | 6 },
  headers: Record<string, string>,
  body: Buffer,
  limits: UpstreamLimits,
  signal: AbortSignal,
): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    let failure: UpstreamFailure | null = null;
    let headersIn = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    let idle: NodeJS.Timeout | null = null;
    const clear = () => {
      timers.forEach(clearTimeout);
      if (idle) clearTimeout(idle);
      signal.removeEventListener("abort", onAbort);
    };
    const fail = (f: UpstreamFailure) => {
      if (failure) return;
      failure = f;
      clear();
      req.destroy();
      if (!settled) {
        settled = true;
        reject(f);
      }
    };
    const onAbort = () => fail({ kind: "aborted" });
    const touch = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => fail({ kind: "timeout", afterHeaders: headersIn, idle: true }), limits.idleTimeoutMs);
    };

    const mod = url.protocol === "https:" ? https : http;
    const req = mod.request({
      protocol: url.protocol,
      hostname: bare(url.hostname),
      port: url.port || (url.protocol === "https:" ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: "POST",
      headers: { ...headers, "content-length": String(body.length), [HOP_HEADER]: "1", "accept-encoding": "identity" },
      agent: url.protocol === "https:" ? agents.https : agents.http,
      // The connection goes to the address that was checked, whatever DNS says now.
      lookup: ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
        if (opts?.all) cb(null, [{ address: pinned.address, family: pinned.family }]);
        else cb(null, pinned.address, pinned.family);
      }) as unknown as net.LookupFunction,
    });
    if (signal.aborted) return fail({ kind: "aborted" });
    signal.addEventListener("abort", onAbort, { once: true });
    timers.push(setTimeout(() => fail({ kind: "timeout", afterHeaders: headersIn, idle: false }), limits.totalTimeoutMs));
    req.on("socket", (socket) => {
      const connecting = (socket as net.Socket).connecting;
      if (!connecting) return touch();
      const t = setTimeout(() => fail({ kind: "connect-timeout" }), limits.connectTimeoutMs);
      timers.push(t);
      socket.once(url.protocol === "https:" ? "secureConnect" : "connect", () => {
        clearTimeout(t);
        touch();
      });
    });
    req.on("error", (err) => fail({ kind: "network", message: (err as NodeJS.ErrnoException).code ?? err.message, afterHeaders: headersIn }));
    req.on("response", (res) => {
      headersIn = true;
      touch();
      let bytes = 0;
      settled = true;
      async function* chunks(): AsyncGenerator<Buffer> {
        try {
          for await (const chunk of res as AsyncIterable<Buffer>) {
            if (failure) return;
            touch();
            bytes += chunk.length;
            if (bytes > limits.maxResponseBytes) {
              fail({ kind: "too-large", bytes });
              return;
            }
            // Silence is the upstream's only while we wait on it, not while the agent reads slowly.
            if (idle) clearTimeout(idle);
            yield chunk;
            touch();
          }
        } catch (err) {
          if (!failure) fail({ kind: "network", message: (err as Error).message, afterHeaders: true });
          return;
        } finally {
          if (!failure) clear();
        }
      }
      resolve({
        status: res.statusCode ?? 502,
        headers: res.headers,
        chunks: chunks(),
        failure: () => failure,
        discard: () => {
          clear();
          res.destroy();
          req.destroy();
        },
      });
    });
    req.end(body);
  });
}
