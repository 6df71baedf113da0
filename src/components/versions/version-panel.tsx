"use client";
// The agent's version: which image it runs, the images it may run (local tags of its template's
// repository), an update with live progress, and the history of updates and env changes.
import { useMutation, useQuery } from "@tanstack/react-query";
import { ArrowRight, Loader2, PackageCheck } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { formatBytes } from "@/components/secrets/secrets-manager";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { UpdateProgress } from "@/components/versions/update-progress";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import type { UpdateStepEventView } from "@/server/api/routers/version/schemas";
import { roleAtLeast, type ProjectRole } from "@/server/domain/roles";

function duration(ms: number | null): string {
  if (ms === null) return "—";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function VersionPanel({
  projectId,
  agentId,
  role,
  engineDown,
  steps,
}: {
  projectId: string;
  agentId: string;
  role: ProjectRole;
  engineDown: boolean;
  /** Live steps of this agent's latest update (the env editor shows those of env changes). */
  steps: UpdateStepEventView[];
}) {
  const trpc = useTRPC();
  const canUpdate = roleAtLeast(role, "admin");
  const versions = useQuery(trpc.version.list.queryOptions({ projectId, agentId }));
  const history = useQuery(trpc.version.history.queryOptions({ projectId, agentId }));
  const [picked, setPicked] = useState<string>("");
  const update = useMutation(
    trpc.version.update.mutationOptions({
      onSuccess: (r) => toast.success(`Updated to ${r.toImage}`, { description: `Took ${duration(r.durationMs)}; /workspace and sessions were kept.` }),
      onError: (err) => toast.error("The update was rolled back", { description: errorMessage(err) }),
    }),
  );

  const options = versions.data?.versions.filter((v) => v.allowed && !v.current) ?? [];
  const target = picked || options[0]?.image || "";

  return (
    <Card data-testid="version-panel">
      <CardHeader>
        <CardTitle>
          <h3>Version</h3>
        </CardTitle>
        <CardDescription>
          An update creates a new container beside the running one, waits until it is healthy, then switches. If anything
          fails, the new container is removed and the old one keeps running.
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-5">
        {versions.isPending ? <Skeleton className="h-9 w-full" /> : null}
        {versions.isError ? <QueryErrorAlert title="Could not load the versions" error={versions.error} onRetry={() => void versions.refetch()} /> : null}
        {versions.data ? (
          <>
            <p className="text-sm">
              Running <span className="font-mono font-medium">{versions.data.current}</span>
              {versions.data.inProgress ? (
                <span className="text-muted-foreground"> (updating to {versions.data.inProgress.toImage})</span>
              ) : null}
            </p>
            {versions.data.engineError ? <p className="text-destructive text-sm">{versions.data.engineError}</p> : null}
            {canUpdate ? (
              options.length ? (
                <form
                  className="flex flex-wrap items-end gap-3"
                  aria-label="Update the agent's image"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (target && !update.isPending) update.mutate({ projectId, agentId, image: target });
                  }}
                >
                  <div className="flex min-w-64 flex-col gap-1.5">
                    <Label htmlFor="version-target">Update to</Label>
                    <select
                      id="version-target"
                      className="border-input bg-background h-9 rounded-md border px-3 font-mono text-sm"
                      value={target}
                      onChange={(e) => setPicked(e.target.value)}
                      disabled={update.isPending}
                    >
                      {options.map((v) => (
                        <option key={v.image} value={v.image} disabled={v.local === false}>
                          {v.image}
                          {v.template ? " (template)" : ""}
                          {v.local === false ? " — not on the engine" : v.sizeBytes ? ` — ${formatBytes(v.sizeBytes)}` : ""}
                        </option>
                      ))}
                    </select>
                  </div>
                  <Button type="submit" disabled={update.isPending || engineDown || !target}>
                    {update.isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : <PackageCheck aria-hidden="true" />}
                    {update.isPending ? "Updating…" : "Update"}
                  </Button>
                </form>
              ) : (
                <p className="text-muted-foreground text-sm">
                  No other version is available: build or load another tag of {versions.data.allowed.join(", ")} on the engine.
                </p>
              )
            ) : (
              <p className="text-muted-foreground text-sm">Only owners and admins can update an agent.</p>
            )}
          </>
        ) : null}
        <UpdateProgress steps={steps.filter((s) => s.kind === "image")} />
        <div className="flex flex-col gap-2">
          <h4 className="text-sm font-medium">History</h4>
          {history.isPending ? <Skeleton className="h-16 w-full" /> : null}
          {history.isError ? <QueryErrorAlert title="Could not load the history" error={history.error} onRetry={() => void history.refetch()} /> : null}
          {history.data && !history.data.length ? <p className="text-muted-foreground text-sm">No updates yet.</p> : null}
          {history.data?.length ? (
            <ul className="divide-y rounded-md border text-sm" aria-label="Update history" data-testid="update-history">
              {history.data.map((h) => (
                <li key={h.id} className="flex flex-col gap-1 px-3 py-2">
                  <div className="flex flex-wrap items-center gap-2">
                    <Badge variant={h.status === "succeeded" ? "secondary" : h.status === "running" ? "outline" : "destructive"}>
                      {h.status === "succeeded" ? "Updated" : h.status === "running" ? "Running" : "Rolled back"}
                    </Badge>
                    {h.kind === "image" ? (
                      <span className="font-mono text-xs">
                        {h.fromImage} <ArrowRight className="inline size-3" aria-label="to" /> {h.toImage}
                      </span>
                    ) : (
                      <span className="text-xs">
                        Environment: <span className="font-mono">{h.envKeys.join(", ") || "re-applied"}</span>
                      </span>
                    )}
                  </div>
                  <p className="text-muted-foreground text-xs">
                    {h.byName ?? "someone"} · <time dateTime={h.startedAt.toISOString()} title={h.startedAt.toLocaleString()}>{timeAgo(h.startedAt)}</time> · {duration(h.durationMs)}
                  </p>
                  {h.oldContainerId || h.newContainerId ? (
                    <p className="text-muted-foreground text-xs" data-testid="update-containers">
                      Container{" "}
                      <span className="font-mono" title={h.oldContainerId ?? undefined}>
                        {h.oldContainerId ? h.oldContainerId.slice(0, 12) : "none"}
                      </span>{" "}
                      <ArrowRight className="inline size-3" aria-label="to" />{" "}
                      <span className="font-mono" title={h.newContainerId ?? undefined}>
                        {h.newContainerId ? h.newContainerId.slice(0, 12) : "none"}
                      </span>
                      {h.status === "rolled_back" && h.newContainerId ? " (removed; the previous one was kept)" : null}
                    </p>
                  ) : null}
                  {h.error ? <p className="text-destructive text-xs">{h.error}</p> : null}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      </CardContent>
    </Card>
  );
}
