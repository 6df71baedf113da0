"use client";
// The project's Notifications page: its webhooks (enable/disable, edit, send test, delete) and
// each one's delivery log (status, response code, attempts, times), kept live by the
// notification.onDelivery subscription; failed deliveries can be sent again.
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { Bell, Loader2, Pencil, Plus, RotateCw, Send, Trash2 } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { CheckboxField } from "@/components/agents/form-controls";
import { EVENT_LABELS, FORMAT_LABELS, WebhookDialog } from "@/components/notifications/webhook-dialog";
import { AdminOnlyNotice } from "@/components/projects/role-badge";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import { roleAtLeast } from "@/server/domain/roles";
import type { DeliveryOutput, WebhookOutput } from "@/server/api/routers/notification/schemas";

function duration(ms: number | null): string {
  if (ms === null) return "";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function StatusBadge({ status }: { status: DeliveryOutput["status"] }) {
  const variant = status === "delivered" ? "secondary" : status === "failed" ? "destructive" : "outline";
  return (
    <Badge variant={variant} data-testid="delivery-status">
      {status}
    </Badge>
  );
}

function DeliveryLog({ projectId, webhookId }: { projectId: string; webhookId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const log = useQuery(trpc.notification.deliveries.queryOptions({ projectId, webhookId, cursor, limit: 10 }));
  const redeliver = useMutation(
    trpc.notification.redeliver.mutationOptions({
      onSuccess: (d) => {
        toast[d.status === "failed" ? "error" : "success"](`Redelivered: ${d.status}`, { description: d.error ?? (d.responseStatus ? `HTTP ${d.responseStatus}` : undefined) });
        void queryClient.invalidateQueries({ queryKey: trpc.notification.deliveries.queryKey({ projectId, webhookId }) });
      },
      onError: (err) => toast.error("Could not redeliver", { description: errorMessage(err) }),
    }),
  );
  if (log.isPending) return <Skeleton className="h-16 w-full" />;
  if (log.isError) return <QueryErrorAlert title="Could not load the deliveries" error={log.error} onRetry={() => void log.refetch()} />;
  if (!log.data.items.length && cursors.length === 1) return <p className="text-muted-foreground text-sm">No deliveries yet.</p>;
  return (
    <div className="flex flex-col gap-2">
      <div className="overflow-x-auto rounded-md border">
        <table className="w-full text-sm" aria-label="Deliveries">
          <thead className="bg-muted/50 text-muted-foreground text-left text-xs">
            <tr>
              <th scope="col" className="px-3 py-2 font-medium">Event</th>
              <th scope="col" className="px-3 py-2 font-medium">Status</th>
              <th scope="col" className="px-3 py-2 font-medium">Response</th>
              <th scope="col" className="px-3 py-2 font-medium">Attempts</th>
              <th scope="col" className="px-3 py-2 font-medium">When</th>
              <th scope="col" className="px-3 py-2 font-medium">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y">
            {log.data.items.map((d) => (
              <tr key={d.id} data-testid="delivery-row">
                <td className="px-3 py-2">
                  <div className="font-medium">{d.title}</div>
                  <div className="text-muted-foreground font-mono text-xs">{d.eventType}</div>
                </td>
                <td className="px-3 py-2">
                  <StatusBadge status={d.status} />
                  {d.status === "pending" && d.nextAttemptAt ? <div className="text-muted-foreground text-xs">retry {timeAgo(d.nextAttemptAt)}</div> : null}
                </td>
                <td className="max-w-xs px-3 py-2">
                  <div className="font-mono" data-testid="delivery-response">
                    {d.responseStatus ?? "—"}
                    {d.durationMs !== null ? <span className="text-muted-foreground ml-2 text-xs">{duration(d.durationMs)}</span> : null}
                  </div>
                  {d.error ? <div className="text-destructive truncate text-xs" title={d.error}>{d.error}</div> : null}
                </td>
                <td className="px-3 py-2">{d.attempts}</td>
                <td className="text-muted-foreground px-3 py-2 text-xs" title={d.createdAt.toLocaleString()}>
                  {timeAgo(d.lastAttemptAt ?? d.createdAt)}
                </td>
                <td className="px-3 py-2 text-right">
                  <Button size="sm" variant="ghost" disabled={redeliver.isPending} onClick={() => redeliver.mutate({ projectId, deliveryId: d.id })} aria-label={`Redeliver ${d.title} from ${timeAgo(d.createdAt)}`}>
                    <RotateCw aria-hidden="true" />
                  </Button>
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
        {log.data.nextCursor ? (
          <Button size="sm" variant="outline" onClick={() => setCursors((c) => [...c, log.data.nextCursor])}>
            Older
          </Button>
        ) : null}
      </div>
    </div>
  );
}

function WebhookCard({ projectId, webhook, onEdit }: { projectId: string; webhook: WebhookOutput; onEdit: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [showLog, setShowLog] = useState(true);
  const listKey = trpc.notification.list.queryKey({ projectId });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: listKey });
    void queryClient.invalidateQueries({ queryKey: trpc.notification.deliveries.queryKey({ projectId, webhookId: webhook.id }) });
  };
  const onError = (err: unknown) => toast.error("The webhook was not changed", { description: errorMessage(err) });
  // The box shows the requested value from the click itself (React state set in the event, so the
  // controlled input never flips back while the request runs); the saved webhook then replaces the
  // listed one, and a refusal puts the box back.
  const [requested, setRequested] = useState<boolean | null>(null);
  const toggle = useMutation(
    trpc.notification.update.mutationOptions({
      onSuccess: (saved) => {
        queryClient.setQueryData(listKey, (list) => list?.map((w) => (w.id === saved.id ? saved : w)));
        refresh();
      },
      onError,
      onSettled: () => setRequested(null),
    }),
  );
  const enabled = requested ?? webhook.enabled;
  const remove = useMutation(trpc.notification.delete.mutationOptions({ onSuccess: refresh, onError }));
  const test = useMutation(
    trpc.notification.test.mutationOptions({
      onSuccess: refresh,
      onError: (err) => toast.error("Could not send the test", { description: errorMessage(err) }),
    }),
  );
  return (
    <Card data-testid="webhook-card">
      <CardHeader>
        <CardTitle className="flex flex-wrap items-center gap-2">
          <h3>{webhook.name}</h3>
          <Badge variant="outline">{FORMAT_LABELS[webhook.format]}</Badge>
          {!webhook.enabled ? <Badge variant="secondary">disabled</Badge> : null}
        </CardTitle>
        <CardDescription className="break-all">
          {webhook.url ? <span className="font-mono">{webhook.url}</span> : <>URL from the secret <span className="font-mono">{webhook.urlSecret}</span></>}
          {webhook.secretName ? (
            <>
              {" "}
              · signed with <span className="font-mono">{webhook.secretName}</span>
            </>
          ) : null}
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        <p className="text-sm">
          <span className="text-muted-foreground">Events: </span>
          {webhook.events.map((e) => EVENT_LABELS[e]).join(", ")}
        </p>
        <div className="flex flex-wrap items-center gap-3">
          <CheckboxField
            id={`webhook-enabled-${webhook.id}`}
            label="Enabled"
            checked={enabled}
            disabled={toggle.isPending}
            onChange={(e) => {
              setRequested(e.target.checked);
              toggle.mutate({ projectId, webhookId: webhook.id, enabled: e.target.checked });
            }}
          />
          <Button size="sm" variant="outline" onClick={() => test.mutate({ projectId, webhookId: webhook.id })} disabled={test.isPending}>
            {test.isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : <Send aria-hidden="true" />}
            Send test
          </Button>
          <Button size="sm" variant="outline" onClick={onEdit}>
            <Pencil aria-hidden="true" />
            Edit
          </Button>
          {confirming ? (
            <>
              <Button size="sm" variant="destructive" disabled={remove.isPending} onClick={() => remove.mutate({ projectId, webhookId: webhook.id })}>
                Delete {webhook.name}
              </Button>
              <Button size="sm" variant="outline" onClick={() => setConfirming(false)}>
                Cancel
              </Button>
            </>
          ) : (
            <Button size="sm" variant="ghost" aria-label={`Delete webhook ${webhook.name}`} onClick={() => setConfirming(true)}>
              <Trash2 aria-hidden="true" />
            </Button>
          )}
        </div>
        {test.data ? (
          <p role="status" data-testid="test-outcome" className={test.data.status === "delivered" ? "text-sm text-green-700 dark:text-green-400" : "text-destructive text-sm"}>
            Test {test.data.status === "delivered" ? "delivered" : "failed"}
            {test.data.responseStatus ? `: HTTP ${test.data.responseStatus}` : ""}
            {test.data.error && test.data.status !== "delivered" ? ` (${test.data.error})` : ""}
            {test.data.durationMs !== null ? ` in ${duration(test.data.durationMs)}` : ""}.
          </p>
        ) : null}
        <div className="flex flex-col gap-2">
          <Button size="sm" variant="link" className="self-start px-0" aria-expanded={showLog} onClick={() => setShowLog((v) => !v)}>
            {showLog ? "Hide deliveries" : "Show deliveries"}
          </Button>
          {showLog ? <DeliveryLog projectId={projectId} webhookId={webhook.id} /> : null}
        </div>
      </CardContent>
    </Card>
  );
}

export function ProjectNotifications({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  const canManage = project.data ? roleAtLeast(project.data.role, "admin") : false;
  const list = useQuery({ ...trpc.notification.list.queryOptions({ projectId }), enabled: canManage });
  const [editing, setEditing] = useState<WebhookOutput | "new" | null>(null);
  // Deliveries change in the background (retries, new events): refresh what shows them.
  useSubscription(
    trpc.notification.onDelivery.subscriptionOptions(canManage ? { projectId } : skipToken, {
      onData: (d) => {
        void queryClient.invalidateQueries({ queryKey: trpc.notification.deliveries.queryKey({ projectId, webhookId: d.webhookId }) });
        void queryClient.invalidateQueries({ queryKey: trpc.notification.list.queryKey({ projectId }) });
      },
    }),
  );
  return (
    <div className="flex max-w-4xl flex-col gap-6">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <h2 className="text-xl font-semibold">Notifications</h2>
          <p className="text-muted-foreground text-sm">
            Webhooks that tell Slack, Discord or your own service when an approval is waiting, a turn finishes or fails, an agent
            crashes or a budget is reached.
          </p>
        </div>
        {canManage ? (
          <Button onClick={() => setEditing("new")}>
            <Plus aria-hidden="true" />
            Add webhook
          </Button>
        ) : null}
      </div>
      {project.isPending ? <Skeleton className="h-40 w-full" /> : null}
      {project.isError ? <QueryErrorAlert title="Could not load the project" error={project.error} onRetry={() => void project.refetch()} /> : null}
      {project.data && !canManage ? <AdminOnlyNotice role={project.data.role} what="notifications" /> : null}
      {canManage && list.isPending ? <Skeleton className="h-40 w-full" /> : null}
      {list.isError ? <QueryErrorAlert title="Could not load the webhooks" error={list.error} onRetry={() => void list.refetch()} /> : null}
      {list.data && !list.data.length ? (
        <p className="text-muted-foreground flex items-center gap-2 text-sm">
          <Bell className="size-4" aria-hidden="true" /> No webhooks yet.
        </p>
      ) : null}
      {list.data?.map((w) => <WebhookCard key={w.id} projectId={projectId} webhook={w} onEdit={() => setEditing(w)} />)}
      {editing ? (
        <WebhookDialog
          key={editing === "new" ? "new" : editing.id}
          projectId={projectId}
          webhook={editing === "new" ? null : editing}
          open
          onOpenChange={(open) => !open && setEditing(null)}
        />
      ) : null}
    </div>
  );
}
