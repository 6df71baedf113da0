import { describe, expect, it } from "vitest";
import { monthKey, monthRange, utcDay } from "./budgets";
import { costOf, priceOf } from "./pricing";

const usage = (u: Partial<Parameters<typeof costOf>[1]>) => ({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, ...u });

describe("list prices", () => {
  it("knows each family's versions, with and without date suffixes", () => {
    expect(priceOf("claude-sonnet-4-5")).toMatchObject({ name: "Claude Sonnet 4.5", input: 3, output: 15 });
    expect(priceOf("claude-sonnet-4-5-20250929")?.name).toBe("Claude Sonnet 4.5");
    expect(priceOf("claude-sonnet-4-20250514")?.name).toBe("Claude Sonnet 4");
    expect(priceOf("claude-opus-4-5-20251101")).toMatchObject({ input: 5, output: 25 });
    expect(priceOf("claude-opus-4-1-20250805")).toMatchObject({ input: 15, output: 75 });
    expect(priceOf("claude-opus-4-20250514")).toMatchObject({ name: "Claude Opus 4", input: 15 });
    expect(priceOf("claude-haiku-4-5")).toMatchObject({ input: 1, output: 5 });
    expect(priceOf("claude-3-5-haiku-latest")).toMatchObject({ input: 0.8, output: 4 });
    expect(priceOf("claude-3-haiku-20240307")).toMatchObject({ input: 0.25, output: 1.25 });
    expect(priceOf("claude-3-7-sonnet-latest")?.name).toBe("Claude Sonnet 3.7");
  });

  it("has no price for unknown models, which then cost 0", () => {
    for (const m of ["armory-demo-model", "gpt-4o", "claude-opus-9", "claude-sonnet-4-7", "m", ""]) {
      expect(priceOf(m), m).toBeNull();
      expect(costOf(m, usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 }))).toBe(0);
    }
  });

  it("prices input, output, cache reads and 5-minute and 1-hour cache writes", () => {
    // Sonnet 4.5: $3 in, $15 out, $0.30 cache read, $3.75 5m write, $6 1h write per million.
    expect(costOf("claude-sonnet-4-5", usage({ inputTokens: 1_000_000 }))).toBeCloseTo(3, 10);
    expect(costOf("claude-sonnet-4-5", usage({ outputTokens: 1_000_000 }))).toBeCloseTo(15, 10);
    expect(costOf("claude-sonnet-4-5", usage({ cacheReadTokens: 1_000_000 }))).toBeCloseTo(0.3, 10);
    expect(costOf("claude-sonnet-4-5", usage({ cacheCreationTokens: 1_000_000 }))).toBeCloseTo(3.75, 10);
    expect(costOf("claude-sonnet-4-5", usage({ cacheCreationTokens: 1_000_000, cacheCreation1hTokens: 400_000 }))).toBeCloseTo(0.6 * 3.75 + 0.4 * 6, 10);
    // A small real-looking request: 12 in, 2000 cache read, 300 cache write, 80 out on Haiku 4.5.
    expect(costOf("claude-haiku-4-5-20251001", usage({ inputTokens: 12, cacheReadTokens: 2000, cacheCreationTokens: 300, outputTokens: 80 }))).toBeCloseTo((12 * 1 + 2000 * 0.1 + 300 * 1.25 + 80 * 5) / 1e6, 12);
  });
});

describe("UTC months and days", () => {
  it("cuts months at UTC midnight on the first, whatever the local zone", () => {
    const lastSecond = new Date("2026-11-30T23:59:59.999Z");
    const firstInstant = new Date("2026-12-01T00:00:00.000Z");
    expect(monthKey(lastSecond)).toBe("2026-11");
    expect(monthKey(firstInstant)).toBe("2026-12");
    expect(monthRange(lastSecond)).toEqual({ start: new Date("2026-11-01T00:00:00Z"), end: new Date("2026-12-01T00:00:00Z") });
    expect(monthRange(firstInstant).start).toEqual(firstInstant);
    // 01:00 on Dec 1 in UTC+2 is still November in UTC.
    expect(monthKey(new Date("2026-12-01T01:00:00+02:00"))).toBe("2026-11");
  });

  it("rolls the year over in December and knows leap Februaries", () => {
    expect(monthRange(new Date("2026-12-15T12:00:00Z"))).toEqual({ start: new Date("2026-12-01T00:00:00Z"), end: new Date("2027-01-01T00:00:00Z") });
    expect(monthRange(new Date("2028-02-29T23:00:00Z")).end).toEqual(new Date("2028-03-01T00:00:00Z"));
    expect(monthRange(new Date("2027-02-10T00:00:00Z")).end).toEqual(new Date("2027-03-01T00:00:00Z"));
  });

  it("takes a request's day as its UTC date", () => {
    expect(utcDay(new Date("2026-12-06T23:59:59Z"))).toEqual(new Date("2026-12-06T00:00:00Z"));
    expect(utcDay(new Date("2026-12-07T00:30:00+02:00"))).toEqual(new Date("2026-12-06T00:00:00Z"));
  });
});
