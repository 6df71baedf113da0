import { describe, expect, it } from "vitest";
import { rangeDays, shareOf } from "./usage-format";

describe("usage page units", () => {
  it("cuts the ranges on UTC days", () => {
    const now = new Date("2027-01-03T01:00:00Z");
    expect(rangeDays("month", now)).toEqual({ from: "2027-01-01", to: "2027-01-03" });
    expect(rangeDays("30d", now)).toEqual({ from: "2026-12-05", to: "2027-01-03" });
    expect(rangeDays("previous", now)).toEqual({ from: "2026-12-01", to: "2026-12-31" });
    expect(rangeDays("previous", new Date("2028-03-10T00:00:00Z"))).toEqual({ from: "2028-02-01", to: "2028-02-29" });
  });

  it("measures a budget's share", () => {
    expect(shareOf(5, null)).toBeNull();
    expect(shareOf(5, 10)).toBe(0.5);
    expect(shareOf(1, 0)).toBe(1);
  });
});
