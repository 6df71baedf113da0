import type { Metadata } from "next";
import { ProjectSettings } from "@/components/projects/project-settings";

export const metadata: Metadata = { title: "Project settings" };

export default async function ProjectSettingsPage({
  params,
  searchParams,
}: {
  params: Promise<{ projectId: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const [{ projectId }, query] = await Promise.all([params, searchParams]);
  return <ProjectSettings projectId={projectId} focusName={query.rename === "1"} />;
}
