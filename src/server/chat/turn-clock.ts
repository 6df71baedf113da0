// The turn timeout counts only the time a turn works, not the time it waits for a person to
// decide an approval: the clock stops while any approval of the turn is pending and runs again
// (with what is left) once none is.
export class TurnClock {
  private usedMs = 0;
  private since: number;
  private waiting = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly limitMs: number,
    private readonly onTimeout: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.since = this.now();
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.stopped = true;
      this.onTimeout();
    }, Math.max(0, this.limitMs - this.usedMs));
  }

  /** Working time so far (ms), waits excluded. */
  get worked(): number {
    return this.usedMs + (this.waiting ? 0 : this.now() - this.since);
  }

  /** An approval started (true) or stopped (false) waiting. */
  waitingChanged(waiting: boolean): void {
    if (this.stopped) return;
    if (waiting) {
      if (this.waiting++ === 0) {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.usedMs += this.now() - this.since;
      }
    } else if (this.waiting > 0 && --this.waiting === 0) {
      this.since = this.now();
      this.arm();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
