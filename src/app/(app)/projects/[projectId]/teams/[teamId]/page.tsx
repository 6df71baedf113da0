import type { Metadata } from "next";
import { TeamChat } from "@/components/teams/team-chat";

export const metadata: Metadata = { title: "Team chat" };

export default async function TeamChatPage({ params }: { params: Promise<{ projectId: string; teamId: string }> }) {
  const { projectId, teamId } = await params;
  // Keyed by team so moving between teams starts fresh.
  return <TeamChat key={teamId} projectId={projectId} teamId={teamId} />;
}
