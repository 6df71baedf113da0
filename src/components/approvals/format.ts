// Approvals in words and human units, for the chat cards, the inbox and notifications. Client-safe:
// only the shared contract is imported.
import type { z } from "zod";
import type { approvalDecider, ApprovalStatus } from "@/contracts/approvals";

export type ApprovalDecider = z.infer<typeof approvalDecider>;

/** 42 s, 9 min 58 s, 1 h 5 min, 2 d 3 h: a duration as people read a countdown. */
export function formatCountdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const rest = s % 60;
    return rest ? `${m} min ${rest} s` : `${m} min`;
  }
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  return h ? `${d} d ${h} h` : `${d} d`;
}

/** A timeout in seconds as words: 600 → "10 minutes", 90 → "1 min 30 s", 86400 → "1 day". */
export function formatTimeout(sec: number): string {
  if (sec % 86_400 === 0) return `${sec / 86_400} ${sec === 86_400 ? "day" : "days"}`;
  if (sec % 3600 === 0) return `${sec / 3600} ${sec === 3600 ? "hour" : "hours"}`;
  if (sec % 60 === 0) return `${sec / 60} ${sec === 60 ? "minute" : "minutes"}`;
  return formatCountdown(sec * 1000);
}

export const STATUS_LABELS: Record<ApprovalStatus, string> = {
  pending: "Waiting for a decision",
  allowed: "Allowed",
  denied: "Denied",
  expired: "Timed out",
  cancelled: "Cancelled",
};

/** Who decided, as a sentence ending: "by Ada Lovelace", "by token ci-bot", "by the remembered rule Bash(ls:*)". */
export function deciderText(d: ApprovalDecider | null, rule?: string | null): string {
  if (!d) return "";
  switch (d.kind) {
    case "user":
      return `by ${d.name}`;
    case "token":
      // The server names tokens "token <name>".
      return `by ${/^token /.test(d.name) ? d.name : `token ${d.name}`}`;
    case "rule":
      return `by the remembered rule ${rule ?? d.name}`;
    case "timeout":
      return "because no one decided in time";
    default:
      return d.name ? `by ${d.name}` : "";
  }
}

/** The outcome line of a decided approval: "Allowed by Ada Lovelace", "Denied by bot: not now". */
export function outcomeText(status: ApprovalStatus, decidedBy: ApprovalDecider | null, message: string | null, rule?: string | null): string {
  if (status === "pending") return STATUS_LABELS.pending;
  if (status === "expired") return `Timed out: no one decided in time${message ? ` (${message})` : ""}`;
  if (status === "cancelled") return `Cancelled${message ? `: ${message}` : ": the turn ended before a decision"}`;
  const who = deciderText(decidedBy, rule);
  return `${STATUS_LABELS[status]}${who ? ` ${who}` : ""}${message ? `: “${message}”` : ""}`;
}

/** The agent page showing one chat session. */
export function sessionHref(projectId: string, agentId: string, sessionId: string): string {
  return `/projects/${projectId}/agents/${agentId}?session=${encodeURIComponent(sessionId)}`;
}
