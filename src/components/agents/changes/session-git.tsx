"use client";
// On the Chat tab: the open session's git branch (and its base) with its pull request, and a way
// to start a session on a branch of its own when the agent has a repository.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ExternalLink, GitBranch, GitBranchPlus } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { errorMessage, useTRPC } from "@/lib/trpc/client";

export function SessionGitBar({
  projectId,
  agentId,
  sessionId,
  canChat,
  onCreated,
}: {
  projectId: string;
  agentId: string;
  sessionId: string | null;
  canChat: boolean;
  onCreated: (sessionId: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const agent = useQuery(trpc.agent.get.queryOptions({ projectId, agentId }));
  const sessions = useQuery(trpc.chat.sessions.queryOptions({ projectId, agentId }));
  const [title, setTitle] = useState("");
  const create = useMutation(
    trpc.git.createSession.mutationOptions({
      onSuccess: (s) => {
        toast.success(`New session on ${s.branch}`);
        setTitle("");
        void queryClient.invalidateQueries({ queryKey: trpc.chat.sessions.queryKey({ projectId, agentId }) });
        onCreated(s.sessionId);
      },
      onError: (err) => toast.error("No session was started", { description: errorMessage(err) }),
    }),
  );
  const repo = agent.data?.repository;
  if (!repo) return null;
  const git = sessions.data?.sessions.find((s) => s.id === sessionId)?.git ?? null;
  return (
    <div className="flex flex-wrap items-center gap-2 text-sm" data-testid="session-git">
      {git ? (
        <span className="inline-flex items-center gap-1 font-mono text-xs">
          <GitBranch className="size-3.5" aria-hidden="true" />
          <span>{git.branch}</span>
          <span className="text-muted-foreground">from {git.base}</span>
        </span>
      ) : sessionId ? (
        <span className="text-muted-foreground text-xs">This session works in the agent&apos;s workspace ({repo.branch ?? "default branch"}).</span>
      ) : null}
      {git?.pullRequestUrl ? (
        <a href={git.pullRequestUrl} target="_blank" rel="noreferrer" className="inline-flex items-center gap-1 text-xs underline">
          <ExternalLink className="size-3" aria-hidden="true" />
          Pull request
        </a>
      ) : null}
      {canChat && repo.cloneState === "ready" ? (
        <form
          className="ml-auto flex items-center gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            if (title.trim()) create.mutate({ projectId, agentId, title: title.trim() });
          }}
        >
          <Input aria-label="Task for a new branch session" placeholder="Task for a new branch" value={title} onChange={(e) => setTitle(e.target.value)} className="h-8 w-56" maxLength={200} />
          <Button type="submit" size="sm" variant="outline" disabled={!title.trim() || create.isPending}>
            <GitBranchPlus aria-hidden="true" />
            {create.isPending ? "Starting…" : "New branch session"}
          </Button>
        </form>
      ) : null}
    </div>
  );
}
