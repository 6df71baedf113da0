"use client";
// The agent's Webhooks tab: its inbound webhooks (URL with copy, verification, enabled, edit,
// rotate the secret, delete) and each one's delivery log (status, HTTP status, when, the rendered
// message, a link to the conversation, Replay), kept live by the hook.onDelivery subscription.
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { Check, Copy, KeyRound, Pencil, Plus, RotateCw, Trash2, Webhook } from "lucide-react";
import Link from "next/link";
import { useState, useSyncExternalStore } from "react";
import { useNow } from "@/components/agents/use-now";
import { toast } from "sonner";
import { CheckboxField } from "@/components/agents/form-controls";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { HookDialog, SecretOnce, VERIFY_LABELS } from "@/components/hooks/hook-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Skeleton } from "@/components/ui/skeleton";
import type { HookDeliveryView, HookView } from "@/contracts/hooks";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";

const STATUS_VARIANT: Record<HookDeliveryView["status"], "secondary" | "destructive" | "outline"> = {
  accepted: "secondary",
  rejected: "destructive",
  rate_limited: "outline",
  failed: "destructive",
};

const noSubscription = () => () => {};

function CopyUrl({ url, name }: { url: string; name: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="flex min-w-0 items-center gap-2">
      <code className="bg-muted min-w-0 truncate rounded px-2 py-1 font-mono text-xs" data-testid="hook-url" title={url}>
        {url}
      </code>
      <Button
        size="sm"
        variant="outline"
        aria-label={`Copy the URL of ${name}`}
        onClick={() => void navigator.clipboard?.writeText(url).then(() => setCopied(true), () => toast.error("Copy failed: select the text and copy it"))}
      >
        {copied ? <Check aria-hidden="true" /> : <Copy aria-hidden="true" />}
        {copied ? "Copied" : "Copy"}
      </Button>
    </div>
  );
}

function DeliveryLog({ projectId, agentId, hook, canManage }: { projectId: string; agentId: string; hook: HookView; canManage: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Relative times ("2 minutes ago") stay true while the log is shown.
  const now = new Date(useNow());
  const log = useQuery(trpc.hook.deliveries.queryOptions({ projectId, agentId, hookId: hook.id, limit: 20 }));
  const replay = useMutation(
    trpc.hook.replay.mutationOptions({
      onSuccess: (d) => {
        toast[d.status === "accepted" ? "success" : "error"](`Replayed: ${d.status} (HTTP ${d.httpStatus})`, { description: d.error ?? undefined });
        void queryClient.invalidateQueries({ queryKey: trpc.hook.deliveries.queryKey({ projectId, agentId, hookId: hook.id }) });
      },
      onError: (err) => toast.error("Could not replay", { description: errorMessage(err) }),
    }),
  );
  if (log.isPending) return <Skeleton className="h-16 w-full" />;
  if (log.isError) return <QueryErrorAlert title="Could not load the deliveries" error={log.error} onRetry={() => void log.refetch()} />;
  if (!log.data.length) return <p className="text-muted-foreground text-sm">No deliveries yet.</p>;
  return (
    <div className="overflow-x-auto rounded-md border">
      <table className="w-full text-sm" aria-label={`Deliveries of ${hook.name}`}>
        <thead className="bg-muted/50 text-muted-foreground text-left text-xs">
          <tr>
            <th scope="col" className="px-3 py-2 font-medium">Status</th>
            <th scope="col" className="px-3 py-2 font-medium">When</th>
            <th scope="col" className="px-3 py-2 font-medium">Message</th>
            <th scope="col" className="px-3 py-2 font-medium">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody className="divide-y">
          {log.data.map((d) => (
            <tr key={d.id} data-testid="hook-delivery-row">
              <td className="px-3 py-2 align-top">
                <Badge variant={STATUS_VARIANT[d.status]} data-testid="hook-delivery-status">
                  {d.status.replace("_", " ")}
                </Badge>
                <div className="text-muted-foreground mt-1 font-mono text-xs" data-testid="hook-delivery-http">
                  HTTP {d.httpStatus}
                </div>
              </td>
              <td className="text-muted-foreground px-3 py-2 align-top text-xs" title={d.receivedAt.toLocaleString()}>
                {timeAgo(d.receivedAt, now)}
                {d.event ? <div className="font-mono">{d.event}</div> : null}
                {d.replayOf ? <div>replay</div> : null}
              </td>
              <td className="max-w-md px-3 py-2 align-top">
                {d.message ? (
                  <div className="line-clamp-3 text-xs whitespace-pre-wrap" data-testid="hook-delivery-message">
                    {d.message}
                  </div>
                ) : null}
                {d.error ? <div className="text-destructive text-xs">{d.error}</div> : null}
                {d.sessionId ? (
                  <Link href={`/projects/${projectId}/agents/${agentId}?session=${d.sessionId}`} className="text-xs underline">
                    Open the conversation
                  </Link>
                ) : null}
              </td>
              <td className="px-3 py-2 text-right align-top">
                {canManage && d.payload !== null && d.event !== "ping" ? (
                  <Button size="sm" variant="ghost" disabled={replay.isPending} onClick={() => replay.mutate({ projectId, agentId, deliveryId: d.id })} aria-label={`Replay the delivery from ${timeAgo(d.receivedAt)}`}>
                    <RotateCw aria-hidden="true" />
                    Replay
                  </Button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function HookCard({
  projectId,
  agentId,
  hook,
  canManage,
  onEdit,
  onSecret,
}: {
  projectId: string;
  agentId: string;
  hook: HookView;
  canManage: boolean;
  onEdit: () => void;
  onSecret: (hook: HookView, secret: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState<"delete" | "rotate" | null>(null);
  const listKey = trpc.hook.list.queryKey({ projectId, agentId });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: listKey });
  const onError = (err: unknown) => toast.error("The webhook was not changed", { description: errorMessage(err) });
  // The box shows the requested value from the click itself (state set in the event, so the
  // controlled input never flips back while the request runs); the saved hook then replaces the
  // listed one, and a refusal puts the box back.
  const [requested, setRequested] = useState<boolean | null>(null);
  const toggle = useMutation(
    trpc.hook.update.mutationOptions({
      onSuccess: (saved) => {
        queryClient.setQueryData(listKey, (list) => list?.map((h) => (h.id === saved.id ? saved : h)));
        refresh();
      },
      onError,
      onSettled: () => setRequested(null),
    }),
  );
  const enabled = requested ?? hook.enabled;
  const remove = useMutation(trpc.hook.delete.mutationOptions({ onSuccess: refresh, onError }));
  const rotate = useMutation(
    trpc.hook.rotateSecret.mutationOptions({
      onSuccess: (r) => {
        setConfirming(null);
        onSecret(r.hook, r.secret);
        refresh();
      },
      onError,
    }),
  );
  // The address this page was reached at (the server render has none).
  const origin = useSyncExternalStore(noSubscription, () => window.location.origin, () => "");
  const url = `${origin}${hook.path}`;
  return (
    <Card data-testid="hook-card">
      <CardHeader>
        <CardTitle className="flex flex-wrap items-center gap-2">
          <h3>{hook.name}</h3>
          <Badge variant="outline">{VERIFY_LABELS[hook.verify]}</Badge>
          {!hook.enabled ? <Badge variant="secondary">disabled</Badge> : null}
        </CardTitle>
        <CardDescription>
          {hook.session === "named" ? `Continues the conversation "${hook.sessionName}"` : "A new conversation per delivery"} · at most {hook.rateLimitPerMinute} a
          minute
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        <CopyUrl url={url} name={hook.name} />
        <pre className="bg-muted/50 overflow-x-auto rounded-md p-2 text-xs whitespace-pre-wrap">
          {hook.template}
        </pre>
        {canManage ? (
          <div className="flex flex-wrap items-center gap-3">
            <CheckboxField
              id={`hook-enabled-${hook.id}`}
              label="Enabled"
              checked={enabled}
              disabled={toggle.isPending}
              onChange={(e) => {
                setRequested(e.target.checked);
                toggle.mutate({ projectId, agentId, hookId: hook.id, enabled: e.target.checked });
              }}
            />
            <Button size="sm" variant="outline" onClick={onEdit}>
              <Pencil aria-hidden="true" />
              Edit
            </Button>
            {confirming === "rotate" ? (
              <>
                <Button size="sm" variant="destructive" disabled={rotate.isPending} onClick={() => rotate.mutate({ projectId, agentId, hookId: hook.id })}>
                  Rotate: the old secret stops working
                </Button>
                <Button size="sm" variant="outline" onClick={() => setConfirming(null)}>
                  Cancel
                </Button>
              </>
            ) : confirming === "delete" ? (
              <>
                <Button size="sm" variant="destructive" disabled={remove.isPending} onClick={() => remove.mutate({ projectId, agentId, hookId: hook.id })}>
                  Delete {hook.name}
                </Button>
                <Button size="sm" variant="outline" onClick={() => setConfirming(null)}>
                  Cancel
                </Button>
              </>
            ) : (
              <>
                <Button size="sm" variant="outline" onClick={() => setConfirming("rotate")}>
                  <KeyRound aria-hidden="true" />
                  Rotate secret
                </Button>
                <Button size="sm" variant="ghost" aria-label={`Delete webhook ${hook.name}`} onClick={() => setConfirming("delete")}>
                  <Trash2 aria-hidden="true" />
                </Button>
              </>
            )}
          </div>
        ) : null}
        <DeliveryLog projectId={projectId} agentId={agentId} hook={hook} canManage={canManage} />
      </CardContent>
    </Card>
  );
}

export function AgentWebhooks({ projectId, agentId, canManage }: { projectId: string; agentId: string; canManage: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.hook.list.queryOptions({ projectId, agentId }));
  const [editing, setEditing] = useState<HookView | "new" | null>(null);
  const [shown, setShown] = useState<{ hook: HookView; secret: string } | null>(null);
  // New deliveries arrive in the background: refresh the log that shows them and the list.
  useSubscription(
    trpc.hook.onDelivery.subscriptionOptions(list.data ? { projectId, agentId } : skipToken, {
      onData: (d) => {
        void queryClient.invalidateQueries({ queryKey: trpc.hook.deliveries.queryKey({ projectId, agentId, hookId: d.hookId }) });
        void queryClient.invalidateQueries({ queryKey: trpc.hook.list.queryKey({ projectId, agentId }) });
      },
    }),
  );
  const showSecret = (hook: HookView, secret: string) => setShown({ hook, secret });
  return (
    <div className="flex max-w-4xl flex-col gap-6">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <h2 className="text-xl font-semibold">Inbound webhooks</h2>
          <p className="text-muted-foreground text-sm">
            URLs that GitHub or your own services POST to: each verified payload becomes a message to this agent, rendered by the webhook&apos;s template.
          </p>
        </div>
        {canManage ? (
          <Button onClick={() => setEditing("new")}>
            <Plus aria-hidden="true" />
            Add webhook
          </Button>
        ) : null}
      </div>
      {list.isPending ? <Skeleton className="h-40 w-full" /> : null}
      {list.isError ? <QueryErrorAlert title="Could not load the webhooks" error={list.error} onRetry={() => void list.refetch()} /> : null}
      {list.data && !list.data.length ? (
        <p className="text-muted-foreground flex items-center gap-2 text-sm">
          <Webhook className="size-4" aria-hidden="true" /> No inbound webhooks yet.
        </p>
      ) : null}
      {list.data?.map((h) => (
        <HookCard key={h.id} projectId={projectId} agentId={agentId} hook={h} canManage={canManage} onEdit={() => setEditing(h)} onSecret={showSecret} />
      ))}
      {editing ? (
        <HookDialog
          key={editing === "new" ? "new" : editing.id}
          projectId={projectId}
          agentId={agentId}
          hook={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSecret={showSecret}
        />
      ) : null}
      <Dialog open={!!shown} onOpenChange={(o) => !o && setShown(null)}>
        <DialogContent className="sm:max-w-lg">
          <DialogHeader>
            <DialogTitle>The secret of {shown?.hook.name}</DialogTitle>
            <DialogDescription>This is the only time Armory shows it. Paste it into the sender (GitHub: the webhook&apos;s Secret field).</DialogDescription>
          </DialogHeader>
          {shown ? <SecretOnce secret={shown.secret} label={`Secret of ${shown.hook.name}`} /> : null}
          <DialogFooter>
            <Button onClick={() => setShown(null)}>Done</Button>
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </div>
  );
}
