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
  private readonly taps = new Set<(sessionId: string, e: ChatEventRecord) => void>();
  /** One writer for all sessions: each batch is one statement, whatever sessions it spans. */
  private queue: (Pending & { sessionId: string })[] = [];
  private writing = false;

  constructor(
    private readonly store: ChatStore,
    private readonly log: Logger,
  ) {}

  /** Persists one event (numbered) and publishes it; resolves once it is stored. */
  emit(sessionId: string, event: NewChatEvent): Promise<ChatEventRecord> {
    return new Promise((resolve, reject) => {
      this.queue.push({ sessionId, event, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, 2000);
        try {
          const records = await this.store.appendMany(batch.map((p) => ({ ...p.event, sessionId: p.sessionId })));
          records.forEach((r, i) => {
            const { sessionId, ...record } = r;
            this.publish(sessionId, record);
            batch[i]!.resolve(record);
          });
        } catch (err) {
          // One bad session (e.g. deleted meanwhile) must not sink the others: retry them one by one.
          if (batch.length > 1) {
            for (const p of batch) {
              try {
                const [r] = await this.store.append(p.sessionId, [p.event]);
                this.publish(p.sessionId, r!);
                p.resolve(r!);
              } catch (e) {
                p.reject(e);
              }
            }
          } else {
            this.log.error({ err, sessionId: batch[0]!.sessionId }, "could not store a chat event");
            batch[0]!.reject(err);
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private publish(sessionId: string, e: ChatEventRecord): void {
    const set = this.listeners.get(sessionId);
    if (set) for (const l of set) l(e);
    for (const t of this.taps) t(sessionId, e);
  }

  /** An event another Armory instance stored (src/server/cluster/bridge.ts): to this instance's subscribers only, not to taps. */
  deliverStored(sessionId: string, e: ChatEventRecord): void {
    const set = this.listeners.get(sessionId);
    if (set) for (const l of set) l(e);
  }

  /** Every stored event of every session, as published (Armory's log lines use it); returns the undo. */
  tap(listener: (sessionId: string, e: ChatEventRecord) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
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
