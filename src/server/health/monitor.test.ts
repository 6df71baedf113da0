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
    expect(backoffDelay(DEFAULT_SELF_HEAL.maxRestarts - 1, DEFAULT_SELF_HEAL)).toBeLessThanOrEqual(DEFAULT_SELF_HEAL.backoffMaxMs);
  });
});
