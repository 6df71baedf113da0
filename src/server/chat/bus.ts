// Chat event flow: a per-session writer that persists events in order (group commit: whatever
// arrives while a write is in flight goes into the next transaction), then fans them out to the
// session's subscribers. A subscriber first replays from the database after its `afterSeq`, then
// follows live; seqs it already has are skipped and a gap is filled from the database, so a
// stream never shows an event twice or misses one, across reconnects and restarts.
import type { Logger } from "../logger";
import type { ChatEventRecord, ChatStore, NewChatEvent } from "./store";

type Listener = (e: ChatEventRecord) => void;

interface Pending {
  event: NewChatEvent;
  resolve: (r: ChatEventRecord) => void;
  reject: (err: unknown) => void;
}

export class ChatEventBus {
  private listeners = new Map<string, Set<Listener>>();
  private queues = new Map<string, Pending[]>();
  private writing = new Set<string>();

  constructor(
    private readonly store: ChatStore,
    private readonly log: Logger,
  ) {}

  /** Persists one event (numbered) and publishes it; resolves once it is stored. */
  emit(sessionId: string, event: NewChatEvent): Promise<ChatEventRecord> {
    return new Promise((resolve, reject) => {
      let q = this.queues.get(sessionId);
      if (!q) this.queues.set(sessionId, (q = []));
      q.push({ event, resolve, reject });
      if (!this.writing.has(sessionId)) void this.drain(sessionId);
    });
  }

  private async drain(sessionId: string): Promise<void> {
    this.writing.add(sessionId);
    try {
      for (;;) {
        const q = this.queues.get(sessionId);
        if (!q?.length) {
          this.queues.delete(sessionId);
          return;
        }
        const batch = q.splice(0, 500);
        try {
          const records = await this.store.append(
            sessionId,
            batch.map((p) => p.event),
          );
          records.forEach((r, i) => {
            this.publish(sessionId, r);
            batch[i]!.resolve(r);
          });
        } catch (err) {
          this.log.error({ err, sessionId, events: batch.length }, "could not store chat events");
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.writing.delete(sessionId);
    }
  }

  private publish(sessionId: string, e: ChatEventRecord): void {
    const set = this.listeners.get(sessionId);
    if (set) for (const l of set) l(e);
  }

  subscriberCount(sessionId?: string): number {
    if (sessionId) return this.listeners.get(sessionId)?.size ?? 0;
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  /** Replays events after `afterSeq` from the database, then follows live. Ends when `signal` aborts. */
  async *stream(sessionId: string, afterSeq: number, signal?: AbortSignal): AsyncGenerator<ChatEventRecord> {
    const queue: ChatEventRecord[] = [];
    let notify: (() => void) | null = null;
    const listener: Listener = (e) => {
      queue.push(e);
      notify?.();
    };
    let set = this.listeners.get(sessionId);
    if (!set) this.listeners.set(sessionId, (set = new Set()));
    set.add(listener); // before the replay, so nothing published meanwhile is missed
    const onAbort = () => notify?.();
    signal?.addEventListener("abort", onAbort);
    let last = afterSeq;
    try {
      // Replay in pages.
      for (;;) {
        const page = await this.store.eventsAfter(sessionId, last, 1000);
        for (const e of page) {
          if (signal?.aborted) return;
          yield e;
          last = e.seq;
        }
        if (page.length < 1000) break;
      }
      while (!signal?.aborted) {
        const next = queue.shift();
        if (!next) {
          await new Promise<void>((resolve) => (notify = resolve));
          notify = null;
          continue;
        }
        if (next.seq <= last) continue; // already replayed
        if (next.seq > last + 1) {
          // Never skip: fetch what lies between from the database.
          for (const e of await this.store.eventsAfter(sessionId, last, next.seq - last - 1, next.seq)) {
            yield e;
            last = e.seq;
          }
        }
        yield next;
        last = next.seq;
      }
    } finally {
      set.delete(listener);
      if (!set.size) this.listeners.delete(sessionId);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
