// The usage page's ranges and shares (money and tokens in human units: src/lib/format.ts).
export { formatTokens, formatUsd } from "@/lib/format";

export type UsageRange = "month" | "30d" | "previous";

export const RANGE_LABELS: Record<UsageRange, string> = { month: "This month", "30d": "Last 30 days", previous: "Previous month" };

const iso = (d: Date) => d.toISOString().slice(0, 10);

/** The range's first and last UTC day (YYYY-MM-DD), as usage.summary takes them. */
export function rangeDays(range: UsageRange, now = new Date()): { from: string; to: string } {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const today = new Date(Date.UTC(y, m, now.getUTCDate()));
  if (range === "month") return { from: iso(new Date(Date.UTC(y, m, 1))), to: iso(today) };
  if (range === "30d") return { from: iso(new Date(today.getTime() - 29 * 86_400_000)), to: iso(today) };
  return { from: iso(new Date(Date.UTC(y, m - 1, 1))), to: iso(new Date(Date.UTC(y, m, 0))) };
}

/** Share of a limit used, 0..1+ (null without a limit). */
export function shareOf(used: number, limit: number | null): number | null {
  if (limit === null) return null;
  if (limit === 0) return used > 0 ? 1 : 0;
  return used / limit;
}
