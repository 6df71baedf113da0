// What happens in a project that someone outside Armory may want to hear about: an approval is
// waiting, a turn finished or failed, an agent crashed or ran out of memory, a budget is reached.
// Producers (chat, approvals, health, the model gateway) publish these on the services'
// `projectEvents` bus; notifications (webhooks) and anything else subscribe there.
import { z } from "zod";

export const PROJECT_EVENT_TYPES = ["approval.needed", "turn.finished", "turn.failed", "agent.crashed", "budget.reached"] as const;
export const projectEventType = z.enum(PROJECT_EVENT_TYPES);
export type ProjectEventType = z.infer<typeof projectEventType>;

interface Base {
  projectId: string;
  agentId: string;
  agentName: string;
  at: Date;
  /** The page that shows it, relative to Armory's public URL ("/projects/p/agents/a?session=s"). */
  path: string;
}

export type ProjectEvent =
  | (Base & { type: "approval.needed"; approvalId: string; sessionId: string; toolName: string; summary: string; expiresAt: Date })
  | (Base & { type: "turn.finished"; sessionId: string; runId: string; durationMs: number | null; costUsd: number; result: string })
  | (Base & { type: "turn.failed"; sessionId: string; runId: string; reason: string; error: string })
  | (Base & { type: "agent.crashed"; oomKilled: boolean; exitCode: number | null; detail: string })
  | (Base & { type: "budget.reached"; scope: "agent" | "project"; limit: "cost" | "tokens"; used: number; max: number; sessionId: string | null });
