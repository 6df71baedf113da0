import type { Metadata } from "next";
import { AccessView } from "@/components/trust/access-view";
import { requirePageSession } from "@/server/auth/session";

export const metadata: Metadata = { title: "Tokens & access" };

export default async function AccessPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  const session = await requirePageSession(`/projects/${projectId}/access`);
  return <AccessView projectId={projectId} isAdmin={!!session.user.isAdmin} />;
}
