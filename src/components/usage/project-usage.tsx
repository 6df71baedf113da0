"use client";
// A project's Usage page: this month's cost and tokens against the project's budget, cost and
// tokens by day (a chart), a table by agent with each agent's budget, and budget editing for
// admins. Usage comes from the model gateway (every request of every agent, at list prices); the
// page refetches when the gateway records a request (usage.onChange over the live connection).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { Gauge, Loader2, Pencil } from "lucide-react";
import { useId, useState } from "react";
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { toast } from "sonner";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { AdminOnlyNotice } from "@/components/projects/role-badge";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";
import { roleAtLeast, type ProjectRole } from "@/server/domain/roles";
import type { UsageSummaryOutput } from "@/server/api/routers/usage/schemas";
import { formatTokens, formatUsd, RANGE_LABELS, rangeDays, shareOf, type UsageRange } from "./usage-format";

type Limits = { monthlyCostUsd: number | null; monthlyTokens: number | null };

/** A bar of `used` against `limit`; says "no cost budget" (or token) without one. `who` names it for screen readers. */
function BudgetBar({ who, kind, used, limit }: { who: string; kind: "cost" | "token"; used: number; limit: number | null }) {
  const format = kind === "cost" ? formatUsd : (n: number) => `${formatTokens(n)} tokens`;
  const label = `${who} ${kind}`;
  const share = shareOf(used, limit);
  if (share === null) {
    return (
      <p className="text-muted-foreground text-xs">
        {format(used)} · no {kind} budget
      </p>
    );
  }
  const pct = Math.min(100, Math.round(share * 100));
  return (
    <div className="flex flex-col gap-1">
      <div className="flex justify-between gap-2 text-xs">
        <span>
          {format(used)} of {format(limit!)}
        </span>
        <span className={cn(share >= 1 ? "text-destructive font-medium" : "text-muted-foreground")}>{share >= 1 ? "budget reached" : `${pct}%`}</span>
      </div>
      <div
        role="progressbar"
        aria-label={`${label} budget used`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${format(used)} of ${format(limit!)}`}
        className="bg-muted h-2 w-full overflow-hidden rounded-full"
      >
        <div className={cn("h-full rounded-full", share >= 1 ? "bg-destructive" : share >= 0.8 ? "bg-amber-500" : "bg-primary")} style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

/** Two fields (dollars, tokens; empty = no limit) and Save. */
function BudgetForm({ projectId, agentId, current, onDone, label }: { projectId: string; agentId?: string; current: Limits; onDone?: () => void; label: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const [cost, setCost] = useState(current.monthlyCostUsd === null ? "" : String(current.monthlyCostUsd));
  const [tokens, setTokens] = useState(current.monthlyTokens === null ? "" : String(current.monthlyTokens));
  const set = useMutation(
    trpc.budget.set.mutationOptions({
      onError: (err) => toast.error("The budget was not changed", { description: errorMessage(err) }),
      onSuccess: () => {
        toast.success(`${label} saved`);
        void queryClient.invalidateQueries({ queryKey: trpc.usage.summary.pathKey() });
        onDone?.();
      },
    }),
  );
  const costValue = cost.trim() === "" ? null : Number(cost);
  const tokenValue = tokens.trim() === "" ? null : Number(tokens.replace(/[,_\s]/g, ""));
  const costProblem = costValue !== null && (!Number.isFinite(costValue) || costValue < 0) ? "A budget is a number of dollars, 0 or more" : null;
  const tokenProblem = tokenValue !== null && (!Number.isInteger(tokenValue) || tokenValue < 0) ? "A token budget is a whole number, 0 or more" : null;
  return (
    <form
      aria-label={label}
      noValidate
      className="flex flex-wrap items-end gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        if (costProblem || tokenProblem || set.isPending) return;
        set.mutate({ projectId, agentId, monthlyCostUsd: costValue, monthlyTokens: tokenValue });
      }}
    >
      <div className="flex flex-col gap-1.5">
        <Label htmlFor={`${id}-cost`}>Monthly cost (USD)</Label>
        <Input id={`${id}-cost`} inputMode="decimal" placeholder="no limit" value={cost} onChange={(e) => setCost(e.target.value)} className="w-36" aria-invalid={!!costProblem} />
        {costProblem ? <p className="text-destructive text-xs">{costProblem}</p> : null}
      </div>
      <div className="flex flex-col gap-1.5">
        <Label htmlFor={`${id}-tokens`}>Monthly tokens</Label>
        <Input id={`${id}-tokens`} inputMode="numeric" placeholder="no limit" value={tokens} onChange={(e) => setTokens(e.target.value)} className="w-40" aria-invalid={!!tokenProblem} />
        {tokenProblem ? <p className="text-destructive text-xs">{tokenProblem}</p> : null}
      </div>
      <Button type="submit" size="sm" disabled={set.isPending}>
        {set.isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
        Save budget
      </Button>
      {onDone ? (
        <Button type="button" size="sm" variant="outline" onClick={onDone}>
          Cancel
        </Button>
      ) : null}
    </form>
  );
}

function DayChart({ days }: { days: UsageSummaryOutput["days"] }) {
  const data = days.map((d) => ({ day: d.day.slice(5), cost: d.costUsd, tokens: d.tokens }));
  return (
    <figure className="bg-card flex flex-col gap-2 rounded-xl border p-4" aria-label="Cost and tokens by day">
      <figcaption className="text-sm font-medium">Cost and tokens by day (UTC)</figcaption>
      <div className="h-56">
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" className="stroke-border" />
            <XAxis dataKey="day" tick={{ fontSize: 10 }} minTickGap={16} />
            <YAxis yAxisId="cost" tick={{ fontSize: 10 }} width={56} tickFormatter={(v: number) => formatUsd(v)} />
            <YAxis yAxisId="tokens" orientation="right" tick={{ fontSize: 10 }} width={48} tickFormatter={(v: number) => formatTokens(v)} />
            <Tooltip formatter={(v, name) => (name === "Cost" ? formatUsd(Number(v)) : `${formatTokens(Number(v))} tokens`)} />
            <Legend wrapperStyle={{ fontSize: 11 }} />
            <Bar yAxisId="cost" dataKey="cost" name="Cost" fill="var(--color-chart-1, #2563eb)" isAnimationActive={false} />
            <Line yAxisId="tokens" dataKey="tokens" name="Tokens" stroke="var(--color-chart-2, #f59e0b)" dot={false} strokeWidth={1.5} isAnimationActive={false} />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

function AgentTable({ projectId, summary, canEdit }: { projectId: string; summary: UsageSummaryOutput; canEdit: boolean }) {
  const [editing, setEditing] = useState<string | null>(null);
  if (summary.agents.length === 0) return <p className="text-muted-foreground text-sm">No agents yet.</p>;
  return (
    <div tabIndex={0} role="region" aria-label="Usage by agent table" className="focus-visible:ring-ring/50 relative overflow-x-auto rounded-xl border outline-none focus-visible:ring-[3px]">
      <table className="w-full text-sm" aria-label="Usage by agent">
        <thead className="bg-muted/50 text-muted-foreground text-left text-xs">
          <tr>
            <th scope="col" className="px-3 py-2 font-medium">Agent</th>
            <th scope="col" className="px-3 py-2 text-right font-medium">Requests</th>
            <th scope="col" className="px-3 py-2 text-right font-medium">Tokens</th>
            <th scope="col" className="px-3 py-2 text-right font-medium">Cost</th>
            <th scope="col" className="min-w-56 px-3 py-2 font-medium">This month vs budget</th>
            {canEdit ? <th scope="col" className="px-3 py-2 font-medium"><span className="sr-only">Actions</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {summary.agents.map((a) => (
            <AgentRow key={a.agentId} projectId={projectId} a={a} canEdit={canEdit && !a.deleted} editing={editing === a.agentId} setEditing={(on) => setEditing(on ? a.agentId : null)} colSpan={canEdit ? 6 : 5} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AgentRow({
  projectId,
  a,
  canEdit,
  editing,
  setEditing,
  colSpan,
}: {
  projectId: string;
  a: UsageSummaryOutput["agents"][number];
  canEdit: boolean;
  editing: boolean;
  setEditing: (on: boolean) => void;
  colSpan: number;
}) {
  return (
    <>
      <tr className="hover:bg-muted/30 border-t" data-testid="usage-agent-row" data-agent={a.agentName}>
        <td className="px-3 py-2 font-mono font-medium">
          {a.agentName}
          {a.deleted ? (
            <Badge variant="outline" className="ml-2 font-sans">
              deleted
            </Badge>
          ) : null}
          {a.priceUnknown ? (
            <Badge variant="secondary" className="ml-2 font-sans" title="A model this agent used has no known list price; its tokens count as $0.">
              price unknown
            </Badge>
          ) : null}
        </td>
        <td className="px-3 py-2 text-right tabular-nums">{a.requests.toLocaleString("en-US")}</td>
        <td className="px-3 py-2 text-right tabular-nums" title={`${a.tokens.toLocaleString("en-US")} tokens`}>
          {formatTokens(a.tokens)}
        </td>
        <td className="px-3 py-2 text-right tabular-nums" data-testid="usage-agent-cost">
          {formatUsd(a.costUsd)}
        </td>
        <td className="px-3 py-2">
          <div className="flex flex-col gap-1.5">
            <BudgetBar who={a.agentName} kind="cost" used={a.month.costUsd} limit={a.budget.monthlyCostUsd} />
            <BudgetBar who={a.agentName} kind="token" used={a.month.tokens} limit={a.budget.monthlyTokens} />
          </div>
        </td>
        {colSpan === 6 ? (
          <td className="px-3 py-2 text-right">
            {canEdit ? (
              <Button size="sm" variant="ghost" aria-label={`Edit budget of ${a.agentName}`} aria-expanded={editing} onClick={() => setEditing(!editing)}>
                <Pencil aria-hidden="true" />
              </Button>
            ) : null}
          </td>
        ) : null}
      </tr>
      {editing ? (
        <tr className="bg-muted/20 border-t">
          <td colSpan={colSpan} className="px-3 py-3">
            <BudgetForm projectId={projectId} agentId={a.agentId} current={a.budget} label={`Budget of ${a.agentName}`} onDone={() => setEditing(false)} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

export function ProjectUsage({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [range, setRange] = useState<UsageRange>("month");
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  const summary = useQuery(trpc.usage.summary.queryOptions({ projectId, ...rangeDays(range) }));
  const [editingProject, setEditingProject] = useState(false);
  useSubscription(
    trpc.usage.onChange.subscriptionOptions({ projectId }, { onData: () => void queryClient.invalidateQueries({ queryKey: trpc.usage.summary.pathKey() }) }),
  );
  const role: ProjectRole | null = project.data?.role ?? null;
  const canEdit = role !== null && roleAtLeast(role, "admin");
  const s = summary.data;

  return (
    <div className="flex flex-col gap-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h2 className="text-xl font-semibold">Usage</h2>
          <p className="text-muted-foreground text-sm">
            Model requests of this project&apos;s agents through Armory&apos;s gateway, at Anthropic&apos;s list prices. Budgets are per UTC
            calendar month; a request over one is refused and the turn ends with &ldquo;budget reached&rdquo;.
          </p>
        </div>
        <div role="group" aria-label="Range" className="flex gap-1 rounded-lg border p-1">
          {(Object.keys(RANGE_LABELS) as UsageRange[]).map((r) => (
            <Button key={r} size="sm" variant={range === r ? "secondary" : "ghost"} aria-pressed={range === r} onClick={() => setRange(r)}>
              {RANGE_LABELS[r]}
            </Button>
          ))}
        </div>
      </div>

      {summary.isError ? <QueryErrorAlert title="Could not load the usage" error={summary.error} onRetry={() => void summary.refetch()} /> : null}
      {summary.isPending ? <Skeleton className="h-64 w-full" /> : null}
      {s ? (
        <>
          <div className="grid gap-4 md:grid-cols-[2fr_1fr]">
            <Card data-testid="usage-month">
              <CardHeader>
                <CardTitle>
                  <h3 className="flex items-center gap-2">
                    <Gauge className="size-4" aria-hidden="true" /> This month ({s.month.month}) against the project budget
                  </h3>
                </CardTitle>
                <CardDescription>
                  <span data-testid="usage-month-cost">{formatUsd(s.month.costUsd)}</span> and {formatTokens(s.month.tokens)} tokens so far.
                </CardDescription>
              </CardHeader>
              <CardContent className="flex flex-col gap-3">
                <BudgetBar who="Project" kind="cost" used={s.month.costUsd} limit={s.month.budget.monthlyCostUsd} />
                <BudgetBar who="Project" kind="token" used={s.month.tokens} limit={s.month.budget.monthlyTokens} />
                {canEdit ? (
                  editingProject ? (
                    <BudgetForm projectId={projectId} current={s.month.budget} label="Project budget" onDone={() => setEditingProject(false)} />
                  ) : (
                    <div>
                      <Button size="sm" variant="outline" onClick={() => setEditingProject(true)}>
                        <Pencil aria-hidden="true" /> Edit project budget
                      </Button>
                    </div>
                  )
                ) : role ? (
                  <AdminOnlyNotice role={role} what="budgets" />
                ) : null}
              </CardContent>
            </Card>
            <Card>
              <CardHeader>
                <CardTitle>
                  <h3>
                    {RANGE_LABELS[range]} ({s.from} to {s.to})
                  </h3>
                </CardTitle>
              </CardHeader>
              <CardContent>
                <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-sm">
                  <dt className="text-muted-foreground">Cost</dt>
                  <dd className="text-right tabular-nums" data-testid="usage-range-cost">{formatUsd(s.totals.costUsd)}</dd>
                  <dt className="text-muted-foreground">Tokens</dt>
                  <dd className="text-right tabular-nums">{formatTokens(s.totals.tokens)}</dd>
                  <dt className="text-muted-foreground">Requests</dt>
                  <dd className="text-right tabular-nums">{s.totals.requests.toLocaleString("en-US")}</dd>
                </dl>
                {s.models.some((m) => !m.priceKnown) ? (
                  <p className="text-muted-foreground mt-3 text-xs">
                    Price unknown for {s.models.filter((m) => !m.priceKnown).map((m) => m.model).join(", ")}: counted as $0.
                  </p>
                ) : null}
              </CardContent>
            </Card>
          </div>
          <DayChart days={s.days} />
          <section className="flex flex-col gap-2" aria-labelledby="usage-agents-heading">
            <h3 id="usage-agents-heading" className="font-medium">
              By agent
            </h3>
            <AgentTable projectId={projectId} summary={s} canEdit={canEdit} />
          </section>
        </>
      ) : null}
    </div>
  );
}
