import type { Metadata } from "next";
import { AccessView } from "@/components/trust/access-view";

export const metadata: Metadata = { title: "Tokens & access" };

export default async function AccessPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <AccessView projectId={projectId} />;
}
