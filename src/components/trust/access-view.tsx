"use client";
import { useQuery } from "@tanstack/react-query";
import { KeyRound } from "lucide-react";
import Link from "next/link";
import { useTRPC } from "@/lib/trpc/client";
import { CheckAccess } from "./check-access";
import { GrantsSection } from "./grants-section";
import { InvitationsSection } from "./invitations-section";
import { MembersSection } from "./members-section";

/** The project's Tokens & access page: members, trust grants, and where tokens live. */
export function AccessView({ projectId, isAdmin = false }: { projectId: string; isAdmin?: boolean }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  // The project shell shows loading and error states.
  if (!project.data) return null;
  return (
    <div className="flex max-w-4xl flex-col gap-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="flex flex-col gap-1">
          <h2 className="text-lg font-semibold tracking-tight">Tokens &amp; access</h2>
          <p className="text-muted-foreground text-sm">Who may do what to this project&apos;s agents.</p>
        </div>
        <Link href="/settings/tokens" className="text-primary inline-flex items-center gap-1.5 text-sm underline-offset-4 hover:underline">
          <KeyRound className="size-4" aria-hidden="true" />
          Your machine tokens
        </Link>
      </div>
      <MembersSection projectId={projectId} myRole={project.data.role} />
      {/* Project owners and the instance admin (who acts as an owner here) invite people. */}
      {project.data.role === "owner" || isAdmin ? <InvitationsSection projectId={projectId} myRole={isAdmin ? "owner" : project.data.role} /> : null}
      <GrantsSection projectId={projectId} myRole={project.data.role} />
      <CheckAccess projectId={projectId} myRole={project.data.role} />
    </div>
  );
}
