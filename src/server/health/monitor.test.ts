import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_SELF_HEAL } from "./monitor";

describe("self-heal back-off", () => {
  it("doubles from the base and stops at the cap", () => {
    const s = { backoffBaseMs: 1000, backoffMaxMs: 60_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, s))).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    expect(backoffDelay(1000, s)).toBe(60_000);
  });

  it("has defaults that give up before the back-off reaches the cap", () => {
    expect(DEFAULT_SELF_HEAL.crashLoopAfter).toBeLessThan(DEFAULT_SELF_HEAL.maxRestarts);
    // The default schedule, restart by restart (no jitter): 1 s, 2 s, 4 s, 8 s, 16 s, then Armory gives up.
    const schedule = Array.from({ length: DEFAULT_SELF_HEAL.maxRestarts }, (_, n) => backoffDelay(n, DEFAULT_SELF_HEAL));
    expect(schedule).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(schedule.at(-1)).toBeLessThan(DEFAULT_SELF_HEAL.backoffMaxMs);
    // Deterministic: the same attempt always waits the same time.
    expect(backoffDelay(3, DEFAULT_SELF_HEAL)).toBe(backoffDelay(3, DEFAULT_SELF_HEAL));
  });
});
