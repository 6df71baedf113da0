// Bus events across instances. Chat: an instance that stores events tells the others which seqs
// of which sessions it stored (per session the range of one batch, several sessions per NOTIFY);
// an instance with subscribers to such a session reads those events from the database and hands
// them to its subscribers, whose streams skip seqs they have and fill gaps from the database, so
// nothing is shown twice or missed. Agent status, file and config events are small: they travel
// whole (superjson, so dates stay dates) to the other instances' subscriptions. Only subscriptions
// get remote events, never in-process listeners (logs, notifications, self-heal act on their own
// instance's events, so each happens once).
import superjson from "superjson";
import { busNotice, chatNotice, CLUSTER_CHANNELS, type BusNotice } from "../../contracts/cluster";
import type { AgentStatusBus } from "../agents/status-bus";
import type { ChatEventBus } from "../chat/bus";
import type { ChatStore } from "../chat/store";
import type { AgentScopedEvent } from "../events/agent-event-bus";
import type { Logger } from "../logger";
import type { NotifyChannel } from "./notify-channel";

/** Sessions per chat notice (each entry is about 60 bytes; a NOTIFY holds 8000). */
const SESSIONS_PER_NOTICE = 100;

/** An AgentEventBus of any event type (method syntax: its event type may be narrower). */
export interface ScopedBus {
  on(listener: (event: AgentScopedEvent) => void): () => void;
  deliverRemote(event: AgentScopedEvent): void;
}

export interface BridgeOptions {
  self: string;
  channel: NotifyChannel;
  log: Logger;
  chat: { bus: ChatEventBus; store: ChatStore };
  status: AgentStatusBus;
  files: ScopedBus;
  reloads: ScopedBus;
}

export class Bridge {
  /** Stored here, not yet announced: per session the seq range. */
  private outgoing = new Map<string, [number, number]>();
  private flushing: NodeJS.Immediate | null = null;
  /** Per session with subscribers here: the last seq handed to them from another instance. */
  private readonly delivered = new Map<string, number>();
  /** Per session: the delivery in progress (deliveries of one session run in order). */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly offs: (() => void)[] = [];
  private prune: NodeJS.Timeout | null = null;

  constructor(private readonly opts: BridgeOptions) {}

  start(): void {
    const { chat, status, files, reloads, channel } = this.opts;
    this.offs.push(
      chat.bus.tap((sessionId, e) => this.stored(sessionId, e.seq)),
      status.watch((event) => this.send("agent", event)),
      files.on((event) => this.send("files", event)),
      reloads.on((event) => this.send("config", event)),
      channel.on(CLUSTER_CHANNELS.chat, (m) => this.onChat(m)),
      channel.on(CLUSTER_CHANNELS.bus, (m) => this.onBus(m)),
      // Notices sent while the LISTEN connection was down are lost: read what came meanwhile.
      channel.onReconnect(() => this.catchUp()),
    );
    this.prune = setInterval(() => {
      for (const s of this.delivered.keys()) if (!chat.bus.subscriberCount(s)) this.delivered.delete(s);
    }, 30_000);
    this.prune.unref();
  }

  /** The engine's state as this instance sees it, to the others (the leader, which follows the engine). */
  announceEngine(): void {
    this.send("agent", { type: "engine", engine: this.opts.status.engineState });
  }

  private stored(sessionId: string, seq: number): void {
    const r = this.outgoing.get(sessionId);
    if (r) r[1] = Math.max(r[1], seq);
    else this.outgoing.set(sessionId, [seq, seq]);
    this.flushing ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushing = null;
    const all = [...this.outgoing].map(([s, [from, to]]) => [s, from, to] as [string, number, number]);
    this.outgoing = new Map();
    for (let i = 0; i < all.length; i += SESSIONS_PER_NOTICE) {
      const sessions = all.slice(i, i + SESSIONS_PER_NOTICE);
      this.opts.channel.notify(CLUSTER_CHANNELS.chat, { from: this.opts.self, sessions }).catch((err: unknown) => {
        // Subscribers elsewhere get these with the next notice of the session (gap fill) or on reconnect.
        this.opts.log.warn({ err: (err as Error).message, sessions: sessions.length }, "could not announce chat events to other instances");
      });
    }
  }

  private onChat(message: unknown): void {
    const n = chatNotice.safeParse(message);
    if (!n.success || n.data.from === this.opts.self) return;
    for (const [sessionId, from, to] of n.data.sessions) {
      if (!this.opts.chat.bus.subscriberCount(sessionId)) {
        this.delivered.delete(sessionId);
        continue;
      }
      this.enqueue(sessionId, async () => {
        const after = this.delivered.get(sessionId) ?? from - 1;
        if (after >= to) return;
        await this.deliver(sessionId, after, to);
      });
    }
  }

  private enqueue(sessionId: string, work: () => Promise<void>): void {
    const next = (this.chains.get(sessionId) ?? Promise.resolve())
      .then(work)
      .catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message, sessionId }, "could not read chat events another instance stored"));
    this.chains.set(sessionId, next);
    void next.finally(() => {
      if (this.chains.get(sessionId) === next) this.chains.delete(sessionId);
    });
  }

  /** Reads the session's events after `after` (up to `to`, or all) and hands them to this instance's subscribers. */
  private async deliver(sessionId: string, after: number, to?: number): Promise<void> {
    for (;;) {
      const limit = to === undefined ? 1000 : Math.min(1000, to - after);
      if (limit <= 0) return;
      const page = await this.opts.chat.store.eventsAfter(sessionId, after, limit, to === undefined ? undefined : to + 1);
      for (const e of page) {
        this.opts.chat.bus.deliverStored(sessionId, e);
        after = e.seq;
      }
      this.delivered.set(sessionId, after);
      if (page.length < limit) return;
    }
  }

  private catchUp(): void {
    for (const [sessionId, after] of this.delivered) {
      if (!this.opts.chat.bus.subscriberCount(sessionId)) continue;
      this.enqueue(sessionId, () => this.deliver(sessionId, this.delivered.get(sessionId) ?? after));
    }
  }

  private send(kind: BusNotice["kind"], event: unknown): void {
    this.opts.channel.notify(CLUSTER_CHANNELS.bus, { from: this.opts.self, kind, event: superjson.serialize(event) }).catch((err: unknown) => {
      this.opts.log.warn({ err: (err as Error).message, kind }, "could not send an event to other instances");
    });
  }

  private onBus(message: unknown): void {
    const n = busNotice.safeParse(message);
    if (!n.success || n.data.from === this.opts.self) return;
    let event: unknown;
    try {
      event = superjson.deserialize(n.data.event as Parameters<typeof superjson.deserialize>[0]);
    } catch {
      return;
    }
    if (n.data.kind === "agent") this.opts.status.deliverRemote(event as Parameters<AgentStatusBus["deliverRemote"]>[0]);
    else if (n.data.kind === "files") this.opts.files.deliverRemote(event as AgentScopedEvent);
    else this.opts.reloads.deliverRemote(event as AgentScopedEvent);
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    if (this.flushing) clearImmediate(this.flushing);
    if (this.prune) clearInterval(this.prune);
  }
}
