// Counting open subscriptions and live connections per caller against their caps.
/** Open things (subscriptions, live sockets) counted per key against a limit: one process's count. */
export class OpenCounts {
  private readonly open = new Map<string, number>();
  /** Takes one slot under every key, or none when any key is at its limit (returns that key). */
  take(keys: [string, number][]): string | null {
    const full = keys.find(([key, max]) => (this.open.get(key) ?? 0) >= max);
    if (full) return full[0];
    for (const [key] of keys) this.open.set(key, (this.open.get(key) ?? 0) + 1);
    return null;
  }
  release(keys: [string, number][]): void {
    for (const [key] of keys) {
      const n = (this.open.get(key) ?? 1) - 1;
      if (n > 0) this.open.set(key, n);
      else this.open.delete(key);
    }
  }
}
