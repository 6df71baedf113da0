// Several Armory instances on one PostgreSQL, behind one interface the services use:
//  - leadership: background work that must run once (reconcile, self-heal, retention, schedules)
//    runs on the leader only (leadership.ts);
//  - presence: instances and which one holds each agent's daemon (presence.ts);
//  - routing: commands for an agent whose daemon another instance holds go there (routing.ts);
//  - bridge: chat, status, file and config events reach subscribers on every instance (bridge.ts);
//  - terminal relay: a terminal's output reaches the instance serving it (terminal-relay.ts).
// On embedded PGlite there is one process: `singleCluster` is leader from the start and routes
// nothing (the same interface, no database traffic).
import os from "node:os";
import type { ClusterView, RoutedOperation } from "../../contracts/cluster";
import type { RequestMethod } from "../../contracts/armoryd";
import { DaemonUnavailableError, type DaemonHub, type DaemonInfo, type DaemonStateListener } from "../agentd/hub";
import type { Database } from "../db";
import type { Logger } from "../logger";
import { Bridge, type BridgeOptions } from "./bridge";
import { Leadership } from "./leadership";
import { NotifyChannel } from "./notify-channel";
import { Presence, type RemoteDaemon } from "./presence";
import { Router } from "./routing";
import { TerminalRelay, type RelayListener } from "./terminal-relay";

export interface Cluster {
  mode: ClusterView["mode"];
  /** This instance's id. */
  readonly self: string;
  readonly isLeader: boolean;
  /** Called with true when this instance becomes the leader, false when it stops being it (at once when it already is). */
  onLeadership(listener: (leader: boolean) => void): () => void;
  /**
   * For a chat operation on an agent whose daemon another instance holds: runs it there and
   * returns `{ routed: true, result }`; otherwise `{ routed: false }` (run it here).
   */
  route(op: Exclude<RoutedOperation, "daemon.request" | "terminal.relay">, agentId: string, params: unknown, timeoutMs: number): Promise<{ routed: true; result: unknown } | { routed: false }>;
  /** Serves the chat operations other instances route here. */
  serve(op: Exclude<RoutedOperation, "daemon.request" | "terminal.relay">, handler: (params: unknown) => Promise<unknown>): void;
  /**
   * For a terminal on an agent whose daemon another instance holds: relays its output and exit
   * (or its end) to `listener`, in order; call before term.open. Resolves to the undo.
   */
  watchTerminal(agentId: string, termId: string, listener: RelayListener): Promise<() => void>;
  /** Agents whose turns died with another instance: `recover` ends their runs (set by the services). */
  onOrphans(recover: (agentIds: string[]) => Promise<unknown>): void;
  /** Agents with turns left running whose daemon no live instance holds (their turns died): for start-up recovery. */
  orphanedAgents(): Promise<string[]>;
  /** Called on the leader when it removed instances that stopped answering (their daemons must dial a live one). */
  onInstancesGone(listener: (instanceIds: string[]) => void): void;
  view(): Promise<ClusterView>;
  close(): Promise<void>;
}

export interface ClusterDeps {
  db: Database;
  databaseUrl: string | undefined;
  hub: DaemonHub;
  log: Logger;
  heartbeatMs?: number;
  expireMs?: number;
  leaderPollMs?: number;
}

/** The one-process cluster (PGlite): leader at once, nothing to route or fan out. */
export function singleCluster(hub: DaemonHub): Cluster {
  const self = `${os.hostname().slice(0, 40)}-single`;
  const startedAt = new Date();
  return {
    mode: "single",
    self,
    isLeader: true,
    onLeadership(listener) {
      listener(true);
      return () => {};
    },
    route: async () => ({ routed: false }),
    serve() {},
    // One instance holds every daemon: a terminal never needs relaying.
    watchTerminal: (agentId) => Promise.reject(new DaemonUnavailableError(agentId, "The agent's daemon is not connected: the agent is stopped, starting or unreachable.")),
    onOrphans() {},
    orphanedAgents: async () => [],
    onInstancesGone() {},
    async view() {
      return {
        mode: "single",
        self,
        leader: self,
        instances: [{ id: self, host: os.hostname(), pid: process.pid, startedAt, heartbeatAt: new Date(), leader: true, self: true, daemons: hub.connectedAgents().length }],
      };
    },
    async close() {},
  };
}

function remoteInfo(d: RemoteDaemon): DaemonInfo {
  return {
    agentId: d.agentId,
    state: "connected",
    daemonId: d.daemonId,
    containerId: d.hello.containerId,
    hello: d.hello,
    connectedAt: d.connectedAt,
    disconnectedAt: null,
    closeCode: null,
    report: null,
    lastHeartbeatAt: null,
  };
}

/** The PostgreSQL cluster: starts listening, registers this instance and competes for leadership. */
export async function postgresCluster(deps: ClusterDeps & { bridge: Omit<BridgeOptions, "self" | "channel" | "log"> }): Promise<Cluster> {
  const { db, hub, log } = deps;
  if (!deps.databaseUrl) throw new Error("postgresCluster needs DATABASE_URL");
  const channel = new NotifyChannel({ databaseUrl: deps.databaseUrl, raw: db.raw, log });
  const presence = new Presence({ raw: db.raw, channel, log, heartbeatMs: deps.heartbeatMs, expireMs: deps.expireMs });
  const self = presence.id;
  const leadership = new Leadership({ databaseUrl: deps.databaseUrl, log, pollMs: deps.leaderPollMs, instanceId: self });
  const router = new Router({ self, channel, log });
  const bridge = new Bridge({ ...deps.bridge, self, channel, log });
  const terminals = new TerminalRelay({ self, channel, router, presence, hub, raw: db.raw, log });
  let recoverOrphans: (agentIds: string[]) => Promise<unknown> = async () => {};
  const orphans = (agentIds: string[]) =>
    void recoverOrphans(agentIds).catch((err: unknown) => log.warn({ err: (err as Error).message }, "could not end the turns of a stopped instance"));

  await channel.start();
  await presence.start();
  bridge.start();

  // Daemons of other instances, as the hub sees them.
  hub.useRemote({
    info: (agentId) => {
      const d = presence.remoteDaemon(agentId);
      return d ? remoteInfo(d) : null;
    },
    request: (agentId, method, params, o) => {
      const d = presence.remoteDaemon(agentId);
      if (!d) return Promise.reject(new DaemonUnavailableError(agentId, "The agent's daemon is not connected: the agent is stopped, starting or unreachable."));
      return router.call(d.instanceId, "daemon.request", agentId, params, { method, timeoutMs: o.timeoutMs });
    },
    onState(listener: DaemonStateListener) {
      return presence.onChange((d) => {
        if ("gone" in d) return;
        listener(remoteInfo(d));
      });
    },
  });
  router.handle("daemon.request", async (req) => {
    if (!hub.holds(req.agentId) || !req.method) throw new DaemonUnavailableError(req.agentId, "The agent's daemon is no longer connected to the instance it was routed to; try again.");
    return hub.request(req.agentId, req.method as RequestMethod, req.params as never, { timeoutMs: req.timeoutMs });
  });

  // This instance's daemons, in daemon_presence.
  const announce = (info: DaemonInfo) =>
    presence
      .daemonUp(info.agentId, info.daemonId, info.hello)
      .then((deadHolder) => {
        if (deadHolder) orphans([info.agentId]);
      })
      .catch((err: unknown) => log.warn({ err: (err as Error).message, agentId: info.agentId }, "could not record the daemon's instance"));
  const offState = hub.onState((info) => {
    if (info.state === "connected") void announce(info);
    else if (!hub.holds(info.agentId)) void presence.daemonDown(info.agentId).catch(() => {});
  });
  presence.rejoin = () => {
    for (const agentId of hub.connectedAgents()) {
      const info = hub.info(agentId);
      if (info) void announce(info);
    }
  };

  /** Agents with a running turn whose daemon no other live instance holds (this one ends what it does not run itself). */
  const orphanedAgents = async () => {
    const rows = await db.raw.query<{ agentId: string }>(
      `SELECT DISTINCT r."agentId" FROM chat_run r WHERE r.status = 'running' AND NOT EXISTS (
         SELECT 1 FROM daemon_presence p JOIN armory_instance i ON i.id = p."instanceId"
          WHERE p."agentId" = r."agentId" AND i.id <> $1 AND i."heartbeatAt" > now() - ($2 || ' milliseconds')::interval)`,
      [self, String(presence.expireMs)],
    );
    return rows.map((r) => r.agentId);
  };

  // The leader sweeps instances that stopped answering: their waiting requests fail, their turns end.
  let instancesGone: ((ids: string[]) => void) | null = null;
  let sweeping: NodeJS.Timeout | null = null;
  const sweep = async () => {
    try {
      const gone = await presence.expire();
      for (const id of gone.instances) router.instanceGone(id);
      if (gone.instances.length) instancesGone?.(gone.instances);
      // Their turns died with them: every running turn no live instance can be running (the
      // daemon may already have reconnected here, so presence alone does not tell).
      if (gone.instances.length) orphans(await orphanedAgents());
      bridge.announceEngine();
    } catch (err) {
      log.warn({ err: (err as Error).message }, "cluster sweep failed");
    }
  };
  leadership.onChange((leader) => {
    if (leader) {
      void sweep();
      sweeping = setInterval(() => void sweep(), presence.heartbeatMs);
      sweeping.unref();
    } else if (sweeping) {
      clearInterval(sweeping);
      sweeping = null;
    }
  });
  await leadership.start();

  return {
    mode: "postgres",
    self,
    get isLeader() {
      return leadership.isLeader;
    },
    onLeadership(listener) {
      if (leadership.isLeader) listener(true);
      return leadership.onChange(listener);
    },
    async route(op, agentId, params, timeoutMs) {
      if (hub.holds(agentId)) return { routed: false };
      const d = presence.remoteDaemon(agentId);
      if (!d) return { routed: false };
      return { routed: true, result: await router.call(d.instanceId, op, agentId, params, { timeoutMs }) };
    },
    serve(op, handler) {
      router.handle(op, (req) => handler(req.params));
    },
    watchTerminal: (agentId, termId, listener) => terminals.watch(agentId, termId, listener),
    onOrphans(recover) {
      recoverOrphans = recover;
    },
    orphanedAgents,
    onInstancesGone(listener) {
      instancesGone = listener;
    },
    async view() {
      const [rows, leader] = await Promise.all([presence.instances(), Leadership.holder(db.raw)]);
      return {
        mode: "postgres",
        self,
        leader,
        instances: rows.map((r) => ({ ...r, leader: r.id === leader, self: r.id === self })),
      };
    },
    async close() {
      offState();
      if (sweeping) clearInterval(sweeping);
      bridge.close();
      terminals.close();
      router.close();
      await leadership.close();
      await presence.close();
      await channel.close();
    },
  };
}
