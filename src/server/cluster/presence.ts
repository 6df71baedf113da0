// Who is in the cluster: each instance's row (armory_instance) refreshed every `heartbeatMs`, and
// which instance holds each agent's daemon (daemon_presence). An instance silent for `expireMs`
// counts as gone: its daemons are nobody's, and the leader deletes its rows (expire()). Presence
// changes are announced on the bus channel so other instances update their cache at once; a full
// reload every heartbeat repairs anything a lost notice left behind.
import os from "node:os";
import { randomBytes } from "node:crypto";
import { CLUSTER_CHANNELS, type ClusterInstanceView } from "../../contracts/cluster";
import type { HelloMessage } from "../../contracts/armoryd";
import type { RawSql } from "../db";
import type { Logger } from "../logger";
import type { NotifyChannel } from "./notify-channel";

export interface RemoteDaemon {
  agentId: string;
  instanceId: string;
  daemonId: string;
  hello: HelloMessage;
  connectedAt: Date;
}

export interface PresenceOptions {
  raw: RawSql;
  channel: NotifyChannel;
  log: Logger;
  heartbeatMs?: number;
  expireMs?: number;
}

type PresenceChange = { presence: "up"; daemon: Omit<RemoteDaemon, "connectedAt"> & { connectedAt: string } } | { presence: "down"; agentId: string; instanceId: string };

export class Presence {
  readonly id = `${os.hostname().slice(0, 40)}-${randomBytes(4).toString("hex")}`;
  /** Agents whose daemon is held by another live instance. */
  private readonly remote = new Map<string, RemoteDaemon>();
  private readonly changeListeners = new Set<(d: RemoteDaemon | { agentId: string; gone: true }) => void>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private offBus: (() => void) | null = null;

  constructor(private readonly opts: PresenceOptions) {}

  get heartbeatMs(): number {
    return this.opts.heartbeatMs ?? 2000;
  }
  get expireMs(): number {
    return this.opts.expireMs ?? 10_000;
  }

  async start(): Promise<void> {
    await this.opts.raw.query(`INSERT INTO armory_instance (id, host, pid) VALUES ($1, $2, $3)`, [this.id, os.hostname(), process.pid]);
    this.offBus = this.opts.channel.on(CLUSTER_CHANNELS.bus, (m) => this.onNotice(m));
    await this.reload();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    try {
      const rows = await this.opts.raw.query(`UPDATE armory_instance SET "heartbeatAt" = now() WHERE id = $1 RETURNING id`, [this.id]);
      if (!rows.length && !this.closed) {
        // Expired by the leader while this process stalled: it is back, and so are its daemons.
        this.opts.log.warn("this instance's cluster row had expired; registering again");
        await this.opts.raw.query(`INSERT INTO armory_instance (id, host, pid) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, [this.id, os.hostname(), process.pid]);
        this.rejoin?.();
      }
      await this.reload();
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, "cluster heartbeat failed");
    }
  }

  /** Set by the cluster: re-announces this instance's daemons after its row expired. */
  rejoin: (() => void) | null = null;

  private async reload(): Promise<void> {
    const rows = await this.opts.raw.query<{ agentId: string; instanceId: string; daemonId: string; hello: HelloMessage; connectedAt: Date }>(
      `SELECT p."agentId", p."instanceId", p."daemonId", p.hello, p."connectedAt" FROM daemon_presence p JOIN armory_instance i ON i.id = p."instanceId"
        WHERE p."instanceId" <> $1 AND i."heartbeatAt" > now() - ($2 || ' milliseconds')::interval`,
      [this.id, String(this.expireMs)],
    );
    const seen = new Set<string>();
    for (const r of rows) {
      seen.add(r.agentId);
      const had = this.remote.get(r.agentId);
      if (had?.instanceId === r.instanceId && had.daemonId === r.daemonId) continue;
      const d = { agentId: r.agentId, instanceId: r.instanceId, daemonId: r.daemonId, hello: r.hello, connectedAt: new Date(r.connectedAt) };
      this.remote.set(r.agentId, d);
      this.emit(d);
    }
    for (const agentId of [...this.remote.keys()]) {
      if (seen.has(agentId)) continue;
      this.remote.delete(agentId);
      this.emit({ agentId, gone: true });
    }
  }

  private emit(d: RemoteDaemon | { agentId: string; gone: true }): void {
    for (const l of [...this.changeListeners]) l(d);
  }

  private onNotice(m: unknown): void {
    const c = m as PresenceChange & { from?: string };
    if (!c || typeof c !== "object" || !("presence" in c) || c.from === this.id) return;
    if (c.presence === "up" && c.daemon && c.daemon.instanceId !== this.id) {
      const d = { ...c.daemon, connectedAt: new Date(c.daemon.connectedAt) };
      this.remote.set(d.agentId, d);
      this.emit(d);
    } else if (c.presence === "down" && this.remote.get(c.agentId)?.instanceId === c.instanceId) {
      this.remote.delete(c.agentId);
      this.emit({ agentId: c.agentId, gone: true });
    }
  }

  /** Another live instance holding the agent's daemon, or null. */
  remoteDaemon(agentId: string): RemoteDaemon | null {
    return this.remote.get(agentId) ?? null;
  }

  onChange(listener: (d: RemoteDaemon | { agentId: string; gone: true }) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /**
   * Records that this instance holds the agent's daemon. Returns the instance that held it before
   * when that one is no longer alive (its turns for the agent died with it), else null.
   */
  async daemonUp(agentId: string, daemonId: string, hello: HelloMessage): Promise<string | null> {
    const before = await this.opts.raw.query<{ instanceId: string; alive: boolean }>(
      `SELECT p."instanceId", (i."heartbeatAt" > now() - ($2 || ' milliseconds')::interval) AS alive
         FROM daemon_presence p LEFT JOIN armory_instance i ON i.id = p."instanceId" WHERE p."agentId" = $1`,
      [agentId, String(this.expireMs)],
    );
    await this.opts.raw.query(
      `INSERT INTO daemon_presence ("agentId", "instanceId", "daemonId", hello) VALUES ($1, $2, $3, $4)
       ON CONFLICT ("agentId") DO UPDATE SET "instanceId" = $2, "daemonId" = $3, hello = $4, "connectedAt" = now()`,
      [agentId, this.id, daemonId, JSON.stringify(hello)],
    );
    this.remote.delete(agentId);
    const daemon = { agentId, instanceId: this.id, daemonId, hello, connectedAt: new Date().toISOString() };
    await this.opts.channel.notify(CLUSTER_CHANNELS.bus, { from: this.id, presence: "up", daemon }).catch(() => {});
    const prev = before[0];
    return prev && prev.instanceId !== this.id && !prev.alive ? prev.instanceId : null;
  }

  async daemonDown(agentId: string): Promise<void> {
    await this.opts.raw.query(`DELETE FROM daemon_presence WHERE "agentId" = $1 AND "instanceId" = $2`, [agentId, this.id]);
    await this.opts.channel.notify(CLUSTER_CHANNELS.bus, { from: this.id, presence: "down", agentId, instanceId: this.id }).catch(() => {});
  }

  /**
   * The leader's sweep: deletes instances silent for longer than the expiry (their daemon rows go
   * with them) and returns their ids; also deletes large messages older than a minute.
   */
  async expire(): Promise<{ instances: string[] }> {
    const gone = await this.opts.raw.query<{ id: string }>(
      `SELECT id FROM armory_instance WHERE "heartbeatAt" < now() - ($1 || ' milliseconds')::interval AND id <> $2`,
      [String(this.expireMs), this.id],
    );
    if (!gone.length) {
      await this.opts.raw.query(`DELETE FROM cluster_message WHERE "createdAt" < now() - interval '1 minute'`);
      return { instances: [] };
    }
    const ids = gone.map((g) => g.id);
    await this.opts.raw.query(`DELETE FROM armory_instance WHERE id = ANY($1)`, [ids]);
    this.opts.log.warn({ instances: ids }, "cluster instances stopped answering; their rows were removed");
    return { instances: ids };
  }

  async instances(): Promise<Omit<ClusterInstanceView, "leader" | "self">[]> {
    const rows = await this.opts.raw.query<{ id: string; host: string; pid: number; startedAt: Date; heartbeatAt: Date; daemons: string }>(
      `SELECT i.id, i.host, i.pid, i."startedAt", i."heartbeatAt", count(p."agentId") AS daemons
         FROM armory_instance i LEFT JOIN daemon_presence p ON p."instanceId" = i.id
        WHERE i."heartbeatAt" > now() - ($1 || ' milliseconds')::interval
        GROUP BY i.id ORDER BY i."startedAt"`,
      [String(this.expireMs)],
    );
    return rows.map((r) => ({ id: r.id, host: r.host, pid: r.pid, startedAt: new Date(r.startedAt), heartbeatAt: new Date(r.heartbeatAt), daemons: Number(r.daemons) }));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.offBus?.();
    // Leaving cleanly: this instance's daemons are nobody's now (they reconnect elsewhere).
    await this.opts.raw.query(`DELETE FROM armory_instance WHERE id = $1`, [this.id]).catch(() => {});
  }
}
