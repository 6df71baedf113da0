import type { Metadata } from "next";
import { ProjectUsage } from "@/components/usage/project-usage";

export const metadata: Metadata = { title: "Usage" };

export default async function UsagePage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <ProjectUsage projectId={projectId} />;
}
