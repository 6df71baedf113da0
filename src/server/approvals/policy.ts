// Tool policies as stored: the template's (always set) and the agent's override (null: the template's).
import { EMPTY_TOOL_POLICY, toolPolicySchema, type ToolPolicy } from "../../contracts/approvals";
import type { Prisma } from "../db/generated/client";

/** A tool policy as stored (JSON); anything unreadable is the empty policy. */
export function policyFrom(value: Prisma.JsonValue | null | undefined): ToolPolicy {
  const parsed = toolPolicySchema.safeParse(value ?? EMPTY_TOOL_POLICY);
  return parsed.success ? parsed.data : { allow: [], ask: [], deny: [] };
}

/** The agent's own policy when it has one, else its template's. */
export function effectivePolicy(agent: { toolPolicy: Prisma.JsonValue | null }, template: { toolPolicy: Prisma.JsonValue }): ToolPolicy {
  return agent.toolPolicy === null ? policyFrom(template.toolPolicy) : policyFrom(agent.toolPolicy);
}
