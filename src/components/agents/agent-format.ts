// Agents in human terms: states, limits and durations as people read them.
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

export type Agent = inferRouterOutputs<AppRouter>["agent"]["get"];
export type ObservedState = Agent["observedState"];
export type Template = inferRouterOutputs<AppRouter>["template"]["list"][number];

export type StateTone = "green" | "amber" | "grey" | "red";

export const STATE_LABELS: Record<ObservedState, { label: string; tone: StateTone }> = {
  running: { label: "Running", tone: "green" },
  creating: { label: "Creating", tone: "amber" },
  created: { label: "Created", tone: "grey" },
  restarting: { label: "Restarting", tone: "amber" },
  paused: { label: "Paused", tone: "amber" },
  exited: { label: "Exited", tone: "grey" },
  dead: { label: "Dead", tone: "red" },
  removing: { label: "Removing", tone: "amber" },
  missing: { label: "Missing", tone: "red" },
  unknown: { label: "Unknown", tone: "grey" },
};

/** "512 MB", "2 GB", "1.5 GB". */
export function formatMemory(mb: number): string {
  if (mb >= 1024) {
    const gb = mb / 1024;
    return `${Number.isInteger(gb) ? gb : Number(gb.toFixed(1))} GB`;
  }
  return `${mb} MB`;
}

/** "1 CPU", "0.5 CPU", "2 CPUs". */
export function formatCpus(cpus: number): string {
  const n = Number(cpus.toFixed(2));
  return `${n} ${n > 1 ? "CPUs" : "CPU"}`;
}

/** "256 processes". */
export function formatPids(pids: number): string {
  return `${pids.toLocaleString("en")} ${pids === 1 ? "process" : "processes"}`;
}

/** "512 MB · 1 CPU · 256 processes". */
export function formatLimits(a: { memoryMb: number; cpus: number; pidsLimit: number }): string {
  return `${formatMemory(a.memoryMb)} · ${formatCpus(a.cpus)} · ${formatPids(a.pidsLimit)}`;
}

/** A duration in its largest whole unit: "12 seconds", "3 minutes", "2 hours", "4 days". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const units: [string, number][] = [
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
  ];
  for (const [unit, size] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${unit}${n === 1 ? "" : "s"}`;
    }
  }
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}

/** Whether the agent's container is up (its uptime counts). */
export function isUp(agent: Pick<Agent, "observedState">): boolean {
  return agent.observedState === "running" || agent.observedState === "paused";
}

/** Which lifecycle actions make sense in the agent's current state. */
export function availableActions(agent: Pick<Agent, "observedState">) {
  const s = agent.observedState;
  const busy = s === "creating" || s === "removing";
  const up = s === "running" || s === "restarting" || s === "paused";
  return {
    start: !busy && !up,
    stop: up,
    restart: s === "running" || s === "paused",
    remove: s !== "removing",
  };
}

/** The tabs of an agent's page, in order (the first is the default). */
export const AGENT_TABS = ["chat", "files", "changes", "terminal", "logs", "metrics", "schedules", "webhooks", "snapshots", "settings"] as const;
export type AgentTab = (typeof AGENT_TABS)[number];

export function isAgentTab(value: unknown): value is AgentTab {
  return typeof value === "string" && (AGENT_TABS as readonly string[]).includes(value);
}
