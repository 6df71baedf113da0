"use client";
// An agent's health and resources: live charts of CPU, memory and network over the last minutes
// (history from health.agent, then health.statsStream), the health check, the restart policy and
// the activity log (crashes, OOM kills, automatic restarts and why).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { HeartPulse, History } from "lucide-react";
import { useMemo, useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import { roleAtLeast, type ProjectRole } from "@/server/domain/roles";
import type { RestartPolicy } from "@/server/health/states";
import { formatCpu, formatMB, formatMemoryUse, formatUptime, RESTART_POLICY_LABELS, type ResourceSample } from "./health-format";
import { HealthBadge } from "./health-badge";

const WINDOW = 300; // samples (about five minutes)

function clock(t: number) {
  return new Date(t).toLocaleTimeString("en-GB", { hour12: false });
}

function Chart({
  title,
  data,
  lines,
  unit,
  format,
}: {
  title: string;
  data: Record<string, number>[];
  lines: { key: string; name: string; color: string; dashed?: boolean }[];
  unit: string;
  format: (v: number) => string;
}) {
  return (
    <figure className="bg-card flex flex-col gap-2 rounded-xl border p-4" aria-label={title}>
      <figcaption className="text-sm font-medium">{title}</figcaption>
      <div className="h-44">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" className="stroke-border" />
            <XAxis dataKey="t" type="number" domain={["dataMin", "dataMax"]} tickFormatter={clock} tick={{ fontSize: 10 }} minTickGap={40} />
            <YAxis tick={{ fontSize: 10 }} width={48} tickFormatter={(v: number) => `${Number(v.toFixed(1))}${unit}`} />
            <Tooltip labelFormatter={(v) => clock(Number(v))} formatter={(v) => format(Number(v))} />
            <Legend wrapperStyle={{ fontSize: 11 }} />
            {lines.map((l) => (
              <Line
                key={l.key}
                dataKey={l.key}
                name={l.name}
                stroke={l.color}
                strokeDasharray={l.dashed ? "4 4" : undefined}
                dot={false}
                isAnimationActive={false}
                strokeWidth={1.5}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

export function MetricsPanel({ projectId, agentId, role }: { projectId: string; agentId: string; role: ProjectRole }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const detail = useQuery(trpc.health.agent.queryOptions({ projectId, agentId, samples: WINDOW }, { refetchInterval: 5000 }));
  const [live, setLive] = useState<ResourceSample[]>([]);
  useSubscription(
    trpc.health.statsStream.subscriptionOptions(
      { projectId, agentId },
      // A (re)connection starts with the newest sample, which may be one already shown.
      { onData: (s) => setLive((prev) => ((prev.at(-1)?.time.getTime() ?? 0) >= s.time.getTime() ? prev : prev.length >= WINDOW ? [...prev.slice(1 - WINDOW), s] : [...prev, s])) },
    ),
  );
  const policy = useMutation(
    trpc.health.setRestartPolicy.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.health.agent.queryKey({ projectId, agentId, samples: WINDOW }) }),
    }),
  );

  const samples = useMemo(() => {
    const history = detail.data?.samples ?? [];
    const last = history.at(-1)?.time.getTime() ?? 0;
    return [...history, ...live.filter((s) => s.time.getTime() > last)].slice(-WINDOW);
  }, [detail.data?.samples, live]);

  const series = useMemo(
    () =>
      samples.map((s, i) => {
        const prev = samples[i - 1];
        const dt = prev ? (s.time.getTime() - prev.time.getTime()) / 1000 : 0;
        const rate = (now: number, before: number | undefined) => (prev && dt > 0 && before !== undefined ? Math.max(0, ((now - before) * 1024) / dt) : 0);
        return {
          t: s.time.getTime(),
          cpu: s.cpuPercent,
          memory: s.memoryUsageMB,
          limit: s.memoryLimitMB,
          rx: rate(s.networkRxMB, prev?.networkRxMB),
          tx: rate(s.networkTxMB, prev?.networkTxMB),
        };
      }),
    [samples],
  );

  if (detail.isPending) return <Skeleton className="h-96 w-full rounded-xl" />;
  if (detail.isError) {
    return <QueryErrorAlert title="Could not load this agent's health" error={detail.error} onRetry={() => void detail.refetch()} />;
  }
  const { agent: h, lastCheck, pendingRestart, activity } = detail.data;
  const latest = samples.at(-1) ?? null;
  const canChange = roleAtLeast(role, "operator");

  return (
    <div className="flex flex-col gap-6">
      <section aria-labelledby="health-title" className="bg-card grid gap-4 rounded-xl border p-4 sm:grid-cols-2 lg:grid-cols-4">
        <div className="flex flex-col gap-1">
          <h3 id="health-title" className="text-muted-foreground flex items-center gap-1.5 text-xs font-medium">
            <HeartPulse className="size-3.5" aria-hidden="true" />
            Health
          </h3>
          <div>
            <HealthBadge health={h.health} detail={h.healthDetail} />
          </div>
          {h.healthDetail ? <p className="text-muted-foreground text-xs">{h.healthDetail}</p> : null}
          {lastCheck ? (
            <p className="text-muted-foreground text-xs">
              Last check {timeAgo(lastCheck.checkedAt)}: {lastCheck.ok ? "its daemon answered" : lastCheck.message}
            </p>
          ) : null}
          {pendingRestart ? <p className="text-xs text-amber-700 dark:text-amber-300">Restart planned {clock(pendingRestart.at.getTime())}: {pendingRestart.reason}</p> : null}
        </div>
        <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-xs sm:col-span-1 lg:col-span-2">
          <dt className="text-muted-foreground">CPU</dt>
          <dd className="tabular-nums" data-testid="metric-cpu">{latest ? formatCpu(latest.cpuPercent) : "–"}</dd>
          <dt className="text-muted-foreground">Memory</dt>
          <dd className="tabular-nums" data-testid="metric-memory">{latest ? formatMemoryUse(latest) : "–"}</dd>
          <dt className="text-muted-foreground">Network in / out</dt>
          <dd className="tabular-nums">{latest ? `${formatMB(latest.networkRxMB)} / ${formatMB(latest.networkTxMB)}` : "–"}</dd>
          <dt className="text-muted-foreground">Disk read / written</dt>
          <dd className="tabular-nums">{latest ? `${formatMB(latest.blockReadMB)} / ${formatMB(latest.blockWriteMB)}` : "–"}</dd>
          <dt className="text-muted-foreground">Processes</dt>
          <dd className="tabular-nums">{latest ? latest.pids : "–"}</dd>
          <dt className="text-muted-foreground">Uptime</dt>
          <dd className="tabular-nums">{h.uptimeSeconds !== null ? formatUptime(h.uptimeSeconds) : "not running"}</dd>
        </dl>
        <div className="flex flex-col gap-1 text-xs">
          <label htmlFor="restart-policy" className="text-muted-foreground font-medium">
            Restart automatically
          </label>
          <select
            id="restart-policy"
            className="border-input bg-background h-8 rounded-md border px-2 text-sm disabled:opacity-60"
            value={h.restartPolicy}
            disabled={!canChange || policy.isPending}
            onChange={(e) => policy.mutate({ projectId, agentId, policy: e.target.value as RestartPolicy })}
          >
            {(Object.keys(RESTART_POLICY_LABELS) as RestartPolicy[]).map((p) => (
              <option key={p} value={p}>
                {RESTART_POLICY_LABELS[p]}
              </option>
            ))}
          </select>
          <p className="text-muted-foreground">
            {h.autoRestartCount ? `${h.autoRestartCount} automatic restart${h.autoRestartCount === 1 ? "" : "s"} in a row.` : "Crashes, OOM kills and failed health checks restart the agent with back-off."}
          </p>
          {policy.isError ? <p className="text-destructive">{errorMessage(policy.error)}</p> : null}
        </div>
      </section>

      {series.length < 2 ? (
        <p className="text-muted-foreground rounded-xl border border-dashed p-8 text-center text-sm">
          {h.status === "running" ? "Collecting samples… the charts fill in about once a second." : "The agent is not running: no live resource figures."}
        </p>
      ) : (
        <div className="grid gap-4 lg:grid-cols-3" data-testid="metrics-charts">
          <Chart title="CPU (% of one core)" data={series} unit="%" format={formatCpu} lines={[{ key: "cpu", name: "CPU", color: "#2563eb" }]} />
          <Chart
            title="Memory"
            data={series}
            unit=""
            format={formatMB}
            lines={[
              { key: "memory", name: "In use (MB)", color: "#16a34a" },
              { key: "limit", name: "Limit (MB)", color: "#9ca3af", dashed: true },
            ]}
          />
          <Chart
            title="Network (KB/s)"
            data={series}
            unit=""
            format={(v) => `${v.toFixed(1)} KB/s`}
            lines={[
              { key: "rx", name: "In", color: "#9333ea" },
              { key: "tx", name: "Out", color: "#ea580c" },
            ]}
          />
        </div>
      )}

      <section aria-labelledby="activity-title" className="flex flex-col gap-2">
        <h3 id="activity-title" className="flex items-center gap-1.5 font-semibold">
          <History className="size-4" aria-hidden="true" />
          Activity
        </h3>
        {activity.length === 0 ? (
          <p className="text-muted-foreground text-sm">No crashes, health problems or automatic restarts so far.</p>
        ) : (
          <ol className="divide-y rounded-xl border text-sm" data-testid="agent-activity">
            {activity.map((a) => (
              <li key={a.id} className="flex gap-3 px-3 py-2">
                <time dateTime={a.createdAt.toISOString()} title={a.createdAt.toLocaleString()} className="text-muted-foreground w-28 shrink-0 text-xs">
                  {timeAgo(a.createdAt)}
                </time>
                <span
                  className={
                    ["crashed", "oom", "unhealthy", "crash-loop", "gave-up", "restart-failed"].includes(a.kind) ? "text-destructive" : undefined
                  }
                >
                  {a.message}
                </span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}
