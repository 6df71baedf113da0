"use client";
// The project's Secrets page: project-wide secrets (agents' own secrets live on each agent's Settings tab).
import { useQuery } from "@tanstack/react-query";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { SecretsManager } from "@/components/secrets/secrets-manager";
import { Skeleton } from "@/components/ui/skeleton";
import { useTRPC } from "@/lib/trpc/client";

export function ProjectSecrets({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  return (
    <div className="flex max-w-3xl flex-col gap-6">
      <div>
        <h2 className="text-xl font-semibold">Secrets</h2>
        <p className="text-muted-foreground text-sm">
          Encrypted at rest (AES-256-GCM) and injected only into agent containers as environment variables. An agent&apos;s
          own secrets (its Settings tab) override these. Changes reach a container when it is next re-created.
        </p>
      </div>
      {project.isPending ? <Skeleton className="h-40 w-full" /> : null}
      {project.isError ? <QueryErrorAlert title="Could not load the project" error={project.error} onRetry={() => void project.refetch()} /> : null}
      {project.data ? <SecretsManager projectId={projectId} role={project.data.role} /> : null}
    </div>
  );
}
