import type { Metadata } from "next";
import { KeyRound } from "lucide-react";
import { UnreleasedSection } from "@/components/projects/unreleased-section";

export const metadata: Metadata = { title: "Secrets" };

export default function SecretsPage() {
  return (
    <UnreleasedSection
      icon={KeyRound}
      title="Secrets"
      description="Secrets such as API keys are encrypted at rest and injected only into your agents' containers. Their values are never shown again, returned by the API, or written to logs."
      points={[
        "Encrypted with AES-256-GCM",
        "Injected into containers as environment variables",
        "Masked wherever an agent's environment is shown",
        "Set, replace and delete by name",
      ]}
    />
  );
}
