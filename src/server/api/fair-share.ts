// Fair share of the server between callers: each caller (a user, or a client address when
// anonymous) runs at most `perCaller` procedure calls at once; its further calls wait in its own
// FIFO queue (at most `maxQueued`, then 429). So one user's 300-call burst occupies a few of the
// database's and engine's slots instead of all of them, and another user's call waits behind a
// handful of calls, not behind hundreds. Subscriptions are not counted (they have their own cap).
export class FairShare {
  private readonly callers = new Map<string, { running: number; queue: (() => void)[] }>();

  constructor(
    readonly perCaller: number,
    readonly maxQueued: number,
  ) {}

  /** Waits for a slot; returns its release, or null when the caller's queue is full. */
  async acquire(caller: string): Promise<(() => void) | null> {
    let c = this.callers.get(caller);
    if (!c) this.callers.set(caller, (c = { running: 0, queue: [] }));
    const entry = c;
    if (entry.running >= this.perCaller) {
      if (entry.queue.length >= this.maxQueued) return null;
      await new Promise<void>((resolve) => entry.queue.push(resolve));
    } else {
      entry.running++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = entry.queue.shift();
      if (next) next(); // the slot passes to the next waiting call
      else if (--entry.running === 0) this.callers.delete(caller);
    };
  }

  /** Calls running for `caller` (for tests). */
  running(caller: string): number {
    return this.callers.get(caller)?.running ?? 0;
  }
}

const KEY = Symbol.for("armory.fairShare");
/** The process's fair-share gate called `name` (created with the first caller's limits). */
export function fairShare(name: string, perCaller: number, maxQueued: number): FairShare {
  const g = globalThis as typeof globalThis & { [KEY]?: Map<string, FairShare> };
  const gates = (g[KEY] ??= new Map());
  const existing = gates.get(name);
  if (existing && existing.perCaller === perCaller && existing.maxQueued === maxQueued) return existing;
  // Other limits (another configuration in the same process, e.g. tests): a new gate; calls
  // holding slots of the old one release them there.
  const gate = new FairShare(perCaller, maxQueued);
  gates.set(name, gate);
  return gate;
}
