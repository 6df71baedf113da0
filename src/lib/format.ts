// Money and token counts in human units, for the UI and for server messages alike (no browser or
// server dependencies): dollars ($1.23, $0.0042 below a cent), compact tokens (512, 12.3k, 4.5M)
// and exact token counts (1,234,567) where a message must be exact.

export function formatUsd(usd: number): string {
  if (usd === 0) return "$0.00";
  if (Math.abs(usd) < 0.01) return `$${usd.toFixed(4)}`;
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

/** Every digit, grouped (budget messages say exactly how much was used). */
export function formatTokenCount(n: number): string {
  return n.toLocaleString("en-US");
}
