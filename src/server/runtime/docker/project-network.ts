// Network isolation of projects. Each project's agents join only their project's own Docker
// network, `armory-p-<project id prefix>`, which is
//   - Internal (no route out through the engine), and
//   - created with com.docker.network.bridge.inhibit_ipv4: the host gets NO address on the
//     bridge, so an agent has no host address to talk to at all: neither the bridge's own nor,
//     through it, any other of the host's (a listener on the host's 0.0.0.0 is out of reach).
// Different projects' networks are different bridges with different subnets and no router
// between them, so agents of one project cannot reach another's, by address or by name (Docker's
// DNS answers only for the container's own networks).
//
// The one way out is the project's relay container, `armory-egress-<project id prefix>`: it sits
// on the project network (alias `armory-gateway`) and on the uplink network (ARMORY_AGENT_NETWORK,
// where Armory's model gateway listens), and copies bytes to the gateway and nothing else
// (docker/agent/armory-relay). The gateway serves the model API and the egress proxy (HTTP
// CONNECT, per-template host allowlist, src/server/gateway/egress.ts), so every byte that leaves a
// project is judged by Armory. The relay is ensured when a project's agent container is created
// and removed when the project has no agents left.
//
// Subnets come from ARMORY_PROJECT_SUBNETS (a /24 per project), not from Docker's small default
// pools (about 30 networks in all). With no host address on these bridges, a subnet that overlaps
// a LAN changes no host route; agents merely cannot reach that LAN (they reach none anyway).
import type Docker from "dockerode";
import { KeyedLock } from "../../agents/keyed-lock";
import { AGENT_USER } from "../../../contracts/armoryd";
import type { ProjectNetworkOptions as PortProjectNetworkOptions, ProjectNetworks as ProjectNetworksPort } from "../port";
import { dockerError, statusOf } from "./client";
import { ensureNetwork, HARDENED_HOST_CONFIG, LABELS } from "./containers";

/** Labels of the per-project objects (no `dev.armory.managed`: they are not agent containers). */
export const NETWORK_LABELS = {
  role: "dev.armory.role",
  projectId: LABELS.projectId,
  /** On the relay: the gateway address it forwards to (a change re-creates the relay). */
  target: "dev.armory.relay-target",
} as const;

export const RELAY_ALIAS = "armory-gateway";
/** How long an ensured network and relay are trusted before the engine is asked again. */
const READY_TTL_MS = 60_000;
/** How old an empty project network must be before the start-up sweep removes it. */
const EMPTY_NETWORK_GRACE_MS = 10 * 60_000;
export const RELAY_PORT = 8080;
const RELAY_BIN = "/usr/local/bin/armory-relay";

export function projectPrefix(projectId: string): string {
  return projectId.replace(/[^0-9a-fA-F]/g, "").slice(0, 12).toLowerCase() || projectId.slice(0, 12);
}
export function projectNetworkName(projectId: string): string {
  return `armory-p-${projectPrefix(projectId)}`;
}
export function relayContainerName(projectId: string): string {
  return `armory-egress-${projectPrefix(projectId)}`;
}

export interface ProjectNetworkOptions extends PortProjectNetworkOptions {
  docker: Docker;
  /**
   * "bridge" (one engine) or "overlay" (a Swarm: an attachable, internal overlay network that spans
   * the nodes; the relay is a container on the manager Armory talks to, attached to it like any other).
   */
  driver?: "bridge" | "overlay";
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** The /24 subnets of `pool` (e.g. 10.200.0.0/14 gives 1024). */
export function poolSubnets(pool: string): string[] {
  const [addr, bits] = pool.split("/");
  const prefix = Number(bits);
  if (!addr || !/^\d+\.\d+\.\d+\.\d+$/.test(addr) || !(prefix >= 8 && prefix <= 24)) throw new Error(`bad subnet pool ${pool}`);
  const size = 2 ** (32 - prefix);
  const base = ipToInt(addr) - (ipToInt(addr) % size);
  const out: string[] = [];
  for (let n = base; n < base + size; n += 256) out.push(`${intToIp(n)}/24`);
  return out;
}

function overlaps(a: string, b: string): boolean {
  const range = (cidr: string): [number, number] | null => {
    const [ip, bits] = cidr.split("/");
    if (!ip || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return null;
    const size = 2 ** (32 - Number(bits ?? 32));
    const start = ipToInt(ip) - (ipToInt(ip) % size);
    return [start, start + size - 1];
  };
  const x = range(a);
  const y = range(b);
  return !!x && !!y && x[0] <= y[1] && y[0] <= x[1];
}

export class ProjectNetworks implements ProjectNetworksPort {
  private readonly lock = new KeyedLock();
  /** Projects whose network and relay were ensured in this process, with the relay's target. */
  private ready = new Map<string, { target: string; until: number }>();

  constructor(private readonly opts: ProjectNetworkOptions) {}

  /**
   * Makes sure the project's network and its relay exist (the relay running and forwarding to the
   * gateway's current address); returns the network's name. Cheap after the first call.
   */
  async ensure(projectId: string): Promise<string> {
    const name = projectNetworkName(projectId);
    const target = await this.opts.relayTarget();
    const targetKey = `${target.host}:${target.port}`;
    const fresh = () => {
      const r = this.ready.get(projectId);
      return !!r && r.target === targetKey && r.until > Date.now();
    };
    if (fresh()) return name;
    return this.lock.run(projectId, async () => {
      if (fresh()) return name;
      await this.ensureNetwork(projectId, name);
      await this.ensureRelay(projectId, name, target);
      // Checked again after a while: a relay stopped or removed behind Armory's back comes back.
      this.ready.set(projectId, { target: targetKey, until: Date.now() + READY_TTL_MS });
      return name;
    });
  }

  /** Forgets what was ensured for the project (its network or relay vanished behind our back). */
  invalidate(projectId: string): void {
    this.ready.delete(projectId);
  }

  /** Removes the project's relay and network (when the project has no agents any more). */
  async release(projectId: string): Promise<void> {
    await this.lock.run(projectId, async () => {
      this.ready.delete(projectId);
      const { docker, log } = this.opts;
      try {
        await docker.getContainer(relayContainerName(projectId)).remove({ force: true });
      } catch (err) {
        if (statusOf(err) !== 404) log.warn({ projectId, err: (err as Error).message }, "could not remove the project's egress relay");
      }
      try {
        await docker.getNetwork(projectNetworkName(projectId)).remove();
      } catch (err) {
        // 403/409: containers still attached (e.g. agents of a deleted project): left for the next sweep.
        if (statusOf(err) !== 404) log.warn({ projectId, err: (err as Error).message }, "could not remove the project's network");
      }
    });
  }

  /**
   * Start-up clean-up: releases the networks and relays of the projects `releasable` picks among
   * those found on the engine (it must pick only projects its own database knows to have no
   * agents: another Armory, e.g. a test run, may share the engine).
   */
  async sweep(releasable: (projectIds: string[]) => Promise<string[]>): Promise<number> {
    let nets: Docker.NetworkInspectInfo[];
    try {
      nets = await this.opts.docker.listNetworks({ filters: { label: [`${NETWORK_LABELS.role}=project-network`] } });
    } catch (err) {
      throw dockerError(err, "list networks");
    }
    const ids = [...new Set(nets.map((n) => n.Labels?.[NETWORK_LABELS.projectId]).filter((x): x is string => !!x))];
    if (!ids.length) return 0;
    const gone = await releasable(ids);
    for (const id of gone) await this.release(id);
    // Whoever owns them: project networks nothing is attached to any more (not even a relay),
    // older than a few minutes (so one being set up right now is never taken away).
    let empty = 0;
    for (const n of nets) {
      const id = n.Labels?.[NETWORK_LABELS.projectId];
      if (!id || gone.includes(id) || Date.now() - new Date(n.Created).getTime() < EMPTY_NETWORK_GRACE_MS) continue;
      try {
        const info = await this.opts.docker.getNetwork(n.Id).inspect();
        if (Object.keys(info.Containers ?? {}).length) continue;
        await this.lock.run(id, async () => {
          this.ready.delete(id);
          await this.opts.docker.getNetwork(n.Id).remove();
        });
        empty++;
      } catch (err) {
        if (statusOf(err) !== 404) this.opts.log.warn({ network: n.Name, err: (err as Error).message }, "could not remove an empty project network");
      }
    }
    return gone.length + empty;
  }

  private async ensureNetwork(projectId: string, name: string): Promise<void> {
    const { docker } = this.opts;
    try {
      await docker.getNetwork(name).inspect();
      return;
    } catch (err) {
      if (statusOf(err) !== 404) throw dockerError(err, `inspect network ${name}`);
    }
    const candidates = poolSubnets(this.opts.subnetPool);
    for (let attempt = 0; attempt < 5; attempt++) {
      let used: string[];
      try {
        used = (await docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "")).filter(Boolean);
      } catch (err) {
        throw dockerError(err, "list networks");
      }
      // Start at a place derived from the project id, so concurrent creators rarely collide.
      const start = parseInt(projectPrefix(projectId).slice(0, 6) || "0", 16) % candidates.length;
      let subnet: string | undefined;
      for (let i = 0; i < candidates.length && !subnet; i++) {
        const c = candidates[(start + i) % candidates.length]!;
        if (!used.some((u) => overlaps(u, c))) subnet = c;
      }
      if (!subnet) {
        throw dockerError(
          { statusCode: 500, message: `no free /24 left in ARMORY_PROJECT_SUBNETS (${this.opts.subnetPool})` },
          `create network ${name}`,
        );
      }
      try {
        const overlay = this.opts.driver === "overlay";
        await docker.createNetwork({
          Name: name,
          Driver: overlay ? "overlay" : "bridge",
          Internal: true,
          CheckDuplicate: true,
          // Overlay: the relay (a plain container) must be able to join it. Its subnet lives in
          // each node's network namespace for the network, not on the host: the host has no address there.
          ...(overlay ? { Attachable: true } : {}),
          IPAM: { Driver: "default", Config: [{ Subnet: subnet }] },
          Options: overlay ? {} : { "com.docker.network.bridge.inhibit_ipv4": "true" },
          Labels: { [NETWORK_LABELS.role]: "project-network", [NETWORK_LABELS.projectId]: projectId },
        });
        return;
      } catch (err) {
        if (statusOf(err) === 409) return; // created meanwhile (another request, another process)
        const msg = (err as Error).message ?? "";
        if (/overlap/i.test(msg)) continue; // someone took that subnet a moment ago: pick again
        throw dockerError(err, `create network ${name}`);
      }
    }
    throw dockerError({ statusCode: 500, message: "no free subnet after 5 attempts" }, `create network ${name}`);
  }

  private async ensureRelay(projectId: string, network: string, target: { host: string; port: number }): Promise<void> {
    const { docker, log } = this.opts;
    const name = relayContainerName(projectId);
    const image = await this.opts.relayImage();
    const targetKey = `${target.host}:${target.port}`;
    let info: Docker.ContainerInspectInfo | null = null;
    try {
      info = await docker.getContainer(name).inspect();
    } catch (err) {
      if (statusOf(err) !== 404) throw dockerError(err, `inspect container ${name}`);
    }
    if (info) {
      const current =
        info.Config.Labels?.[NETWORK_LABELS.target] === targetKey &&
        info.Config.Image === image &&
        !!info.NetworkSettings.Networks?.[network] &&
        !!info.NetworkSettings.Networks?.[this.opts.uplink];
      if (current && info.State.Running) return;
      if (current) {
        try {
          await docker.getContainer(name).start();
          return;
        } catch (err) {
          if (statusOf(err) === 304) return;
          log.warn({ projectId, err: (err as Error).message }, "egress relay would not start; re-creating it");
        }
      }
      try {
        await docker.getContainer(name).remove({ force: true });
      } catch (err) {
        if (statusOf(err) !== 404) throw dockerError(err, `remove container ${name}`);
      }
    }
    let id: string;
    try {
      const c = await docker.createContainer({
        name,
        Image: image,
        User: AGENT_USER,
        Entrypoint: [RELAY_BIN],
        Cmd: [String(RELAY_PORT), target.host, String(target.port)],
        Labels: { [NETWORK_LABELS.role]: "egress-relay", [NETWORK_LABELS.projectId]: projectId, [NETWORK_LABELS.target]: targetKey },
        Hostname: "armory-gateway",
        HostConfig: {
          ...HARDENED_HOST_CONFIG,
          Memory: 64 * 1024 * 1024,
          MemorySwap: 64 * 1024 * 1024,
          NanoCpus: 500_000_000,
          PidsLimit: 16,
          // It relays, it never routes: no IP forwarding between its two networks.
          Sysctls: { "net.ipv4.ip_forward": "0" },
          NetworkMode: network,
          RestartPolicy: { Name: "unless-stopped" },
          LogConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } },
        },
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [RELAY_ALIAS] } } },
      });
      id = c.id;
    } catch (err) {
      if (statusOf(err) === 409) {
        // Created meanwhile by another process: use it as it is.
        return;
      }
      throw dockerError(err, `create the egress relay for project ${projectId}`);
    }
    try {
      await ensureNetwork(docker, this.opts.uplink);
      await docker.getNetwork(this.opts.uplink).connect({ Container: id });
      await docker.getContainer(id).start();
    } catch (err) {
      await docker.getContainer(id).remove({ force: true }).catch(() => {});
      throw dockerError(err, `start the egress relay for project ${projectId}`);
    }
    log.info({ projectId, relay: name, target: targetKey }, "egress relay started");
  }
}
