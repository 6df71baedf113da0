import type { Metadata } from "next";
import { AgentFilesPage } from "@/components/files/agent-files-page";

export const metadata: Metadata = { title: "Files" };

export default async function FilesPage({
  params,
  searchParams,
}: {
  params: Promise<{ projectId: string; agentId: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const [{ projectId, agentId }, query] = await Promise.all([params, searchParams]);
  const path = typeof query.path === "string" && query.path.startsWith("/") ? query.path : null;
  return <AgentFilesPage key={agentId} projectId={projectId} agentId={agentId} initialPath={path} />;
}
