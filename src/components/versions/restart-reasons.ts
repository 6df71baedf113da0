// Why an agent's container must be re-created, in words (from the agent view's restartReasons).
import type { AgentView } from "@/server/api/routers/agent/schemas";

type Reason = AgentView["restartReasons"][number];

const REASONS: Record<Reason, string> = {
  image: "its image changed",
  env: "its environment variables changed",
  model: "its model changed",
  permissionMode: "its permission mode changed",
  secrets: "a secret it gets changed",
  layout: "this Armory makes containers differently (the project's own network, a read-only root)",
  config: "the container was made by an earlier Armory with other settings",
};

/** "its model changed and a secret it gets changed" */
export function restartReasonText(reasons: readonly Reason[]): string {
  const parts = reasons.map((r) => REASONS[r]);
  if (!parts.length) return "its settings changed";
  if (parts.length === 1) return parts[0]!;
  return `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}
