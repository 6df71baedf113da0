// An agent's environment as people see it: its own variables and the secrets injected over them,
// with every secret-backed value masked.
import { MASKED_VALUE } from "../domain/env";
import type { Services } from "../services";

export interface EnvEntry {
  key: string;
  value: string;
  secret: boolean;
  source: "env" | "project-secret" | "agent-secret";
}

export async function agentEnvView(services: Pick<Services, "agents" | "secrets">, projectId: string, agentId: string): Promise<EnvEntry[]> {
  const [row, own, project] = await Promise.all([
    services.agents.row(projectId, agentId),
    services.secrets.list({ projectId, agentId }),
    services.secrets.list({ projectId }),
  ]);
  const entries = new Map<string, EnvEntry>();
  const env = row.env && typeof row.env === "object" && !Array.isArray(row.env) ? row.env : {};
  for (const [key, value] of Object.entries(env)) entries.set(key, { key, value: String(value), secret: false, source: "env" });
  for (const s of project) entries.set(s.name, { key: s.name, value: MASKED_VALUE, secret: true, source: "project-secret" });
  for (const s of own) entries.set(s.name, { key: s.name, value: MASKED_VALUE, secret: true, source: "agent-secret" });
  return [...entries.values()].sort((a, b) => a.key.localeCompare(b.key));
}
