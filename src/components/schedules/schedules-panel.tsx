"use client";
// An agent's Schedules tab: its schedules (cron, zone, next run, enabled, run now, edit, delete)
// and their run history (status, when, duration, cost, the session), kept live by the
// schedule.onChange subscription (a run appears when it starts and updates when it ends).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { CalendarClock, Loader2, Pencil, Play, Plus, Trash2 } from "lucide-react";
import Link from "next/link";
import { useState } from "react";
import { toast } from "sonner";
import { CheckboxField } from "@/components/agents/form-controls";
import { useNow } from "@/components/agents/use-now";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { formatInZone, ScheduleDialog } from "@/components/schedules/schedule-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import type { ScheduleRunStatus, ScheduleRunView, ScheduleView } from "@/contracts/schedules";

/** "850 ms", "12.3 s", "4 min 5 s", "1 h 2 min". */
export function formatRunDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function formatCost(usd: number): string {
  if (usd === 0) return "$0";
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

function RunStatusBadge({ status }: { status: ScheduleRunStatus }) {
  const variant = status === "completed" ? "secondary" : status === "failed" ? "destructive" : "outline";
  return (
    <Badge variant={variant} data-testid="run-status">
      {status === "running" ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
      {status}
    </Badge>
  );
}

function RunHistory({ projectId, agentId }: { projectId: string; agentId: string }) {
  const trpc = useTRPC();
  const now = useNow();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const runs = useQuery(trpc.schedule.runs.queryOptions({ projectId, agentId, cursor, limit: 20 }));
  if (runs.isPending) return <Skeleton className="h-16 w-full" />;
  if (runs.isError) return <QueryErrorAlert title="Could not load the run history" error={runs.error} onRetry={() => void runs.refetch()} />;
  if (!runs.data.items.length && cursors.length === 1) return <p className="text-muted-foreground text-sm">No runs yet.</p>;
  return (
    <div className="flex flex-col gap-2">
      <div className="overflow-x-auto rounded-md border">
        <table className="w-full text-sm" aria-label="Run history">
          <thead className="bg-muted/50 text-muted-foreground text-left text-xs">
            <tr>
              <th scope="col" className="px-3 py-2 font-medium">Schedule</th>
              <th scope="col" className="px-3 py-2 font-medium">Status</th>
              <th scope="col" className="px-3 py-2 font-medium">When</th>
              <th scope="col" className="px-3 py-2 font-medium">Duration</th>
              <th scope="col" className="px-3 py-2 font-medium">Cost</th>
              <th scope="col" className="px-3 py-2 font-medium">Session</th>
            </tr>
          </thead>
          <tbody className="divide-y">
            {runs.data.items.map((r: ScheduleRunView) => (
              <tr key={r.id} data-testid="schedule-run-row">
                <td className="px-3 py-2">
                  <div className="font-medium">{r.scheduleName}</div>
                  {r.manual ? <div className="text-muted-foreground text-xs">run now</div> : null}
                </td>
                <td className="max-w-xs px-3 py-2">
                  <RunStatusBadge status={r.status} />
                  {r.reason ? (
                    <div className="text-muted-foreground mt-1 line-clamp-2 text-xs" title={r.reason} data-testid="run-reason">
                      {r.reason}
                    </div>
                  ) : null}
                </td>
                <td className="px-3 py-2 text-xs" title={r.scheduledFor.toLocaleString()}>
                  {timeAgo(r.startedAt, new Date(now))}
                </td>
                <td className="px-3 py-2 text-xs" data-testid="run-duration">
                  {r.status === "running" ? formatRunDuration(Math.max(0, now - r.startedAt.getTime())) : r.durationMs !== null ? formatRunDuration(r.durationMs) : "—"}
                </td>
                <td className="px-3 py-2 font-mono text-xs">{r.status === "skipped" ? "—" : formatCost(r.costUsd)}</td>
                <td className="px-3 py-2 text-xs">
                  {r.sessionId ? (
                    <Link className="underline" href={`/projects/${projectId}/agents/${agentId}?session=${r.sessionId}`}>
                      Open session
                    </Link>
                  ) : (
                    "—"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="flex gap-2">
        {cursors.length > 1 ? (
          <Button size="sm" variant="outline" onClick={() => setCursors((c) => c.slice(0, -1))}>
            Newer
          </Button>
        ) : null}
        {runs.data.nextCursor ? (
          <Button size="sm" variant="outline" onClick={() => setCursors((c) => [...c, runs.data.nextCursor])}>
            Older
          </Button>
        ) : null}
      </div>
    </div>
  );
}

function ScheduleRow({ projectId, agentId, schedule, canChange, onEdit }: { projectId: string; agentId: string; schedule: ScheduleView; canChange: boolean; onEdit: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow();
  const [confirming, setConfirming] = useState(false);
  const listKey = trpc.schedule.list.queryKey({ projectId, agentId });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: listKey });
    void queryClient.invalidateQueries({ queryKey: trpc.schedule.runs.queryKey({ projectId, agentId }) });
  };
  const onError = (err: unknown) => toast.error("The schedule was not changed", { description: errorMessage(err) });
  // The box shows the requested value from the click itself (React state set in the event, so the
  // controlled input never flips back while the request runs); the saved schedule then replaces
  // the listed one, and a refusal puts the box back.
  const [requested, setRequested] = useState<boolean | null>(null);
  const toggle = useMutation(
    trpc.schedule.update.mutationOptions({
      onSuccess: (saved) => {
        queryClient.setQueryData(listKey, (list) => list?.map((s) => (s.id === saved.id ? saved : s)));
        refresh();
      },
      onError,
      onSettled: () => setRequested(null),
    }),
  );
  const enabled = requested ?? schedule.enabled;
  const remove = useMutation(trpc.schedule.delete.mutationOptions({ onSuccess: refresh, onError }));
  const runNow = useMutation(
    trpc.schedule.runNow.mutationOptions({
      onSuccess: () => {
        toast.success(`${schedule.name} started`);
        refresh();
      },
      onError: (err) => toast.error("Could not run the schedule", { description: errorMessage(err) }),
    }),
  );
  const ref = { projectId, agentId, scheduleId: schedule.id };
  return (
    <Card data-testid="schedule-card">
      <CardHeader>
        <CardTitle className="flex flex-wrap items-center gap-2">
          <h3>{schedule.name}</h3>
          {!schedule.enabled ? <Badge variant="secondary">disabled</Badge> : null}
          {schedule.session === "named" ? <Badge variant="outline">session: {schedule.sessionName}</Badge> : null}
        </CardTitle>
        <CardDescription>
          <span className="font-mono" data-testid="schedule-cron">
            {schedule.cron}
          </span>{" "}
          · {schedule.timeZone} · missed runs: {schedule.catchUp === "once" ? "run once" : "skipped"}
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        <p className="text-sm" data-testid="schedule-next-run">
          <span className="text-muted-foreground">Next run: </span>
          {schedule.enabled && schedule.nextRunAt ? (
            <>
              <time dateTime={schedule.nextRunAt.toISOString()}>{formatInZone(schedule.nextRunAt, schedule.timeZone)}</time> ({timeAgo(schedule.nextRunAt, new Date(now))})
            </>
          ) : schedule.enabled ? (
            "never (the cron has no more fire times)"
          ) : (
            "none while disabled"
          )}
        </p>
        <p className="text-muted-foreground line-clamp-3 text-sm whitespace-pre-wrap">{schedule.message}</p>
        {canChange ? (
          <div className="flex flex-wrap items-center gap-3">
            <CheckboxField
              id={`schedule-enabled-${schedule.id}`}
              label="Enabled"
              checked={enabled}
              disabled={toggle.isPending}
              onChange={(e) => {
                setRequested(e.target.checked);
                toggle.mutate({ ...ref, enabled: e.target.checked });
              }}
            />
            <Button size="sm" variant="outline" onClick={() => runNow.mutate(ref)} disabled={runNow.isPending}>
              {runNow.isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : <Play aria-hidden="true" />}
              Run now
            </Button>
            <Button size="sm" variant="outline" onClick={onEdit}>
              <Pencil aria-hidden="true" />
              Edit
            </Button>
            {confirming ? (
              <>
                <Button size="sm" variant="destructive" disabled={remove.isPending} onClick={() => remove.mutate(ref)}>
                  Delete {schedule.name}
                </Button>
                <Button size="sm" variant="outline" onClick={() => setConfirming(false)}>
                  Cancel
                </Button>
              </>
            ) : (
              <Button size="sm" variant="ghost" aria-label={`Delete schedule ${schedule.name}`} onClick={() => setConfirming(true)}>
                <Trash2 aria-hidden="true" />
              </Button>
            )}
          </div>
        ) : null}
      </CardContent>
    </Card>
  );
}

export function SchedulesPanel({ projectId, agentId, canChange }: { projectId: string; agentId: string; canChange: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.schedule.list.queryOptions({ projectId, agentId }));
  const [editing, setEditing] = useState<ScheduleView | "new" | null>(null);
  // Runs start and end in the background: refresh what shows them.
  useSubscription(
    trpc.schedule.onChange.subscriptionOptions({ projectId }, {
      onData: (c) => {
        if (c.agentId !== agentId) return;
        void queryClient.invalidateQueries({ queryKey: trpc.schedule.list.queryKey({ projectId, agentId }) });
        void queryClient.invalidateQueries({ queryKey: trpc.schedule.runs.queryKey({ projectId, agentId }) });
      },
    }),
  );
  return (
    <div className="flex max-w-4xl flex-col gap-6">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <h2 className="text-xl font-semibold">Schedules</h2>
          <p className="text-muted-foreground text-sm">Messages sent to this agent on a cron schedule, in the time zone you choose. Each run is kept below with its outcome.</p>
        </div>
        {canChange ? (
          <Button onClick={() => setEditing("new")}>
            <Plus aria-hidden="true" />
            New schedule
          </Button>
        ) : null}
      </div>
      {list.isPending ? (
        <Skeleton className="h-32 w-full" />
      ) : list.isError ? (
        <QueryErrorAlert title="Could not load the schedules" error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <div className="text-muted-foreground flex items-center gap-2 rounded-md border border-dashed p-6 text-sm">
          <CalendarClock aria-hidden="true" className="size-5" />
          No schedules yet{canChange ? ": create one to send this agent a message every day, every hour, or on any cron schedule." : "."}
        </div>
      ) : (
        <div className="flex flex-col gap-4">
          {list.data.map((s) => (
            <ScheduleRow key={s.id} projectId={projectId} agentId={agentId} schedule={s} canChange={canChange} onEdit={() => setEditing(s)} />
          ))}
        </div>
      )}
      <section className="flex flex-col gap-3" aria-labelledby="schedule-runs-heading">
        <h3 id="schedule-runs-heading" className="text-lg font-semibold">
          Run history
        </h3>
        <RunHistory projectId={projectId} agentId={agentId} />
      </section>
      {editing ? (
        <ScheduleDialog
          key={editing === "new" ? "new" : editing.id}
          projectId={projectId}
          agentId={agentId}
          schedule={editing === "new" ? null : editing}
          open
          onOpenChange={(open) => !open && setEditing(null)}
        />
      ) : null}
    </div>
  );
}
