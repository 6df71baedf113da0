// Push-based sources (listeners, Node streams) as async generators for tRPC subscriptions: a
// queue per subscriber (bounded: the oldest items are dropped for a stalled reader), ended by the
// abort signal or by the source closing. Every bus and follower in Armory uses this one loop.

export interface Pushable<T> {
  push(value: T): void;
  /** Ends the generator after the queued items (e.g. the source is gone). */
  close(): void;
}

export async function* listenerStream<T>(
  register: (sink: Pushable<T>) => () => void,
  signal?: AbortSignal,
  maxQueued = 1000,
): AsyncGenerator<T> {
  const queue: T[] = [];
  let closed = false;
  let notify: (() => void) | null = null;
  const wake = () => {
    const n = notify;
    notify = null;
    n?.();
  };
  const unregister = register({
    push(value) {
      queue.push(value);
      if (queue.length > maxQueued) queue.splice(0, queue.length - maxQueued);
      wake();
    },
    close() {
      closed = true;
      wake();
    },
  });
  signal?.addEventListener("abort", wake);
  try {
    while (!signal?.aborted) {
      if (queue.length) {
        yield queue.shift()!;
        continue;
      }
      if (closed) return;
      await new Promise<void>((resolve) => (notify = resolve));
    }
  } finally {
    unregister();
    signal?.removeEventListener("abort", wake);
  }
}
