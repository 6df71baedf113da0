"use client";
import { useQuery } from "@tanstack/react-query";
import { Bot, Plus, RotateCcw } from "lucide-react";
import { useState } from "react";
import { AgentCard } from "@/components/agents/agent-card";
import { EngineBanner, LiveIndicator } from "@/components/agents/agent-status";
import { CreateAgentDialog } from "@/components/agents/create-agent-dialog";
import { useAgentStatus } from "@/components/agents/use-agent-status";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { roleAtLeast } from "@/server/domain/roles";

/** The project's agents as live cards, with the engine state and the "New agent" dialog. */
export function AgentsView({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  const agents = useQuery(trpc.agent.list.queryOptions({ projectId }));
  const { engine, connection } = useAgentStatus({ projectId });
  const [createOpen, setCreateOpen] = useState(false);
  // The project shell shows loading and error states; this renders once the project is known.
  if (!project.data) return null;
  const role = project.data.role;
  const canCreate = roleAtLeast(role, "admin");
  const engineDown = engine?.state === "down";
  const running = agents.data?.filter((a) => a.observedState === "running").length ?? 0;

  return (
    <section aria-labelledby="agents-title" className="flex flex-col gap-6">
      <div className="flex flex-col gap-4 sm:flex-row sm:items-end sm:justify-between">
        <div className="flex flex-col gap-1">
          <div className="flex items-center gap-3">
            <h2 id="agents-title" className="text-lg font-semibold tracking-tight">
              Agents
            </h2>
            <LiveIndicator connection={connection} />
          </div>
          <p className="text-muted-foreground text-sm">
            {agents.data?.length
              ? `${agents.data.length} ${agents.data.length === 1 ? "agent" : "agents"}, ${running} running. Each runs Claude Code in its own Docker container.`
              : "Each agent runs Claude Code in its own Docker container."}
          </p>
        </div>
        {canCreate ? (
          <Button onClick={() => setCreateOpen(true)} className="self-start sm:self-auto">
            <Plus aria-hidden="true" />
            New agent
          </Button>
        ) : null}
      </div>

      <EngineBanner engine={engine} />

      {agents.isPending ? (
        <AgentsSkeleton />
      ) : agents.isError ? (
        <Alert variant="destructive" className="border-destructive/30">
          <AlertTitle>Could not load the agents</AlertTitle>
          <AlertDescription>
            <p>{errorMessage(agents.error)}</p>
            <Button variant="outline" size="sm" className="mt-2" onClick={() => void agents.refetch()}>
              <RotateCcw aria-hidden="true" />
              Try again
            </Button>
          </AlertDescription>
        </Alert>
      ) : agents.data.length === 0 ? (
        <EmptyState canCreate={canCreate} onCreate={() => setCreateOpen(true)} />
      ) : (
        <ul aria-label="Agents" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {agents.data.map((agent) => (
            <li key={agent.id}>
              <AgentCard agent={agent} role={role} engineDown={engineDown} />
            </li>
          ))}
        </ul>
      )}

      {canCreate ? <CreateAgentDialog projectId={projectId} open={createOpen} onOpenChange={setCreateOpen} /> : null}
    </section>
  );
}

function EmptyState({ canCreate, onCreate }: { canCreate: boolean; onCreate: () => void }) {
  return (
    <section
      aria-labelledby="agents-empty-title"
      className="flex flex-col items-center justify-center gap-4 rounded-xl border border-dashed px-6 py-16 text-center"
    >
      <div className="bg-muted flex size-12 items-center justify-center rounded-full">
        <Bot className="text-muted-foreground size-6" aria-hidden="true" />
      </div>
      <div className="flex max-w-md flex-col gap-1.5">
        <h3 id="agents-empty-title" className="text-lg font-semibold">
          No agents yet
        </h3>
        <p className="text-muted-foreground text-sm">
          {canCreate
            ? "Create your first agent from a template: Armory starts Claude Code in its own container, with its own workspace, limits and permissions."
            : "When an owner or admin of this project creates agents, they appear here."}
        </p>
      </div>
      {canCreate ? (
        <Button onClick={onCreate} variant="outline">
          <Plus aria-hidden="true" />
          Create your first agent
        </Button>
      ) : null}
    </section>
  );
}

function AgentsSkeleton() {
  return (
    <div aria-busy="true" aria-live="polite" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
      <span className="sr-only">Loading agents…</span>
      {Array.from({ length: 3 }, (_, i) => (
        <div key={i} className="flex flex-col gap-4 rounded-xl border p-5">
          <div className="flex items-start gap-3">
            <Skeleton className="size-9 rounded-lg" />
            <div className="flex flex-1 flex-col gap-2">
              <Skeleton className="h-4 w-2/3" />
              <Skeleton className="h-3 w-1/3" />
            </div>
            <Skeleton className="h-5 w-16 rounded-md" />
          </div>
          <div className="flex flex-col gap-2">
            <Skeleton className="h-3 w-1/2" />
            <Skeleton className="h-3 w-3/4" />
            <Skeleton className="h-3 w-2/5" />
          </div>
          <div className="flex gap-2 border-t pt-3">
            <Skeleton className="h-8 w-16" />
            <Skeleton className="h-8 w-16" />
            <Skeleton className="h-8 w-20" />
          </div>
        </div>
      ))}
    </div>
  );
}
