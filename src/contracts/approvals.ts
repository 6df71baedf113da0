// Tool policy and approvals: the contract the API, the chat service, the UI and clients share.
// A tool policy is three lists of Claude Code permission rules (`Bash(git status:*)`, `Write`,
// `Edit(/workspace/src/**)`, `WebFetch(domain:example.com)`, `mcp__server__tool`): `allow` runs
// without asking, `deny` never runs, `ask` raises an approval. Claude Code applies the lists itself
// (they reach it as `--settings`); when it would ask, it sends a `can_use_tool` control request over
// stream-json (`--permission-prompt-tool stdio`), which Armory turns into an approval.
import { z } from "zod";

/** `Tool` or `Tool(specifier)`: a tool name (letters, digits, _ and -; MCP tools as mcp__server__tool). */
export const PERMISSION_RULE = /^[A-Za-z][A-Za-z0-9_-]*(\((?:[^()\n]|\([^()\n]*\))+\))?$/;
export const PERMISSION_RULE_MAX_CHARS = 500;
export const TOOL_POLICY_MAX_RULES = 200;

export const permissionRule = z
  .string()
  .trim()
  .max(PERMISSION_RULE_MAX_CHARS, `a permission rule must be at most ${PERMISSION_RULE_MAX_CHARS} characters`)
  .regex(PERMISSION_RULE, "a permission rule is a tool name, optionally with a specifier in parentheses: Bash, Bash(git status:*), Edit(/workspace/src/**), WebFetch(domain:example.com), mcp__server__tool");

const ruleList = z.array(permissionRule).max(TOOL_POLICY_MAX_RULES, `at most ${TOOL_POLICY_MAX_RULES} rules per list`);

export const toolPolicySchema = z.object({
  allow: ruleList.default([]),
  ask: ruleList.default([]),
  deny: ruleList.default([]),
});
export type ToolPolicy = z.infer<typeof toolPolicySchema>;
export const EMPTY_TOOL_POLICY: ToolPolicy = { allow: [], ask: [], deny: [] };

/** How long a turn waits for a decision before the request is denied (seconds). */
export const APPROVAL_TIMEOUT_DEFAULT_SEC = 600;
export const APPROVAL_TIMEOUT_MIN_SEC = 5;
export const APPROVAL_TIMEOUT_MAX_SEC = 86_400;
export const approvalTimeoutSchema = z
  .number()
  .int()
  .min(APPROVAL_TIMEOUT_MIN_SEC, `the approval timeout must be at least ${APPROVAL_TIMEOUT_MIN_SEC} seconds`)
  .max(APPROVAL_TIMEOUT_MAX_SEC, `the approval timeout must be at most ${APPROVAL_TIMEOUT_MAX_SEC} seconds (a day)`);

export const APPROVAL_STATUSES = ["pending", "allowed", "denied", "expired", "cancelled"] as const;
export const approvalStatus = z.enum(APPROVAL_STATUSES);
export type ApprovalStatus = z.infer<typeof approvalStatus>;

export const approvalDecision = z.enum(["allow", "deny"]);
export const approvalRemember = z.enum(["session", "agent"]);

/** Who decided: a person, a machine token (bots, chat-ops), a remembered rule, or the timeout. */
export const approvalDecider = z.object({
  kind: z.enum(["user", "token", "rule", "timeout", "system"]),
  id: z.string().nullable(),
  name: z.string(),
});

export const approvalView = z.object({
  id: z.string(),
  projectId: z.string(),
  agentId: z.string(),
  agentName: z.string(),
  sessionId: z.string(),
  sessionTitle: z.string(),
  runId: z.string(),
  toolName: z.string(),
  toolUseId: z.string().nullable(),
  /** The tool's input as Claude Code sent it (the command, the file and its content, ...). */
  input: z.unknown(),
  /** One line for lists: the Bash command, the file path, the URL. */
  summary: z.string(),
  /** For Write/Edit/MultiEdit: a unified diff of the change against the file as it is now. */
  diff: z.string().nullable(),
  /** The rule "Always allow" would add (Claude Code's suggestion when it made one, else Armory's: approvals/rules.ts defaultRuleFor). */
  suggestedRule: z.string(),
  status: approvalStatus,
  decidedBy: approvalDecider.nullable(),
  /** The message the model saw with a denial (or the note given with an allow). */
  message: z.string().nullable(),
  remember: approvalRemember.nullable(),
  createdAt: z.date(),
  expiresAt: z.date(),
  decidedAt: z.date().nullable(),
  /** Whether the caller who read this may decide it (permission `exec` on the agent). */
  canDecide: z.boolean(),
});
export type ApprovalView = z.infer<typeof approvalView>;

/** approval.onRequest events: a snapshot of what is pending first, then every change. */
export const approvalStreamEvent = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("snapshot"), pending: z.array(approvalView) }),
  z.object({ kind: z.literal("requested"), approval: approvalView }),
  z.object({ kind: z.literal("decided"), approval: approvalView }),
]);
export type ApprovalStreamEvent = z.infer<typeof approvalStreamEvent>;

/** Chat events (type "approval_requested" / "approval_decided") carry these in `data`. */
export interface ApprovalRequestedEventData {
  approvalId: string;
  toolName: string;
  toolUseId: string | null;
  input: unknown;
  summary: string;
  diff: string | null;
  suggestedRule: string;
  expiresAt: string;
}
export interface ApprovalDecidedEventData {
  approvalId: string;
  status: Exclude<ApprovalStatus, "pending">;
  decidedBy: z.infer<typeof approvalDecider>;
  remember: z.infer<typeof approvalRemember> | null;
  /** The rule added by "remember" (to the session or the agent's policy). */
  rule: string | null;
  message: string | null;
}
