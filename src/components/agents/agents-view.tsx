"use client";
import { useQuery } from "@tanstack/react-query";
import { Bot, Plus } from "lucide-react";
import { useState } from "react";
import { AgentCard } from "@/components/agents/agent-card";
import { EngineBanner, LiveIndicator } from "@/components/agents/agent-status";
import { CreateAgentDialog } from "@/components/agents/create-agent-dialog";
import { useAgentStatus } from "@/components/agents/use-agent-status";
import { CardGridSkeleton } from "@/components/common/card-grid-skeleton";
import { EmptyState } from "@/components/common/empty-state";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Button } from "@/components/ui/button";
import { useTRPC } from "@/lib/trpc/client";
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
        <CardGridSkeleton label="Loading agents…" count={3} columns="sm:grid-cols-2 lg:grid-cols-3" badge />
      ) : agents.isError ? (
        <QueryErrorAlert title="Could not load the agents" error={agents.error} onRetry={() => void agents.refetch()} />
      ) : agents.data.length === 0 ? (
        <EmptyState
          id="agents-empty-title"
          icon={Bot}
          title="No agents yet"
          headingLevel={3}
          description={
            canCreate
              ? "Create your first agent from a template: Armory starts Claude Code in its own container, with its own workspace, limits and permissions."
              : "When an owner or admin of this project creates agents, they appear here."
          }
          action={canCreate ? { label: "Create your first agent", onClick: () => setCreateOpen(true) } : null}
        />
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
