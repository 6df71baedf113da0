"use client";
// Every agent across the user's projects: one live table (health summary, refreshed every two
// seconds), sortable by any column and filterable by status, project and template, with totals.
import { ArrowDown, ArrowUp, ArrowUpDown, Bot, HeartPulse } from "lucide-react";
import Link from "next/link";
import { useMemo, useState } from "react";
import { agentHref } from "@/components/agents/agent-card";
import { AgentStatusBadge } from "@/components/agents/agent-status";
import { STATE_LABELS } from "@/components/agents/agent-format";
import { EmptyState } from "@/components/common/empty-state";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { cn } from "@/lib/utils";
import { type AgentHealth, formatCpu, formatMB, formatUptime } from "./health-format";
import { HealthBadge } from "./health-badge";
import { useHealthSummary } from "./use-health-summary";

type SortKey = "name" | "project" | "template" | "status" | "health" | "cpu" | "memory" | "uptime";
type Sort = { key: SortKey; dir: "asc" | "desc" };

const HEALTH_ORDER = ["crash-loop", "oom", "down", "unhealthy", "starting", "healthy", "stopped"];

const SORTERS: Record<SortKey, (a: AgentHealth, b: AgentHealth) => number> = {
  name: (a, b) => a.name.localeCompare(b.name),
  project: (a, b) => a.projectName.localeCompare(b.projectName) || a.name.localeCompare(b.name),
  template: (a, b) => a.templateName.localeCompare(b.templateName) || a.name.localeCompare(b.name),
  status: (a, b) => a.status.localeCompare(b.status) || a.name.localeCompare(b.name),
  health: (a, b) => HEALTH_ORDER.indexOf(a.health) - HEALTH_ORDER.indexOf(b.health) || a.name.localeCompare(b.name),
  cpu: (a, b) => (a.resources?.cpuPercent ?? -1) - (b.resources?.cpuPercent ?? -1),
  memory: (a, b) => (a.resources?.memoryUsageMB ?? -1) - (b.resources?.memoryUsageMB ?? -1),
  uptime: (a, b) => (a.uptimeSeconds ?? -1) - (b.uptimeSeconds ?? -1),
};

const COLUMNS: { key: SortKey; label: string; numeric?: boolean }[] = [
  { key: "name", label: "Agent" },
  { key: "project", label: "Project" },
  { key: "template", label: "Template" },
  { key: "status", label: "Status" },
  { key: "health", label: "Health" },
  { key: "cpu", label: "CPU", numeric: true },
  { key: "memory", label: "Memory", numeric: true },
  { key: "uptime", label: "Uptime", numeric: true },
];

const selectClass =
  "border-input bg-background focus-visible:ring-ring/50 h-9 rounded-md border px-2 text-sm shadow-xs outline-none focus-visible:ring-[3px]";

export function HealthTable() {
  const summary = useHealthSummary();
  const [sort, setSort] = useState<Sort>({ key: "name", dir: "asc" });
  const [status, setStatus] = useState("all");
  const [project, setProject] = useState("all");
  const [template, setTemplate] = useState("all");
  const [query, setQuery] = useState("");

  const agents = summary.data?.agents;
  const options = useMemo(() => {
    const projects = new Map<string, string>();
    const templates = new Set<string>();
    const statuses = new Set<string>();
    for (const a of agents ?? []) {
      projects.set(a.projectId, a.projectName);
      templates.add(a.templateName);
      statuses.add(a.status);
    }
    return {
      projects: [...projects].sort((x, y) => x[1].localeCompare(y[1])),
      templates: [...templates].sort(),
      statuses: [...statuses].sort(),
    };
  }, [agents]);

  const rows = useMemo(() => {
    const q = query.trim().toLowerCase();
    const filtered = (agents ?? []).filter(
      (a) =>
        (status === "all" || a.status === status) &&
        (project === "all" || a.projectId === project) &&
        (template === "all" || a.templateName === template) &&
        (!q || a.name.toLowerCase().includes(q)),
    );
    const sorted = filtered.sort(SORTERS[sort.key]);
    return sort.dir === "desc" ? sorted.reverse() : sorted;
  }, [agents, status, project, template, query, sort]);

  const totals = useMemo(() => {
    const t = { running: 0, unhealthy: 0, cpu: 0, memory: 0, limit: 0 };
    for (const a of rows) {
      if (a.status === "running") t.running++;
      if (["unhealthy", "down", "oom", "crash-loop"].includes(a.health)) t.unhealthy++;
      t.cpu += a.resources?.cpuPercent ?? 0;
      t.memory += a.resources?.memoryUsageMB ?? 0;
      t.limit += a.resources?.memoryLimitMB ?? 0;
    }
    return t;
  }, [rows]);

  function toggleSort(key: SortKey) {
    setSort((s) => (s.key === key ? { key, dir: s.dir === "asc" ? "desc" : "asc" } : { key, dir: key === "cpu" || key === "memory" || key === "uptime" ? "desc" : "asc" }));
  }

  if (summary.isPending) {
    return (
      <div aria-busy="true" className="flex flex-col gap-2">
        <span className="sr-only">Loading agents…</span>
        {Array.from({ length: 5 }, (_, i) => (
          <Skeleton key={i} className="h-10 w-full" />
        ))}
      </div>
    );
  }
  if (summary.isError) {
    return <QueryErrorAlert title="Could not load the agents' health" error={summary.error} onRetry={() => void summary.refetch()} />;
  }
  if (summary.data.agents.length === 0) {
    return (
      <EmptyState
        id="health-empty-title"
        icon={Bot}
        title="No agents yet"
        headingLevel={2}
        description="Agents of every project you are a member of appear here, with their health and live resource use."
        action={null}
      />
    );
  }

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-end gap-3" role="group" aria-label="Filters">
        <label className="flex flex-col gap-1 text-xs font-medium">
          Search
          <Input value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Agent name" className="h-9 w-48" aria-label="Search agents by name" />
        </label>
        <label className="flex flex-col gap-1 text-xs font-medium">
          Status
          <select className={selectClass} value={status} onChange={(e) => setStatus(e.target.value)} aria-label="Filter by status">
            <option value="all">All statuses</option>
            {options.statuses.map((s) => (
              <option key={s} value={s}>
                {STATE_LABELS[s as AgentHealth["status"]]?.label ?? s}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1 text-xs font-medium">
          Project
          <select className={selectClass} value={project} onChange={(e) => setProject(e.target.value)} aria-label="Filter by project">
            <option value="all">All projects</option>
            {options.projects.map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1 text-xs font-medium">
          Template
          <select className={selectClass} value={template} onChange={(e) => setTemplate(e.target.value)} aria-label="Filter by template">
            <option value="all">All templates</option>
            {options.templates.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      </div>

      <div tabIndex={0} role="region" aria-label="Agents' health table" className="focus-visible:ring-ring/50 outline-none relative overflow-x-auto rounded-xl border focus-visible:ring-[3px]">
        <table className="w-full text-sm" aria-label="Agents' health">
          <thead className="bg-muted/50 text-muted-foreground text-left text-xs">
            <tr>
              {COLUMNS.map((c) => {
                const active = sort.key === c.key;
                const Icon = active ? (sort.dir === "asc" ? ArrowUp : ArrowDown) : ArrowUpDown;
                return (
                  <th
                    key={c.key}
                    scope="col"
                    aria-sort={active ? (sort.dir === "asc" ? "ascending" : "descending") : "none"}
                    className={cn("px-3 py-2 font-medium", c.numeric && "text-right")}
                  >
                    <button
                      type="button"
                      onClick={() => toggleSort(c.key)}
                      className={cn("hover:text-foreground inline-flex items-center gap-1 rounded outline-none focus-visible:ring-2", active && "text-foreground")}
                    >
                      {c.label}
                      <Icon className="size-3" aria-hidden="true" />
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <tr key={a.id} data-testid="health-row" data-agent={a.name} className="hover:bg-muted/30 border-t">
                <td className="px-3 py-2 font-mono font-medium">
                  <Link href={agentHref(a, "metrics")} className="hover:underline">
                    {a.name}
                  </Link>
                  <div className="text-muted-foreground text-xs font-normal">v{a.version}</div>
                </td>
                <td className="px-3 py-2">
                  <Link href={`/projects/${a.projectId}/agents`} className="hover:underline">
                    {a.projectName}
                  </Link>
                </td>
                <td className="px-3 py-2">{a.templateName}</td>
                <td className="px-3 py-2">
                  <AgentStatusBadge agent={{ observedState: a.status }} />
                </td>
                <td className="px-3 py-2">
                  <HealthBadge health={a.health} detail={a.healthDetail} />
                </td>
                <td className="px-3 py-2 text-right tabular-nums" data-testid="cell-cpu">
                  {a.resources ? formatCpu(a.resources.cpuPercent) : "–"}
                </td>
                <td className="px-3 py-2 text-right tabular-nums" data-testid="cell-memory">
                  {a.resources ? `${formatMB(a.resources.memoryUsageMB)} / ${formatMB(a.resources.memoryLimitMB)}` : "–"}
                </td>
                <td className="px-3 py-2 text-right tabular-nums">{a.uptimeSeconds !== null ? formatUptime(a.uptimeSeconds) : "–"}</td>
              </tr>
            ))}
            {rows.length === 0 ? (
              <tr>
                <td colSpan={COLUMNS.length} className="text-muted-foreground px-3 py-6 text-center">
                  No agents match these filters.
                </td>
              </tr>
            ) : null}
          </tbody>
          <tfoot className="bg-muted/30 border-t text-xs font-medium">
            <tr data-testid="health-totals">
              <td className="px-3 py-2" colSpan={4}>
                {rows.length} {rows.length === 1 ? "agent" : "agents"} · {totals.running} running
              </td>
              <td className="px-3 py-2">
                {totals.unhealthy ? (
                  <span className="text-destructive flex items-center gap-1">
                    <HeartPulse className="size-3.5" aria-hidden="true" />
                    {totals.unhealthy} need attention
                  </span>
                ) : (
                  "All well"
                )}
              </td>
              <td className="px-3 py-2 text-right tabular-nums">{formatCpu(totals.cpu)}</td>
              <td className="px-3 py-2 text-right tabular-nums">
                {formatMB(totals.memory)} / {formatMB(totals.limit)}
              </td>
              <td />
            </tr>
          </tfoot>
        </table>
      </div>
    </div>
  );
}
