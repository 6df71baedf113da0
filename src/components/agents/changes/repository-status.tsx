"use client";
// The agent's repository on its page header: the clone's progress while it runs (git's own
// --progress, live through the agent status stream), git's reason when it failed with a Retry
// button (git.retryClone: the clone runs again, its progress shows again), else the URL.
import { useMutation } from "@tanstack/react-query";
import { GitBranch, RotateCcw } from "lucide-react";
import { toast } from "sonner";
import type { RepositoryView } from "@/contracts/git";
import { Button } from "@/components/ui/button";
import { errorMessage, useTRPC } from "@/lib/trpc/client";

/** git's reason for a failed clone, and Retry (for those who may write the agent's files). */
export function CloneFailed({ projectId, agentId, repository, canRetry }: { projectId: string; agentId: string; repository: RepositoryView; canRetry: boolean }) {
  const trpc = useTRPC();
  const retry = useMutation(
    trpc.git.retryClone.mutationOptions({
      onError: (err) => toast.error(errorMessage(err)),
    }),
  );
  return (
    <div className="flex flex-wrap items-center gap-2 text-sm" data-testid="repository-status">
      <p role="alert" className="text-destructive">
        The repository could not be cloned: {repository.cloneError ?? "unknown reason"}.
      </p>
      {canRetry ? (
        <Button type="button" size="sm" variant="outline" disabled={retry.isPending} onClick={() => retry.mutate({ projectId, agentId })}>
          <RotateCcw aria-hidden="true" />
          {retry.isPending ? "Retrying…" : "Retry"}
        </Button>
      ) : null}
    </div>
  );
}

export function RepositoryStatus({ projectId, agentId, repository, canRetry }: { projectId: string; agentId: string; repository: RepositoryView | null; canRetry: boolean }) {
  if (!repository) return null;
  const r = repository;
  if (r.cloneState === "failed") return <CloneFailed projectId={projectId} agentId={agentId} repository={r} canRetry={canRetry} />;
  if (r.cloneState !== "ready") {
    return (
      <div className="flex items-center gap-2 text-sm" data-testid="repository-status" role="status">
        <span>
          Cloning <span className="font-mono">{r.url}</span> {r.clonePercent}%{r.clonePhase ? ` · ${r.clonePhase}` : ""}
        </span>
        <progress className="h-2 w-32" max={100} value={r.clonePercent} aria-label="Clone progress" />
      </div>
    );
  }
  return (
    <p className="text-muted-foreground flex items-center gap-1 text-sm" data-testid="repository-status">
      <GitBranch className="size-3.5" aria-hidden="true" />
      <span className="font-mono">{r.url}</span>
      {r.branch ? <span className="font-mono">({r.branch})</span> : null}
    </p>
  );
}
