import type { Metadata } from "next";
import { ProjectNotifications } from "@/components/notifications/project-notifications";
import { OpenaiEndpointCard } from "@/components/openai/openai-endpoint-card";

export const metadata: Metadata = { title: "Notifications" };

export default async function NotificationsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <div className="flex max-w-4xl flex-col gap-8">
      <ProjectNotifications projectId={projectId} />
      <OpenaiEndpointCard projectId={projectId} />
    </div>
  );
}
