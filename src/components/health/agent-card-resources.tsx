"use client";
// Live CPU, memory and last activity on an agent card, from the project's health summary (one
// query shared by every card on the page, refreshed every two seconds).
import { Activity, Gauge, MemoryStick } from "lucide-react";
import { timeAgo } from "@/lib/utils";
import { formatCpu, formatMemoryUse } from "./health-format";
import { HealthBadge } from "./health-badge";
import { useHealthSummary } from "./use-health-summary";

export function AgentCardResources({ projectId, agentId }: { projectId: string; agentId: string }) {
  const summary = useHealthSummary(projectId);
  const h = summary.data?.agents.find((a) => a.id === agentId);
  if (!h) return null;
  const r = h.resources;
  return (
    <div className="grid gap-1.5 text-xs" data-testid="agent-card-resources">
      <div className="text-muted-foreground flex flex-wrap items-center gap-x-3 gap-y-1">
        <span className="flex items-center gap-1.5" title="CPU (percent of one core)">
          <Gauge className="size-3.5" aria-hidden="true" />
          <span className="sr-only">CPU</span>
          <span className="text-foreground tabular-nums" data-testid="agent-cpu">
            {r ? formatCpu(r.cpuPercent) : "–"}
          </span>
        </span>
        <span className="flex items-center gap-1.5" title="Memory in use">
          <MemoryStick className="size-3.5" aria-hidden="true" />
          <span className="sr-only">Memory</span>
          <span className="text-foreground tabular-nums" data-testid="agent-memory">
            {r ? formatMemoryUse(r) : "–"}
          </span>
        </span>
        {h.health !== "healthy" && h.health !== "stopped" ? <HealthBadge health={h.health} detail={h.healthDetail} /> : null}
      </div>
      {h.lastActivityAt ? (
        <p className="text-muted-foreground flex items-center gap-1.5 truncate" title={h.lastActivity?.message}>
          <Activity className="size-3.5 shrink-0" aria-hidden="true" />
          <span className="truncate">
            Last activity {timeAgo(h.lastActivityAt)}
            {h.lastActivity ? `: ${h.lastActivity.message}` : ""}
          </span>
        </p>
      ) : null}
    </div>
  );
}
