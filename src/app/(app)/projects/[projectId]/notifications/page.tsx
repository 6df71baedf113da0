import type { Metadata } from "next";
import { ProjectNotifications } from "@/components/notifications/project-notifications";

export const metadata: Metadata = { title: "Notifications" };

export default async function NotificationsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <ProjectNotifications projectId={projectId} />;
}
