import { describe, expect, it } from "vitest";
import { formatTokenCount, formatTokens, formatUsd } from "./format";

describe("money and tokens in human units", () => {
  it("shows dollars, compact tokens and exact counts", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(0.00421)).toBe("$0.0042");
    expect(formatUsd(1.234)).toBe("$1.23");
    expect(formatUsd(1234.5)).toBe("$1,234.50");
    expect(formatTokens(512)).toBe("512");
    expect(formatTokens(12_345)).toBe("12.3k");
    expect(formatTokens(4_500_000)).toBe("4.5M");
    expect(formatTokens(250_000_000)).toBe("250M");
    expect(formatTokenCount(1_234_567)).toBe("1,234,567");
  });
});
