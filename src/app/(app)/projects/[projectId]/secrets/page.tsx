import type { Metadata } from "next";
import { ProjectSecrets } from "@/components/secrets/project-secrets";

export const metadata: Metadata = { title: "Secrets" };

export default async function SecretsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <ProjectSecrets projectId={projectId} />;
}
