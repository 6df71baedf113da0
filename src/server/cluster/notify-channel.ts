// One dedicated PostgreSQL connection doing LISTEN on the cluster's channels
// (src/contracts/cluster.ts), reconnecting with backoff when it drops; NOTIFY goes through the
// shared pool. A message bigger than a NOTIFY payload is stored in cluster_message and the notice
// carries its id. After a reconnect, `onReconnect` listeners catch up on what they may have missed
// (notices sent while nobody listened are lost: PostgreSQL does not queue them).
import pg from "pg";
import { CLUSTER_CHANNELS, NOTIFY_MAX_BYTES, wireNotice, type ClusterChannel } from "../../contracts/cluster";
import type { RawSql } from "../db";
import type { Logger } from "../logger";

export type NoticeListener = (message: unknown) => void;

export interface NotifyChannelOptions {
  databaseUrl: string;
  raw: RawSql;
  log: Logger;
  /** Reconnect backoff bounds (ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class NotifyChannel {
  private client: pg.Client | null = null;
  private readonly listeners = new Map<ClusterChannel, Set<NoticeListener>>();
  private readonly reconnectListeners = new Set<() => void>();
  private closed = false;
  private backoff: number;
  private retry: NodeJS.Timeout | null = null;
  private connectedOnce = false;
  /** Resolves once the first LISTEN is in place. */
  readonly ready: Promise<void>;
  private markReady!: () => void;

  constructor(private readonly opts: NotifyChannelOptions) {
    this.backoff = opts.minBackoffMs ?? 250;
    this.ready = new Promise((r) => (this.markReady = r));
  }

  get listening(): boolean {
    return this.client !== null;
  }

  start(): Promise<void> {
    void this.connect();
    return this.ready;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.opts.databaseUrl, connectionTimeoutMillis: 5000, keepAlive: true });
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = null;
      client.removeAllListeners("notification");
      void client.end().catch(() => {});
      if (this.closed) return;
      this.opts.log.warn({ why }, "cluster notify connection lost; reconnecting");
      this.schedule();
    };
    client.on("error", (err) => lost(err.message));
    client.on("end", () => lost("connection ended"));
    try {
      await client.connect();
      for (const ch of Object.values(CLUSTER_CHANNELS)) await client.query(`LISTEN ${ch}`);
    } catch (err) {
      void client.end().catch(() => {});
      if (!this.closed) {
        this.opts.log.warn({ err: (err as Error).message }, "cluster notify connection failed; retrying");
        this.schedule();
      }
      return;
    }
    if (this.closed) {
      void client.end().catch(() => {});
      return;
    }
    client.on("notification", (n) => void this.receive(n.channel as ClusterChannel, n.payload ?? ""));
    this.client = client;
    this.backoff = this.opts.minBackoffMs ?? 250;
    const again = this.connectedOnce;
    this.connectedOnce = true;
    this.markReady();
    if (again) for (const l of [...this.reconnectListeners]) l();
  }

  private schedule(): void {
    if (this.retry || this.closed) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 5000);
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect();
    }, wait);
    this.retry.unref();
  }

  private async receive(channel: ClusterChannel, payload: string): Promise<void> {
    let message: unknown;
    try {
      const wire = wireNotice.parse(JSON.parse(payload));
      if ("ref" in wire) {
        const rows = await this.opts.raw.query<{ payload: string }>(`SELECT payload FROM cluster_message WHERE id = $1`, [wire.ref]);
        if (!rows[0]) return; // expired before it was read
        message = JSON.parse(rows[0].payload);
      } else message = wire.m;
    } catch (err) {
      this.opts.log.warn({ channel, err: (err as Error).message }, "ignored an unreadable cluster notice");
      return;
    }
    for (const l of [...(this.listeners.get(channel) ?? [])]) {
      try {
        l(message);
      } catch (err) {
        this.opts.log.error({ channel, err }, "cluster notice listener failed");
      }
    }
  }

  /** Every message on `channel` (the caller validates it); returns the undo. */
  on(channel: ClusterChannel, listener: NoticeListener): () => void {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Called after the LISTEN connection came back (notices meanwhile are lost: catch up from the database). */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** Sends `message` to every instance listening on `channel` (this one included). */
  async notify(channel: ClusterChannel, message: unknown): Promise<void> {
    let payload = JSON.stringify({ m: message });
    if (Buffer.byteLength(payload) > NOTIFY_MAX_BYTES) {
      const rows = await this.opts.raw.query<{ id: string }>(
        `INSERT INTO cluster_message (id, payload) VALUES (gen_random_uuid()::text, $1) RETURNING id`,
        [JSON.stringify(message)],
      );
      payload = JSON.stringify({ ref: rows[0]!.id });
    }
    await this.opts.raw.query(`SELECT pg_notify($1, $2)`, [channel, payload]);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    this.markReady();
    await c?.end().catch(() => {});
  }
}
