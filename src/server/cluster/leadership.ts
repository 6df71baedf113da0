// Leader election among instances sharing one PostgreSQL: a session-level advisory lock held on a
// dedicated connection. Followers try the lock every `pollMs`; the leader checks its connection as
// often. When the leader dies its connection drops, PostgreSQL frees the lock, and the next
// follower's try takes it (within about `pollMs`). A leader that loses its connection steps down
// at once (its background work stops) and competes again only after `rejoinDelayMs` (5 polls), so
// a follower with a healthy connection takes over rather than the instance whose connection failed.
import pg from "pg";
import type { RawSql } from "../db";
import type { Logger } from "../logger";

/** The advisory lock key of Armory's leader (any fixed 64-bit number no other code uses). */
export const LEADER_LOCK_KEY = 0x41524d4f5259n; // "ARMORY"

export interface LeadershipOptions {
  databaseUrl: string;
  log: Logger;
  pollMs?: number;
  key?: bigint;
  /** Set as the connection's application_name, so others can tell who holds the lock (holder()). */
  instanceId?: string;
  /** How long an instance whose connection failed waits before competing again (default 5 × pollMs). */
  rejoinDelayMs?: number;
}

export type LeadershipListener = (leader: boolean) => void;

export class Leadership {
  private client: pg.Client | null = null;
  private leader = false;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  /** No new connection (and so no try for the lock) before this time: set when a connection fails. */
  private rejoinAt = 0;
  private readonly listeners = new Set<LeadershipListener>();

  constructor(private readonly opts: LeadershipOptions) {}

  get isLeader(): boolean {
    return this.leader;
  }

  /** Called with true when this instance becomes leader and false when it stops being one. */
  onChange(listener: LeadershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts competing; resolves after the first try (leader or not). */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.pollMs ?? 1000);
    this.timer.unref();
  }

  private set(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    this.opts.log.info({ leader }, leader ? "this instance is now the cluster leader" : "this instance is no longer the cluster leader");
    for (const l of [...this.listeners]) {
      try {
        l(leader);
      } catch (err) {
        this.opts.log.error({ err }, "leadership listener failed");
      }
    }
  }

  private dropClient(why: string): void {
    const c = this.client;
    this.client = null;
    this.rejoinAt = Date.now() + (this.opts.rejoinDelayMs ?? 5 * (this.opts.pollMs ?? 1000));
    if (c) void c.end().catch(() => {});
    if (this.leader) this.opts.log.warn({ why }, "lost the leader's database connection");
    this.set(false);
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    if (!this.client && Date.now() < this.rejoinAt) return;
    this.ticking = true;
    try {
      if (!this.client) {
        const c = new pg.Client({ connectionString: this.opts.databaseUrl, connectionTimeoutMillis: 5000, keepAlive: true, application_name: this.opts.instanceId });
        c.on("error", (err) => {
          if (this.client === c) this.dropClient(err.message);
        });
        c.on("end", () => {
          if (this.client === c) this.dropClient("connection ended");
        });
        await c.connect();
        if (this.closed) {
          await c.end().catch(() => {});
          return;
        }
        this.client = c;
      }
      const c = this.client;
      if (this.leader) {
        await c.query("SELECT 1");
        return;
      }
      const r = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [(this.opts.key ?? LEADER_LOCK_KEY).toString()]);
      if (this.client === c && r.rows[0]?.ok) this.set(true);
    } catch (err) {
      this.dropClient((err as Error).message);
    } finally {
      this.ticking = false;
    }
  }

  /** The instance holding the leader's lock (its connection's application_name), or null. */
  static async holder(raw: RawSql, key: bigint = LEADER_LOCK_KEY): Promise<string | null> {
    const rows = await raw.query<{ name: string }>(
      `SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [Number(key >> 32n), Number(key & 0xffffffffn)],
    );
    return rows[0]?.name || null;
  }

  /** Steps down (the lock is released with the connection) and stops competing. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const c = this.client;
    this.client = null;
    this.set(false);
    await c?.end().catch(() => {});
  }
}
