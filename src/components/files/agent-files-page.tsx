"use client";
// The full-page editor (/projects/[projectId]/agents/[agentId]/files): the agent's files with
// the whole width of the page.
import { useQuery } from "@tanstack/react-query";
import { ArrowLeft } from "lucide-react";
import Link from "next/link";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Skeleton } from "@/components/ui/skeleton";
import { useAgentStatus } from "@/components/agents/use-agent-status";
import { useTRPC } from "@/lib/trpc/client";
import { FileBrowser } from "./file-browser";

export function AgentFilesPage({ projectId, agentId, initialPath }: { projectId: string; agentId: string; initialPath: string | null }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  const agent = useQuery(trpc.agent.get.queryOptions({ projectId, agentId }));
  useAgentStatus({ projectId, agentId, enabled: !!agent.data && !agent.isError });
  const back = `/projects/${projectId}/agents/${agentId}?tab=files`;
  if (!project.data) return null; // the project shell shows loading and error states
  if (agent.isError) return <QueryErrorAlert title="Could not load this agent" error={agent.error} onRetry={() => void agent.refetch()} />;
  if (!agent.data) return <Skeleton className="h-[32rem] w-full" />;
  return (
    <div className="flex flex-col gap-4">
      <div className="flex items-center gap-3">
        <Link href={back} className="text-muted-foreground hover:text-foreground inline-flex items-center gap-1 text-sm">
          <ArrowLeft className="size-4" aria-hidden="true" />
          {agent.data.name}
        </Link>
        <h2 className="text-lg font-semibold tracking-tight">Files</h2>
      </div>
      <FileBrowser
        projectId={projectId}
        agentId={agentId}
        role={project.data.role}
        running={agent.data.observedState === "running"}
        initialPath={initialPath}
        className="min-h-[calc(100vh-12rem)]"
      />
    </div>
  );
}
