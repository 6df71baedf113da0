"use client";
import { useQuery } from "@tanstack/react-query";
import { FolderPlus, Plus, Users } from "lucide-react";
import Link from "next/link";
import { useState } from "react";
import { CardGridSkeleton } from "@/components/common/card-grid-skeleton";
import { EmptyState } from "@/components/common/empty-state";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { CreateProjectDialog } from "@/components/projects/create-project-dialog";
import { ProjectAvatar } from "@/components/projects/project-avatar";
import { RoleBadge } from "@/components/projects/role-badge";
import { Button } from "@/components/ui/button";
import { useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import type { AppRouter } from "@/server/api/root";
import type { inferRouterOutputs } from "@trpc/server";

type Project = inferRouterOutputs<AppRouter>["project"]["list"][number];

export function ProjectsList() {
  const trpc = useTRPC();
  const projects = useQuery(trpc.project.list.queryOptions());
  const [createOpen, setCreateOpen] = useState(false);

  return (
    <div className="mx-auto flex w-full max-w-6xl flex-col gap-8 px-4 py-8 sm:px-6 sm:py-10">
      <div className="flex flex-col gap-4 sm:flex-row sm:items-end sm:justify-between">
        <div className="flex flex-col gap-1">
          <h1 className="text-2xl font-semibold tracking-tight">Projects</h1>
          <p className="text-muted-foreground text-sm">
            Each project groups agents, their templates and secrets, and who may use them.
          </p>
        </div>
        <Button onClick={() => setCreateOpen(true)} className="self-start sm:self-auto">
          <Plus aria-hidden="true" />
          New project
        </Button>
      </div>

      {projects.isPending ? (
        <CardGridSkeleton label="Loading projects…" count={3} columns="sm:grid-cols-2 lg:grid-cols-3" />
      ) : projects.isError ? (
        <QueryErrorAlert
          title="Could not load your projects"
          error={projects.error}
          onRetry={() => void projects.refetch()}
        />
      ) : projects.data.length === 0 ? (
        <EmptyState
          id="projects-empty-title"
          icon={FolderPlus}
          title="No projects yet"
          headingLevel={2}
          description="Create your first project to start running coding agents. A project keeps their templates, secrets, access rules and audit trail together."
          action={{ label: "Create your first project", onClick: () => setCreateOpen(true) }}
        />
      ) : (
        <section aria-label="Your projects">
          <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            {projects.data.map((project) => (
              <li key={project.id}>
                <ProjectCard project={project} />
              </li>
            ))}
          </ul>
        </section>
      )}

      <CreateProjectDialog open={createOpen} onOpenChange={setCreateOpen} />
    </div>
  );
}

function ProjectCard({ project }: { project: Project }) {
  const members = `${project.memberCount} ${project.memberCount === 1 ? "member" : "members"}`;
  return (
    <article className="group bg-card text-card-foreground hover:border-foreground/20 focus-within:ring-ring/50 relative flex h-full flex-col gap-4 rounded-xl border p-5 shadow-xs transition-[border-color,box-shadow] focus-within:ring-[3px] hover:shadow-md">
      <div className="flex items-start gap-3">
        <ProjectAvatar id={project.id} name={project.name} />
        <div className="min-w-0 flex-1">
          <h2 className="truncate leading-tight font-semibold">
            <Link
              href={`/projects/${project.id}`}
              className="outline-none after:absolute after:inset-0 after:rounded-xl after:content-['']"
            >
              {project.name}
            </Link>
          </h2>
          <p className="text-muted-foreground mt-1 text-xs">
            <time dateTime={project.createdAt.toISOString()} title={project.createdAt.toLocaleString()}>
              Created {timeAgo(project.createdAt)}
            </time>
          </p>
        </div>
        <RoleBadge role={project.role} />
      </div>
      <p className="text-muted-foreground line-clamp-2 min-h-10 text-sm">
        {project.description || <span className="italic">No description</span>}
      </p>
      <div className="text-muted-foreground mt-auto flex items-center gap-4 border-t pt-3 text-xs">
        <span className="inline-flex items-center gap-1.5">
          <Users className="size-3.5" aria-hidden="true" />
          {members}
        </span>
        <span className="ml-auto">Updated {timeAgo(project.updatedAt)}</span>
      </div>
    </article>
  );
}
