import { describe, expect, it } from "vitest";
import { TurnClock } from "./turn-clock";

describe("turn clock", () => {
  it("counts only working time: waiting for approvals pauses it", async () => {
    let now = 0;
    let fired = 0;
    const clock = new TurnClock(100, () => fired++, () => now);
    now = 60;
    clock.waitingChanged(true);
    clock.waitingChanged(true); // two approvals at once
    now = 10_000; // a long wait does not count
    clock.waitingChanged(false);
    expect(clock.worked).toBe(60);
    clock.waitingChanged(false);
    now = 10_030;
    expect(clock.worked).toBe(90);
    // The real timer runs with what is left (40 ms of fake time map to 40 ms of real time here).
    await new Promise((r) => setTimeout(r, 80));
    expect(fired).toBe(1);
    clock.stop();
  });

  it("does not fire while waiting, nor after stop()", async () => {
    let fired = 0;
    const waiting = new TurnClock(20, () => fired++);
    waiting.waitingChanged(true);
    const stopped = new TurnClock(20, () => fired++);
    stopped.stop();
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toBe(0);
    waiting.stop();
  });
});
