// Health and resources in human terms.
import type { inferRouterOutputs } from "@trpc/server";
import type { StateTone } from "@/components/agents/agent-format";
import type { AppRouter } from "@/server/api/root";
import type { HealthState } from "@/server/health/states";

export type HealthSummary = inferRouterOutputs<AppRouter>["health"]["summary"];
export type AgentHealth = HealthSummary["agents"][number];
export type ResourceSample = inferRouterOutputs<AppRouter>["health"]["agent"]["samples"][number];

export const HEALTH_LABELS: Record<HealthState, { label: string; tone: StateTone }> = {
  healthy: { label: "Healthy", tone: "green" },
  starting: { label: "Starting", tone: "amber" },
  unhealthy: { label: "Unhealthy", tone: "red" },
  down: { label: "Down", tone: "red" },
  oom: { label: "Out of memory", tone: "red" },
  "crash-loop": { label: "Crash loop", tone: "red" },
  stopped: { label: "Stopped", tone: "grey" },
};

/** "12.5%" (of one core). */
export function formatCpu(percent: number): string {
  return `${percent < 10 ? percent.toFixed(1) : Math.round(percent)}%`;
}

/** "512 KB", "12.3 MB", "1.5 GB" from megabytes. */
export function formatMB(mb: number): string {
  if (mb < 1) return `${Math.round(mb * 1024)} KB`;
  if (mb >= 1024) return `${(mb / 1024).toFixed(1)} GB`;
  return `${mb < 100 ? mb.toFixed(1) : Math.round(mb)} MB`;
}

/** "84 MB of 256 MB". */
export function formatMemoryUse(r: Pick<ResourceSample, "memoryUsageMB" | "memoryLimitMB">): string {
  return `${formatMB(r.memoryUsageMB)} of ${formatMB(r.memoryLimitMB)}`;
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatUptime(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export const RESTART_POLICY_LABELS = { on_failure: "On failure (with back-off)", never: "Never" } as const;
