"use client";
import { useQuery } from "@tanstack/react-query";
import { ChevronRight, Pencil } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { ProjectAvatar } from "@/components/projects/project-avatar";
import { ProjectNav } from "@/components/projects/project-nav";
import { ProjectUnavailable } from "@/components/projects/project-unavailable";
import { RoleBadge } from "@/components/projects/role-badge";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { useTRPC } from "@/lib/trpc/client";
import { roleAtLeast } from "@/server/domain/roles";

/** The frame of every project page: breadcrumb, name, role, section tabs. */
export function ProjectShell({ projectId, children }: { projectId: string; children: ReactNode }) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));

  if (project.isError) {
    return <ProjectUnavailable error={project.error} onRetry={() => void project.refetch()} />;
  }

  const onSettings = pathname.endsWith("/settings");

  return (
    <>
      <div className="bg-muted/30 border-b">
        <div className="mx-auto w-full max-w-6xl px-4 pt-5 sm:px-6">
          <nav aria-label="Breadcrumb">
            <ol className="text-muted-foreground flex items-center gap-1.5 text-sm">
              <li>
                <Link href="/" className="hover:text-foreground transition-colors">
                  Projects
                </Link>
              </li>
              <li aria-hidden="true">
                <ChevronRight className="size-3.5" />
              </li>
              <li aria-current="page" className="text-foreground max-w-[50vw] truncate font-medium">
                {project.data?.name ?? <Skeleton className="inline-block h-3.5 w-24 align-middle" />}
              </li>
            </ol>
          </nav>

          <div className="mt-4 flex flex-col gap-4 sm:flex-row sm:items-center sm:justify-between">
            {project.data ? (
              <div className="flex min-w-0 items-center gap-3">
                <ProjectAvatar id={project.data.id} name={project.data.name} className="size-10 text-base" />
                <div className="min-w-0">
                  <div className="flex flex-wrap items-center gap-2">
                    <h1 className="truncate text-xl font-semibold tracking-tight sm:text-2xl">{project.data.name}</h1>
                    <RoleBadge role={project.data.role} />
                  </div>
                  {project.data.description ? (
                    <p className="text-muted-foreground mt-0.5 line-clamp-1 text-sm">{project.data.description}</p>
                  ) : null}
                </div>
              </div>
            ) : (
              <div aria-busy="true" className="flex items-center gap-3">
                <span className="sr-only">Loading project…</span>
                <Skeleton className="size-10 rounded-lg" />
                <div className="flex flex-col gap-2">
                  <Skeleton className="h-6 w-48" />
                  <Skeleton className="h-3.5 w-64" />
                </div>
              </div>
            )}
            {project.data && roleAtLeast(project.data.role, "admin") && !onSettings ? (
              <Button variant="outline" size="sm" asChild className="self-start sm:self-auto">
                <Link href={`/projects/${projectId}/settings?rename=1`}>
                  <Pencil aria-hidden="true" />
                  Rename
                </Link>
              </Button>
            ) : null}
          </div>

          <div className="mt-4">
            <ProjectNav projectId={projectId} />
          </div>
        </div>
      </div>
      <div className="mx-auto w-full max-w-6xl flex-1 px-4 py-8 sm:px-6">
        {project.data ? children : <ContentSkeleton />}
      </div>
    </>
  );
}

function ContentSkeleton() {
  return (
    <div aria-hidden="true" className="flex flex-col gap-4">
      <Skeleton className="h-6 w-40" />
      <Skeleton className="h-32 w-full rounded-xl" />
    </div>
  );
}
