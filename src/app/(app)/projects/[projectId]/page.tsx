import { redirect } from "next/navigation";

// A project opens on its first section, Agents.
export default async function ProjectPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  redirect(`/projects/${encodeURIComponent(projectId)}/agents`);
}
