// What a webhook receives: the body for each format (Slack-compatible, Discord-compatible, Armory's
// own JSON) and, for Armory's, the HMAC-SHA256 signature headers.
//
// Armory signature scheme: X-Armory-Timestamp is the send time in Unix seconds;
// X-Armory-Signature is "sha256=" + hex(HMAC-SHA256(key, `${timestamp}.${rawBody}`)), the key being
// the value of the project secret the webhook names. A receiver recomputes it over the raw body,
// compares in constant time and refuses timestamps older than a few minutes (replays).
import { createHmac } from "node:crypto";
import type { ProjectEvent, ProjectEventType } from "../../contracts/project-events";

/** The event types a webhook can be sent, plus "test" (the "send test" button). */
export type DeliveryEventType = ProjectEventType | "test";

/** A project event as stored in a delivery's payload (dates as ISO strings; no secrets). */
export type StoredEvent = Record<string, unknown> & {
  type: DeliveryEventType;
  projectId: string;
  agentId: string;
  agentName: string;
  at: string;
  path: string;
};

export function storedEvent(e: ProjectEvent): StoredEvent {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) out[k] = v instanceof Date ? v.toISOString() : v;
  return out as StoredEvent;
}

/** The event "send test" delivers. */
export function testEvent(projectId: string, at: Date): StoredEvent {
  return { type: "test", projectId, agentId: "", agentName: "", at: at.toISOString(), path: `/projects/${projectId}/notifications`, message: "A test notification from Armory." };
}

export interface RenderContext {
  deliveryId: string;
  projectName: string;
  /** Armory's public URL (no trailing slash), or undefined: links are then left out. */
  publicUrl: string | undefined;
}

function cut(text: string, max: number): string {
  const flat = text.trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function money(usd: number): string {
  return `$${usd.toFixed(usd < 1 ? 4 : 2)}`;
}

function duration(ms: unknown): string {
  if (typeof ms !== "number") return "";
  return ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}

/** A title and a few lines of plain text describing the event. */
export function describe(e: StoredEvent, projectName: string): { title: string; text: string; color: number } {
  const agent = e.agentName ? `agent ${e.agentName}` : "";
  const where = [projectName && `project ${projectName}`, agent].filter(Boolean).join(", ");
  switch (e.type) {
    case "approval.needed":
      return { title: `Approval needed: ${String(e.toolName)}`, text: `${where}: ${cut(String(e.summary ?? ""), 500)}`, color: 0xf59e0b };
    case "turn.finished": {
      const took = duration(e.durationMs);
      return {
        title: "Turn finished",
        text: `${where}${took ? `, in ${took}` : ""} (${money(Number(e.costUsd ?? 0))})${e.result ? `: ${cut(String(e.result), 1000)}` : ""}`,
        color: 0x22c55e,
      };
    }
    case "turn.failed":
      return { title: "Turn failed", text: `${where}: ${cut(String(e.error || e.reason || "failed"), 1000)}`, color: 0xef4444 };
    case "agent.crashed":
      return {
        title: e.oomKilled ? "Agent killed: out of memory" : "Agent crashed",
        text: `${where}: ${cut(String(e.detail ?? ""), 500)}${e.exitCode != null ? ` (exit code ${String(e.exitCode)})` : ""}`,
        color: 0xdc2626,
      };
    case "budget.reached":
      return {
        title: `Budget reached (${String(e.scope)} ${e.limit === "cost" ? "cost" : "tokens"})`,
        text: `${where}: used ${e.limit === "cost" ? money(Number(e.used)) : String(e.used)} of ${e.limit === "cost" ? money(Number(e.max)) : String(e.max)}`,
        color: 0x8b5cf6,
      };
    case "test":
      return { title: "Test notification", text: `${projectName ? `Project ${projectName}: ` : ""}${String(e.message ?? "")}`, color: 0x3b82f6 };
  }
}

export function linkOf(e: StoredEvent, publicUrl: string | undefined): string | null {
  return publicUrl ? `${publicUrl}${e.path}` : null;
}

/** The JSON body for a webhook of `format`. */
export function renderBody(format: "slack" | "discord" | "armory", e: StoredEvent, ctx: RenderContext): string {
  const { title, text, color } = describe(e, ctx.projectName);
  const link = linkOf(e, ctx.publicUrl);
  if (format === "slack") {
    const blocks: unknown[] = [
      { type: "header", text: { type: "plain_text", text: cut(title, 150) } },
      { type: "section", text: { type: "mrkdwn", text: cut(text, 2900) } },
    ];
    if (link) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `<${link}|Open in Armory>` }] });
    return JSON.stringify({ text: `${title}: ${cut(text, 2900)}`, blocks });
  }
  if (format === "discord") {
    const embed: Record<string, unknown> = { title: cut(title, 256), description: cut(text, 4000), color, timestamp: e.at };
    if (link) embed.url = link;
    return JSON.stringify({ content: cut(`**${title}**`, 2000), embeds: [embed] });
  }
  const { type, at, projectId, agentId, agentName, path, ...rest } = e;
  return JSON.stringify({
    id: ctx.deliveryId,
    type,
    at,
    project: { id: projectId, name: ctx.projectName },
    agent: agentId ? { id: agentId, name: agentName } : null,
    url: link,
    path,
    ...rest,
  });
}

/** "sha256=<hex>" over `${timestamp}.${body}`. */
export function signature(key: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", key).update(`${timestamp}.${body}`).digest("hex")}`;
}
