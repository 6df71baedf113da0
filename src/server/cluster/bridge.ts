// Bus events across instances. Chat: an instance that stores events tells the others which seqs
// of which sessions it stored (per session the range of one batch, up to 100 sessions per NOTIFY).
// When everything stored meanwhile fits one notice, the events travel in it (no read at all);
// otherwise the notice carries the ranges only and an instance with subscribers to some of those
// sessions reads all their ranges in one query (NOTIFYs are serialized by PostgreSQL: a burst
// costs one notice and one read per 100 sessions, not one per session). Whatever is missing (a
// big event, a notice missed) is read for its session. Its
// subscribers' streams skip seqs they have and fill gaps from the database, so nothing is shown
// twice or missed. Agent status, file and config events are small: they travel
// whole (superjson, so dates stay dates) to the other instances' subscriptions. Only subscriptions
// get remote events, never in-process listeners (logs, notifications, self-heal act on their own
// instance's events, so each happens once).
import superjson from "superjson";
import { busNotice, chatNotice, CLUSTER_CHANNELS, type BusNotice } from "../../contracts/cluster";
import type { AgentStatusBus } from "../agents/status-bus";
import type { ChatEventBus } from "../chat/bus";
import type { ChatEventRecord, ChatStore } from "../chat/store";
import type { AgentScopedEvent } from "../events/agent-event-bus";
import type { Logger } from "../logger";
import type { NotifyChannel } from "./notify-channel";

/** Sessions per chat notice (each entry is about 60 bytes; a NOTIFY holds 8000). */
const SESSIONS_PER_NOTICE = 100;
/** Events travel inline when all of one flush fit this many bytes of JSON (under NOTIFY_MAX_BYTES with the envelope). */
const NOTICE_BUDGET_BYTES = 7000;
/** An event bigger than this (JSON) does not travel inline: the receiver reads it from the database. */
const INLINE_EVENT_MAX_BYTES = 2000;

/** One inline event: session, seq, run, type, data, time (ms). */
type InlineEvent = [string, number, string, string, unknown, number];

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
  /** Stored here, not yet announced: per session the seq range and the events small enough to travel inline. */
  private outgoing = new Map<string, { from: number; to: number; events: InlineEvent[]; bytes: number }>();
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
      chat.bus.tap((sessionId, e) => this.stored(sessionId, e)),
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

  private stored(sessionId: string, e: ChatEventRecord): void {
    let r = this.outgoing.get(sessionId);
    if (!r) this.outgoing.set(sessionId, (r = { from: e.seq, to: e.seq, events: [], bytes: 0 }));
    r.from = Math.min(r.from, e.seq);
    r.to = Math.max(r.to, e.seq);
    const inline: InlineEvent = [sessionId, e.seq, e.runId, e.type, e.data, e.at.getTime()];
    const bytes = JSON.stringify(inline).length;
    if (bytes <= INLINE_EVENT_MAX_BYTES) {
      r.events.push(inline);
      r.bytes += bytes + 1;
    }
    this.flushing ??= setImmediate(() => this.flush());
  }

  /** One notice with the events when everything fits, else notices of ranges only (SESSIONS_PER_NOTICE each). */
  private flush(): void {
    this.flushing = null;
    const all = [...this.outgoing];
    this.outgoing = new Map();
    const send = (sessions: [string, number, number][], events?: InlineEvent[]) => {
      this.opts.channel.notify(CLUSTER_CHANNELS.chat, { from: this.opts.self, sessions, ...(events?.length ? { events } : {}) }).catch((err: unknown) => {
        // Subscribers elsewhere get these with the next notice of the session (gap fill) or on reconnect.
        this.opts.log.warn({ err: (err as Error).message, sessions: sessions.length }, "could not announce chat events to other instances");
      });
    };
    const ranges = all.map(([s, r]) => [s, r.from, r.to] as [string, number, number]);
    const bytes = all.reduce((n, [s, r]) => n + s.length + 30 + r.bytes, 0);
    if (all.length <= SESSIONS_PER_NOTICE && bytes <= NOTICE_BUDGET_BYTES) return send(ranges, all.flatMap(([, r]) => r.events));
    for (let i = 0; i < ranges.length; i += SESSIONS_PER_NOTICE) send(ranges.slice(i, i + SESSIONS_PER_NOTICE));
  }

  private onChat(message: unknown): void {
    const n = chatNotice.safeParse(message);
    if (!n.success || n.data.from === this.opts.self) return;
    const inline = new Map<string, ChatEventRecord[]>();
    for (const [sessionId, seq, runId, type, data, at] of n.data.events ?? []) {
      let list = inline.get(sessionId);
      if (!list) inline.set(sessionId, (list = []));
      list.push({ seq, runId, type, data, at: new Date(at) });
    }
    const wanted = n.data.sessions.filter(([sessionId]) => {
      if (this.opts.chat.bus.subscriberCount(sessionId)) return true;
      this.delivered.delete(sessionId);
      return false;
    });
    // The ranges whose events did not travel inline: one read for all of them (started now; each
    // session's delivery below still runs in its order).
    const unread = wanted.filter(([sessionId]) => !inline.has(sessionId));
    const read = unread.length
      ? this.opts.chat.store
          .eventsInRanges(unread.map(([sessionId, from, to]) => ({ sessionId, after: from - 1, to })))
          .then((rows) => {
            const by = new Map<string, ChatEventRecord[]>();
            for (const { sessionId, ...e } of rows) {
              let list = by.get(sessionId);
              if (!list) by.set(sessionId, (list = []));
              list.push(e);
            }
            return by;
          })
          .catch((err: unknown) => {
            this.opts.log.warn({ err: (err as Error).message, sessions: unread.length }, "could not read chat events another instance stored; reading them per session");
            return null;
          })
      : null;
    for (const [sessionId, from, to] of wanted) {
      this.enqueue(sessionId, async () => {
        let after = this.delivered.get(sessionId) ?? from - 1;
        if (after >= to) return;
        const carried = inline.get(sessionId)?.sort((x, y) => x.seq - y.seq) ?? (await read)?.get(sessionId) ?? [];
        for (const e of carried) {
          if (e.seq <= after) continue;
          // A seq that did not travel inline (too big): read it, and anything else missing, first.
          if (e.seq > after + 1) after = await this.deliver(sessionId, after, e.seq - 1);
          if (e.seq <= after) continue;
          this.opts.chat.bus.deliverStored(sessionId, e);
          after = e.seq;
          this.delivered.set(sessionId, after);
        }
        if (after < to) await this.deliver(sessionId, after, to);
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

  /** Reads the session's events after `after` (up to `to`, or all), hands them to this instance's subscribers and returns the last seq handed. */
  private async deliver(sessionId: string, after: number, to?: number): Promise<number> {
    for (;;) {
      const limit = to === undefined ? 1000 : Math.min(1000, to - after);
      if (limit <= 0) return after;
      const page = await this.opts.chat.store.eventsAfter(sessionId, after, limit, to === undefined ? undefined : to + 1);
      for (const e of page) {
        this.opts.chat.bus.deliverStored(sessionId, e);
        after = e.seq;
      }
      this.delivered.set(sessionId, after);
      if (page.length < limit) return after;
    }
  }

  private catchUp(): void {
    for (const [sessionId, after] of this.delivered) {
      if (!this.opts.chat.bus.subscriberCount(sessionId)) continue;
      this.enqueue(sessionId, async () => void (await this.deliver(sessionId, this.delivered.get(sessionId) ?? after)));
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
