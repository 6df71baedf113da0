import type { Metadata } from "next";
import { AuditLog } from "@/components/trust/audit-log";

export const metadata: Metadata = { title: "Audit" };

export default async function AuditPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <AuditLog projectId={projectId} />;
}
