import type { Metadata } from "next";
import { ProjectTeams } from "@/components/teams/project-teams";

export const metadata: Metadata = { title: "Teams" };

export default async function TeamsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <ProjectTeams projectId={projectId} />;
}
