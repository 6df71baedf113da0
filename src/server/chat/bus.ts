// Chat event flow: one writer that persists events in order (group commit: whatever arrives while
// a write is in flight goes into the next transaction) and fans them out to the session's
// subscribers. Outside a turn the database numbers each event and it is delivered once stored.
// While this instance runs a session's turn (claim .. release) the bus numbers the session's
// events itself and delivers each AT ONCE, before its write: the live path never waits for the
// group commit; the event stays in `unstored` until its write commits. A subscriber first replays
// from the database after its `afterSeq`, then what is delivered but not yet stored, then follows
// live; seqs it already has are skipped and a gap is filled from the database, so a stream never
// shows an event twice or misses one, across reconnects and restarts. Taps (the cluster bridge,
// log lines) hear an event only once it is stored. Events already delivered wait up to
// `writeDelayMs` for their write, so a busy turn's events go in a few statements a second instead
// of one per event (each statement costs PostgreSQL and the server far more than a row); an event
// a subscriber still waits for (numbered by the database) starts the write at once.
import type { Logger } from "../logger";
import type { ChatEventRecord, ChatStore, NewChatEvent } from "./store";

type Listener = (e: ChatEventRecord) => void;

interface Pending {
  event: NewChatEvent;
  /** Set when the bus numbered (and delivered) the event itself. */
  record?: ChatEventRecord;
  resolve: (r: ChatEventRecord) => void;
  reject: (err: unknown) => void;
}

function toRow(p: Pending & { sessionId: string }) {
  return p.record ? { ...p.event, sessionId: p.sessionId, seq: p.record.seq, at: p.record.at } : { ...p.event, sessionId: p.sessionId };
}

/**
 * A turn's writes: how many of its events (and other writes) are not stored yet, and a promise for
 * when none is. A turn emits hundreds of events a second; counting them costs no promise per event.
 */
export class PendingWrites {
  private pending = 0;
  private waiters: (() => void)[] = [];
  /** One more write; call the returned function once it is stored (or failed). */
  add(): () => void {
    this.pending++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.pending === 0) for (const w of this.waiters.splice(0)) w();
    };
  }
  /** Counts a write that is a promise. */
  track(p: Promise<unknown>): void {
    const done = this.add();
    p.then(done, done);
  }
  /** Resolves once every write added so far has ended. */
  settled(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

/** How long delivered events may wait for their write, to be stored with the ones that follow. */
export const WRITE_DELAY_MS = 15;
/** The most events one statement stores. */
const WRITE_BATCH = 2000;

export class ChatEventBus {
  private listeners = new Map<string, Set<Listener>>();
  private readonly taps = new Set<(sessionId: string, e: ChatEventRecord) => void>();
  /** One writer for all sessions: each batch is one statement, whatever sessions it spans. */
  private queue: (Pending & { sessionId: string })[] = [];
  private writing = false;
  /** Sessions whose turn runs here: their events are numbered by the bus once `next` is known. */
  private readonly claimed = new Set<string>();
  /** The last seq the bus gave out per claimed session (unset until the session's stored seq is known). */
  private readonly next = new Map<string, number>();
  /** Per session: events delivered but not stored yet, in seq order. */
  private readonly unstored = new Map<string, ChatEventRecord[]>();

  /** Queued events no subscriber has seen yet (numbered by the database): they are written at once. */
  private waitingForWrite = 0;
  private writeTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: ChatStore,
    private readonly log: Logger,
    private readonly writeDelayMs = WRITE_DELAY_MS,
  ) {}

  /**
   * Persists one event (numbered) and publishes it; resolves once it is stored. In a claimed
   * session it is numbered and delivered at once, before the write.
   */
  emit(sessionId: string, event: NewChatEvent): Promise<ChatEventRecord> {
    return new Promise((resolve, reject) => this.enqueue(sessionId, event, resolve, reject));
  }

  /** emit() for a turn's events: counted in `writes` (stored or failed) instead of a promise each. */
  emitCounted(sessionId: string, event: NewChatEvent, writes: PendingWrites): void {
    const done = writes.add();
    this.enqueue(sessionId, event, done, done);
  }

  private enqueue(sessionId: string, event: NewChatEvent, resolve: (r: ChatEventRecord) => void, reject: (err: unknown) => void): void {
    const last = this.next.get(sessionId);
    if (last === undefined) {
      this.queue.push({ sessionId, event, resolve, reject });
      this.waitingForWrite++;
    } else {
      const record: ChatEventRecord = { seq: last + 1, runId: event.runId, type: event.type, data: event.data ?? null, at: new Date() };
      this.next.set(sessionId, record.seq);
      let pending = this.unstored.get(sessionId);
      if (!pending) this.unstored.set(sessionId, (pending = []));
      pending.push(record);
      this.queue.push({ sessionId, event, record, resolve, reject });
      this.deliver(sessionId, record);
    }
    this.scheduleWrite();
  }

  /** Writes now when a subscriber waits for a queued event or the batch is full, else within writeDelayMs. */
  private scheduleWrite(): void {
    if (this.writing || !this.queue.length) return;
    if (this.waitingForWrite > 0 || this.queue.length >= WRITE_BATCH || this.writeDelayMs <= 0) {
      if (this.writeTimer) clearTimeout(this.writeTimer);
      this.writeTimer = null;
      void this.drain();
      return;
    }
    this.writeTimer ??= setTimeout(() => {
      this.writeTimer = null;
      void this.drain();
    }, this.writeDelayMs);
  }

  /** Writes whatever is queued now and resolves once it is stored (shutting down). */
  async flush(): Promise<void> {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    while (this.draining || this.queue.length) {
      if (this.draining) await this.draining;
      else await this.drain(true);
    }
  }

  /**
   * This instance runs a turn in the session (one instance at a time: the running run guards it):
   * from the next stored event on, the bus numbers the session's events and delivers them before
   * their write.
   */
  claim(sessionId: string): void {
    this.claimed.add(sessionId);
  }

  /** The turn is over: the session's later events are numbered by the database again. */
  release(sessionId: string): void {
    this.claimed.delete(sessionId);
    this.next.delete(sessionId);
  }

  private draining: Promise<void> | null = null;

  private drain(all = false): Promise<void> {
    this.draining = this.write(all).finally(() => (this.draining = null));
    return this.draining;
  }

  /** Stores the queue in batches; stops early (all: never) when what is left was delivered already. */
  private async write(all: boolean): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, WRITE_BATCH);
        for (const p of batch) if (!p.record) this.waitingForWrite--;
        try {
          const records = await this.store.appendMany(batch.map(toRow));
          records.forEach((r, i) => this.stored(batch[i]!, r));
        } catch (err) {
          // One bad session (e.g. deleted meanwhile) must not sink the others: retry them one by one.
          for (const p of batch) {
            try {
              if (batch.length === 1) throw err;
              const [r] = await this.store.appendMany([toRow(p)]);
              this.stored(p, r!);
            } catch (e) {
              if (batch.length === 1) this.log.error({ err, sessionId: p.sessionId }, "could not store a chat event");
              // Delivered live but not stored: history will not have it (its seq stays used).
              if (p.record) this.dropUnstored(p.sessionId, p.record);
              p.reject(e);
            }
          }
        }
        this.startNumbering();
        // What queued meanwhile was delivered already: it may wait for more.
        if (!all && !this.waitingForWrite && this.queue.length < WRITE_BATCH && this.writeDelayMs > 0) break;
      }
    } finally {
      this.writing = false;
      this.scheduleWrite();
    }
  }

  /** A write committed: deliver it (if the database numbered it), tell the taps, resolve. */
  private stored(p: Pending & { sessionId: string }, r: ChatEventRecord & { sessionId: string }): void {
    const { sessionId, ...record } = r;
    if (p.record) this.dropUnstored(sessionId, p.record);
    else {
      this.deliver(sessionId, record);
      if (this.claimed.has(sessionId) && !this.next.has(sessionId)) this.storedSeq.set(sessionId, record.seq);
    }
    for (const t of this.taps) t(sessionId, record);
    p.resolve(p.record ?? record);
  }

  /** The newest seq the database gave a claimed session's event (until the bus numbers it). */
  private readonly storedSeq = new Map<string, number>();

  /** A claimed session whose stored seq is known and that has no database-numbered event waiting: the bus numbers from here on. */
  private startNumbering(): void {
    if (!this.storedSeq.size) return;
    const waiting = new Set<string>();
    for (const p of this.queue) if (!p.record) waiting.add(p.sessionId);
    for (const [sessionId, seq] of this.storedSeq) {
      if (waiting.has(sessionId)) continue;
      this.storedSeq.delete(sessionId);
      if (this.claimed.has(sessionId) && !this.next.has(sessionId)) this.next.set(sessionId, seq);
    }
  }

  private dropUnstored(sessionId: string, record: ChatEventRecord): void {
    const pending = this.unstored.get(sessionId);
    if (!pending) return;
    const i = pending.indexOf(record);
    if (i >= 0) pending.splice(i, 1);
    if (!pending.length) this.unstored.delete(sessionId);
  }

  private deliver(sessionId: string, e: ChatEventRecord): void {
    const set = this.listeners.get(sessionId);
    if (set) for (const l of set) l(e);
  }

  /** An event another Armory instance stored (src/server/cluster/bridge.ts): to this instance's subscribers only, not to taps. */
  deliverStored(sessionId: string, e: ChatEventRecord): void {
    const set = this.listeners.get(sessionId);
    if (set) for (const l of set) l(e);
  }

  /** Every stored event of every session, once stored (Armory's log lines and the cluster bridge use it); returns the undo. */
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
    // Delivered before the listener but not stored yet: after the database's replay (an event
    // stored meanwhile is in both: its seq is skipped the second time).
    const delivered = [...(this.unstored.get(sessionId) ?? [])];
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
      for (const e of delivered) {
        if (signal?.aborted) return;
        if (e.seq <= last) continue;
        yield e;
        last = e.seq;
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
