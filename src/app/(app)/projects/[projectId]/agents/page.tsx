import type { Metadata } from "next";
import { Bot } from "lucide-react";
import { UnreleasedSection } from "@/components/projects/unreleased-section";

export const metadata: Metadata = { title: "Agents" };

export default function AgentsPage() {
  return (
    <UnreleasedSection
      icon={Bot}
      title="Agents"
      description="Agents run Claude Code in their own Docker containers. This is where you will create them from templates, start and stop them, chat with them live, edit their files and watch their health."
      points={[
        "Agent cards with status, version, CPU and memory",
        "Live chat with streaming output and tool calls",
        "File editor for each agent's workspace",
        "Logs, health and automatic restarts",
      ]}
    />
  );
}
