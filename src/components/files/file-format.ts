// Formatting for the files UI.
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

export type FileEntry = inferRouterOutputs<AppRouter>["files"]["list"]["entries"][number];
export type FileRead = inferRouterOutputs<AppRouter>["files"]["read"];
export type Capabilities = inferRouterOutputs<AppRouter>["agentConfig"]["capabilities"];

/** 0 B, 999 B, 1.2 KiB, 3.4 MiB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** rw-r--r-- for 0o644. */
export function formatMode(mode: number): string {
  const bits = "rwxrwxrwx";
  return [...bits].map((c, i) => (mode & (1 << (8 - i)) ? c : "-")).join("");
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1) || path;
}

export function isMarkdown(path: string): boolean {
  return /\.(md|markdown|mdx)$/i.test(path);
}
