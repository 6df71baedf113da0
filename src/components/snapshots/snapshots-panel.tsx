"use client";
// An agent's Snapshots tab: take a snapshot (its /workspace and Claude sessions as one archive),
// see each one's size, files and time, restore one into this agent while it is stopped, clone one
// into a new agent, delete one. Kept live by snapshot.onChange (progress while one is written).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { Archive, Copy, History, Loader2, Trash2 } from "lucide-react";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { toast } from "sonner";
import { useNow } from "@/components/agents/use-now";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { formatSize } from "@/components/files/file-format";
import { formatRunDuration } from "@/components/schedules/schedules-panel";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import type { SnapshotView } from "@/contracts/snapshots";

/** States in which a restore is possible (the container is not running). */
const STOPPED = new Set(["created", "exited", "dead", "missing"]);

type Progress = Record<string, { bytes: number; files?: number; restoring?: boolean }>;

function CloneDialog({ projectId, snapshot, onClose }: { projectId: string; snapshot: SnapshotView; onClose: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [name, setName] = useState(`${snapshot.agentName}-clone`.slice(0, 63));
  const clone = useMutation(
    trpc.snapshot.clone.mutationOptions({
      onSuccess: (agent) => {
        toast.success(`Agent ${agent.name} created from the snapshot`);
        void queryClient.invalidateQueries({ queryKey: trpc.agent.list.queryKey({ projectId }) });
        onClose();
        router.push(`/projects/${projectId}/agents/${agent.id}`);
      },
    }),
  );
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()}>
      <DialogContent>
        <form
          className="flex flex-col gap-4"
          onSubmit={(e) => {
            e.preventDefault();
            clone.mutate({ projectId, snapshotId: snapshot.id, name: name.trim(), start: true });
          }}
        >
          <DialogHeader>
            <DialogTitle>Clone agent</DialogTitle>
            <DialogDescription>
              A new agent with this snapshot&apos;s template ({snapshot.templateName}), model, limits and environment, and its files and Claude sessions. It starts once they are in place.
            </DialogDescription>
          </DialogHeader>
          <div className="flex flex-col gap-2">
            <Label htmlFor="clone-name">Name of the new agent</Label>
            <Input id="clone-name" value={name} maxLength={63} onChange={(e) => setName(e.target.value)} autoFocus />
          </div>
          {clone.isError ? (
            <p role="alert" className="text-destructive text-sm">
              {errorMessage(clone.error)}
            </p>
          ) : null}
          <DialogFooter>
            <Button type="button" variant="outline" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" disabled={clone.isPending || !name.trim()}>
              {clone.isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : <Copy aria-hidden="true" />}
              Create agent
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

function SnapshotRow({
  projectId,
  agentId,
  snapshot,
  progress,
  canManage,
  canClone,
  stopped,
  onClone,
}: {
  projectId: string;
  agentId: string;
  snapshot: SnapshotView;
  progress?: Progress[string];
  canManage: boolean;
  canClone: boolean;
  stopped: boolean;
  onClone: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow();
  const [confirm, setConfirm] = useState<"restore" | "delete" | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: trpc.snapshot.list.queryKey({ projectId, agentId }) });
  const restore = useMutation(
    trpc.snapshot.restore.mutationOptions({
      onSuccess: () => {
        toast.success("Snapshot restored", { description: "The agent's files and sessions are the snapshot's. Start the agent to continue." });
        setConfirm(null);
        refresh();
      },
      onError: (err) => toast.error("The snapshot was not restored", { description: errorMessage(err) }),
    }),
  );
  const remove = useMutation(
    trpc.snapshot.delete.mutationOptions({
      onSuccess: () => refresh(),
      onError: (err) => toast.error("The snapshot was not deleted", { description: errorMessage(err) }),
    }),
  );
  const label = snapshot.createdAt.toLocaleString();
  const ready = snapshot.status === "ready";
  return (
    <tr data-testid="snapshot-row" data-status={snapshot.status}>
      <td className="px-3 py-2">
        <div className="font-medium" title={label}>
          {timeAgo(snapshot.createdAt, new Date(now))}
        </div>
        {snapshot.note ? <div className="text-muted-foreground text-xs">{snapshot.note}</div> : null}
        {snapshot.createdBy ? <div className="text-muted-foreground text-xs">by {snapshot.createdBy.name}</div> : null}
      </td>
      <td className="max-w-xs px-3 py-2">
        <Badge variant={ready ? "secondary" : snapshot.status === "failed" ? "destructive" : "outline"} data-testid="snapshot-status">
          {snapshot.status === "creating" || progress?.restoring ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
          {progress?.restoring ? "restoring" : snapshot.status}
        </Badge>
        {snapshot.error ? <div className="text-destructive mt-1 text-xs">{snapshot.error}</div> : null}
        {progress && (snapshot.status === "creating" || progress.restoring) ? (
          <div className="text-muted-foreground mt-1 text-xs" data-testid="snapshot-progress">
            {formatSize(progress.bytes)} {progress.restoring ? "read" : `of files, ${progress.files ?? 0} files`}
          </div>
        ) : null}
        {snapshot.restoredAt ? <div className="text-muted-foreground mt-1 text-xs">restored {timeAgo(snapshot.restoredAt, new Date(now))}</div> : null}
      </td>
      <td className="px-3 py-2 text-xs" data-testid="snapshot-size">
        {ready ? formatSize(snapshot.sizeBytes) : "—"}
        {ready ? <div className="text-muted-foreground">{formatSize(snapshot.contentBytes)} of files</div> : null}
      </td>
      <td className="px-3 py-2 text-xs">{ready ? snapshot.fileCount : "—"}</td>
      <td className="px-3 py-2 text-xs">{snapshot.durationMs !== null ? formatRunDuration(snapshot.durationMs) : "—"}</td>
      <td className="px-3 py-2">
        <div className="flex flex-wrap gap-2">
          {canManage && ready ? (
            confirm === "restore" ? (
              <>
                <Button size="sm" variant="destructive" disabled={restore.isPending} onClick={() => restore.mutate({ projectId, agentId, snapshotId: snapshot.id })}>
                  {restore.isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
                  Replace files and sessions
                </Button>
                <Button size="sm" variant="outline" onClick={() => setConfirm(null)}>
                  Cancel
                </Button>
              </>
            ) : (
              <Button
                size="sm"
                variant="outline"
                disabled={!stopped}
                title={stopped ? undefined : "Stop the agent first: a snapshot is restored only into a stopped agent."}
                onClick={() => setConfirm("restore")}
              >
                <History aria-hidden="true" />
                Restore
              </Button>
            )
          ) : null}
          {canClone && ready ? (
            <Button size="sm" variant="outline" onClick={onClone}>
              <Copy aria-hidden="true" />
              Clone agent
            </Button>
          ) : null}
          {canClone && snapshot.status !== "creating" ? (
            confirm === "delete" ? (
              <>
                <Button size="sm" variant="destructive" disabled={remove.isPending} onClick={() => remove.mutate({ projectId, snapshotId: snapshot.id })}>
                  Delete snapshot
                </Button>
                <Button size="sm" variant="outline" onClick={() => setConfirm(null)}>
                  Cancel
                </Button>
              </>
            ) : (
              <Button size="sm" variant="ghost" aria-label={`Delete the snapshot of ${label}`} onClick={() => setConfirm("delete")}>
                <Trash2 aria-hidden="true" />
              </Button>
            )
          ) : null}
        </div>
      </td>
    </tr>
  );
}

export function SnapshotsPanel({
  projectId,
  agentId,
  agentState,
  canManage,
  canClone,
}: {
  projectId: string;
  agentId: string;
  /** The agent's observed state: restore is offered only while it is stopped. */
  agentState: string;
  /** Take and restore snapshots (the agent permission `remove`). */
  canManage: boolean;
  /** Delete snapshots and clone agents (the project's admin role). */
  canClone: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const listKey = trpc.snapshot.list.queryKey({ projectId, agentId });
  const list = useQuery(trpc.snapshot.list.queryOptions({ projectId, agentId }));
  const [note, setNote] = useState("");
  const [progress, setProgress] = useState<Progress>({});
  const [cloning, setCloning] = useState<SnapshotView | null>(null);
  useSubscription(
    trpc.snapshot.onChange.subscriptionOptions({ projectId }, {
      onData: (c) => {
        if (c.agentId !== agentId) return;
        if (c.type === "progress" || c.type === "restoring") {
          setProgress((p) => ({ ...p, [c.snapshotId]: { bytes: c.bytes ?? 0, files: c.files, restoring: c.type === "restoring" } }));
          return;
        }
        setProgress((p) => {
          const { [c.snapshotId]: _done, ...rest } = p;
          return rest;
        });
        void queryClient.invalidateQueries({ queryKey: listKey });
      },
    }),
  );
  const create = useMutation(
    trpc.snapshot.create.mutationOptions({
      onSuccess: () => {
        setNote("");
        void queryClient.invalidateQueries({ queryKey: listKey });
      },
      onError: (err) => toast.error("No snapshot was taken", { description: errorMessage(err) }),
    }),
  );
  const stopped = STOPPED.has(agentState);
  return (
    <div className="flex max-w-5xl flex-col gap-6">
      <div className="flex flex-col gap-1">
        <h2 className="text-xl font-semibold">Snapshots</h2>
        <p className="text-muted-foreground text-sm">
          A snapshot saves this agent&apos;s <code>/workspace</code> and its Claude Code sessions as one compressed archive on the Armory server. Taken while the agent runs, files
          it changes during the copy may be caught mid-change: stop it (or wait between turns) for an exact copy. Restoring replaces every file and session with the
          snapshot&apos;s and needs the agent stopped; cloning makes a new agent from it.
        </p>
      </div>
      {canManage ? (
        <form
          className="flex flex-wrap items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ projectId, agentId, note: note.trim() || null });
          }}
        >
          <div className="flex min-w-64 flex-1 flex-col gap-1">
            <Label htmlFor="snapshot-note">Note (optional)</Label>
            <Input id="snapshot-note" value={note} maxLength={500} placeholder="e.g. before the refactor" onChange={(e) => setNote(e.target.value)} />
          </div>
          <Button type="submit" disabled={create.isPending}>
            {create.isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : <Archive aria-hidden="true" />}
            Take snapshot
          </Button>
        </form>
      ) : null}
      {list.isPending ? (
        <Skeleton className="h-24 w-full" />
      ) : list.isError ? (
        <QueryErrorAlert title="Could not load the snapshots" error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <div className="text-muted-foreground flex items-center gap-2 rounded-md border border-dashed p-6 text-sm">
          <Archive aria-hidden="true" className="size-5" />
          No snapshots of this agent yet.
        </div>
      ) : (
        <div className="overflow-x-auto rounded-md border">
          <table className="w-full text-sm" aria-label="Snapshots">
            <thead className="bg-muted/50 text-muted-foreground text-left text-xs">
              <tr>
                <th scope="col" className="px-3 py-2 font-medium">Taken</th>
                <th scope="col" className="px-3 py-2 font-medium">Status</th>
                <th scope="col" className="px-3 py-2 font-medium">Size</th>
                <th scope="col" className="px-3 py-2 font-medium">Files</th>
                <th scope="col" className="px-3 py-2 font-medium">Took</th>
                <th scope="col" className="px-3 py-2 font-medium">Actions</th>
              </tr>
            </thead>
            <tbody className="divide-y">
              {list.data.map((s) => (
                <SnapshotRow
                  key={s.id}
                  projectId={projectId}
                  agentId={agentId}
                  snapshot={s}
                  progress={progress[s.id]}
                  canManage={canManage}
                  canClone={canClone}
                  stopped={stopped}
                  onClone={() => setCloning(s)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cloning ? <CloneDialog projectId={projectId} snapshot={cloning} onClose={() => setCloning(null)} /> : null}
    </div>
  );
}
