// Which network addresses Armory may connect to on an agent's behalf (egress proxy) or a
// template's (model gateway upstream). Standalone: no Armory state, only node:net/dns/os.
//
// classifyAddress names why an address is not public (loopback, private, link-local, ...);
// resolveGuarded resolves a host name ONCE and returns the addresses to connect to, refusing the
// whole name when any address is not allowed: connecting to the returned address (never resolving
// again) leaves no room for DNS rebinding between the check and the connection.
import { lookup } from "node:dns/promises";
import net from "node:net";
import os from "node:os";

export type AddressClass =
  | "unspecified"
  | "loopback"
  | "private"
  | "link-local"
  | "shared" // 100.64.0.0/10, carrier-grade NAT
  | "benchmark" // 198.18.0.0/15
  | "documentation"
  | "multicast"
  | "reserved"
  | "unique-local" // fc00::/7
  | "local-interface"; // an address of this host

function v4ToInt(ip: string): number {
  return ip.split(".").reduce((n, p) => n * 256 + Number(p), 0) >>> 0;
}

const V4_RANGES: [string, number, AddressClass][] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "shared"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "documentation"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmark"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

function classifyV4(ip: string): AddressClass | null {
  const n = v4ToInt(ip);
  for (const [base, bits, cls] of V4_RANGES) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if ((n & mask) >>> 0 === v4ToInt(base)) return cls;
  }
  return null;
}

/** The 8 16-bit groups of an IPv6 address (with an embedded IPv4 tail expanded). */
function v6Groups(ip: string): number[] | null {
  let s = ip.split("%")[0]!.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = v4ToInt(v4[1]!);
    s = s.slice(0, -v4[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(Math.max(0, fill)).fill("0"), ...tail].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : null;
}

function classifyV6(ip: string): AddressClass | null {
  const g = v6Groups(ip);
  if (!g) return "reserved";
  if (g.every((x) => x === 0)) return "unspecified";
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96): judge the IPv4 inside.
  const embedded = (hi: number, lo: number) => `${hi >>> 8}.${hi & 0xff}.${lo >>> 8}.${lo & 0xff}`;
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return classifyV4(embedded(g[6]!, g[7]!)) ?? null;
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyV4(embedded(g[6]!, g[7]!)) ?? null;
  if ((g[0]! & 0xfe00) === 0xfc00) return "unique-local";
  if ((g[0]! & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0]! & 0xffc0) === 0xfec0) return "private"; // site-local (deprecated)
  if ((g[0]! & 0xff00) === 0xff00) return "multicast";
  if (g[0] === 0x2001 && g[1] === 0xdb8) return "documentation";
  if (g[0] === 0x2002) return classifyV4(embedded(g[1]!, g[2]!)); // 6to4 wraps an IPv4 address
  return null;
}

/** Why `ip` is not a public address, or null when it is one. Not an IP address at all: "reserved". */
export function classifyAddress(ip: string): AddressClass | null {
  const kind = net.isIP(ip.split("%")[0]!);
  if (kind === 4) return classifyV4(ip);
  if (kind === 6) return classifyV6(ip);
  return "reserved";
}

/** Every address of this host's interfaces (Armory's own addresses). */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) out.add(a.address.split("%")[0]!.toLowerCase());
  }
  return out;
}

export class AddressRefused extends Error {
  constructor(
    public readonly host: string,
    public readonly address: string | null,
    public readonly reason: AddressClass | "unresolvable",
  ) {
    super(
      reason === "unresolvable"
        ? `${host} does not resolve`
        : `${host} resolves to ${address}, a ${reason} address, which Armory does not connect to`,
    );
    this.name = "AddressRefused";
  }
}

export interface GuardOptions {
  /** Allow loopback, private, link-local and other non-public addresses (tests, trusted LANs). */
  allowPrivate?: boolean;
  /** Addresses refused even when allowPrivate (Armory's own, beyond the host's interfaces). */
  alsoRefuse?: Iterable<string>;
  /** A resolver for tests; default node:dns lookup (all addresses). */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

/**
 * Resolves `host` (a name or an IP literal) and returns its addresses when every one of them is
 * allowed; throws AddressRefused otherwise. Connect to one of the returned addresses only.
 */
export async function resolveGuarded(host: string, opts: GuardOptions = {}): Promise<{ address: string; family: 4 | 6 }[]> {
  const bare = host.replace(/^\[|\]$/g, "");
  let found: { address: string; family: number }[];
  if (net.isIP(bare)) found = [{ address: bare, family: net.isIP(bare) }];
  else {
    try {
      found = await (opts.resolve ?? ((h: string) => lookup(h, { all: true, verbatim: true })))(bare);
    } catch {
      throw new AddressRefused(host, null, "unresolvable");
    }
  }
  if (!found.length) throw new AddressRefused(host, null, "unresolvable");
  const own = localAddresses();
  for (const a of opts.alsoRefuse ?? []) own.add(a.toLowerCase());
  for (const { address } of found) {
    const cls = classifyAddress(address);
    // Armory's own interfaces are refused in every mode except loopback with allowPrivate (tests).
    if (own.has(address.toLowerCase()) && !(opts.allowPrivate && cls === "loopback")) {
      throw new AddressRefused(host, address, "local-interface");
    }
    if (cls && !opts.allowPrivate) throw new AddressRefused(host, address, cls);
  }
  return found.map((f) => ({ address: f.address, family: f.family === 6 ? 6 : 4 }));
}
