// A hand-driven clock for the scheduler (src/server/schedules/service.ts ScheduleClock): time
// moves only when a test moves it, and the timer fires when time reaches it. No sleeping.
import type { ScheduleClock } from "@/server/schedules/service";

interface Timer {
  at: number;
  fn: () => void;
}

export class ManualScheduleClock implements ScheduleClock {
  private t: number;
  private readonly timers = new Set<Timer>();

  constructor(start: Date) {
    this.t = start.getTime();
  }

  now(): Date {
    return new Date(this.t);
  }

  setTimer(at: Date, fn: () => void): () => void {
    const timer = { at: at.getTime(), fn };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Armed timers' times (what the scheduler waits for). */
  get armed(): Date[] {
    return [...this.timers].map((t) => new Date(t.at)).sort((a, b) => a.getTime() - b.getTime());
  }

  /** Moves time without firing anything (Armory was not running meanwhile). */
  jump(to: Date): void {
    this.t = to.getTime();
  }

  /**
   * Moves time to `to`, firing each timer at its own time, earliest first; after each, `settle`
   * waits for what the timer started (e.g. every instance's `schedules.idle()`).
   */
  async advance(to: Date, settle: () => Promise<unknown>): Promise<void> {
    await settle();
    for (;;) {
      const due = [...this.timers].filter((t) => t.at <= to.getTime()).sort((a, b) => a.at - b.at);
      if (!due.length) break;
      const at = due[0]!.at;
      this.t = Math.max(this.t, at);
      // Every timer due at this instant fires together (several instances armed for one time).
      for (const timer of due.filter((t) => t.at === at)) {
        this.timers.delete(timer);
        timer.fn();
      }
      await settle();
    }
    this.t = Math.max(this.t, to.getTime());
  }
}
