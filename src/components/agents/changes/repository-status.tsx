"use client";
// The agent's repository on its page header: the clone's progress while it runs (git's own
// --progress, live through the agent status stream), git's reason when it failed, else the URL.
import { GitBranch } from "lucide-react";
import type { RepositoryView } from "@/contracts/git";

export function RepositoryStatus({ repository }: { repository: RepositoryView | null }) {
  if (!repository) return null;
  const r = repository;
  if (r.cloneState === "failed") {
    return (
      <p role="alert" className="text-destructive text-sm" data-testid="repository-status">
        The repository could not be cloned: {r.cloneError ?? "unknown reason"}. Restart the agent to try again.
      </p>
    );
  }
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
