// Human units for the usage page: dollars ($1.23, $0.0042 below a cent) and tokens (512, 12.3k, 4.5M).

export function formatUsd(usd: number): string {
  if (usd === 0) return "$0.00";
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function formatTokens(n: number): string {
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "k"],
  ];
  for (const [size, suffix] of units) {
    if (Math.abs(n) >= size) {
      const v = n / size;
      return `${v >= 100 ? Math.round(v) : Number(v.toFixed(1))}${suffix}`;
    }
  }
  return String(n);
}

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
