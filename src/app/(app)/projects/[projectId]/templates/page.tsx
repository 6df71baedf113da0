import type { Metadata } from "next";
import { TemplatesSection } from "@/components/templates/templates-section";

export const metadata: Metadata = { title: "Templates" };

export default async function TemplatesPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <TemplatesSection projectId={projectId} />;
}
