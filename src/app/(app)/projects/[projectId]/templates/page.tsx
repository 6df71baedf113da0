import type { Metadata } from "next";
import { LayoutTemplate } from "lucide-react";
import { UnreleasedSection } from "@/components/projects/unreleased-section";

export const metadata: Metadata = { title: "Templates" };

export default function TemplatesPage() {
  return (
    <UnreleasedSection
      icon={LayoutTemplate}
      title="Templates"
      description="Templates define what a new agent starts with: its image, model and provider, memory, CPU and process limits, instructions, personality, permission mode and allowed tools."
      points={[
        "Templates loaded from YAML files and editable here",
        "Per-agent overrides merged over template defaults",
        "Resource limits validated before an agent is created",
        "Default instructions (CLAUDE.md) for every agent",
      ]}
    />
  );
}
