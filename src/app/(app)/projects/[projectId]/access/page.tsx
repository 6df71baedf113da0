import type { Metadata } from "next";
import { ShieldCheck } from "lucide-react";
import { UnreleasedSection } from "@/components/projects/unreleased-section";

export const metadata: Metadata = { title: "Tokens & access" };

export default function AccessPage() {
  return (
    <UnreleasedSection
      icon={ShieldCheck}
      title="Tokens & access"
      description="Machine tokens let your services call Armory's API, and trust grants decide exactly which person, token or role may inspect, start, stop, chat with or change which agent."
      points={[
        "Scoped, expiring tokens shown only once",
        "Rotate and revoke tokens, see when each was last used",
        "Grants per agent, per agent-name pattern or per project",
        "Check any caller's access with the reason",
      ]}
    />
  );
}
