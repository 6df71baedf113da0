import type { Metadata } from "next";
import { ScrollText } from "lucide-react";
import { UnreleasedSection } from "@/components/projects/unreleased-section";

export const metadata: Metadata = { title: "Audit" };

export default function AuditPage() {
  return (
    <UnreleasedSection
      icon={ScrollText}
      title="Audit log"
      description="Every permission check and every change made in this project will be recorded here: who did it, to which agent, what was allowed or denied, and when."
      points={[
        "Every check and mutation recorded",
        "Filter by caller, target, action and time",
        "Allowed and denied decisions with their reason",
        "Kept alongside the project's data",
      ]}
    />
  );
}
