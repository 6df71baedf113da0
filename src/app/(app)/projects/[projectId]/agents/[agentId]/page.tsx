import type { Metadata } from "next";
import { AgentDetail } from "@/components/agents/agent-detail";
import { isAgentTab } from "@/components/agents/agent-format";

export const metadata: Metadata = { title: "Agent" };

export default async function AgentPage({
  params,
  searchParams,
}: {
  params: Promise<{ projectId: string; agentId: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const [{ projectId, agentId }, query] = await Promise.all([params, searchParams]);
  const tab = isAgentTab(query.tab) ? query.tab : "chat";
  // Keyed by agent so moving between agents starts fresh (tab, forms).
  return <AgentDetail key={agentId} projectId={projectId} agentId={agentId} initialTab={tab} />;
}
