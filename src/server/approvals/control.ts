// Claude Code's permission prompt over stream-json (`--permission-prompt-tool stdio`): when the
// CLI would ask before a tool call it prints a `control_request` with subtype `can_use_tool` on
// stdout and waits for one `control_response` line on stdin naming the same request_id
// (recorded against the CLI: tests/fixtures/claude-code-stream-json/30-permission-prompt.ndjson).
// It may also print `control_cancel_request` when it no longer needs an answer.
import { formatRule } from "./rules";

export interface PermissionSuggestion {
  type: string;
  rules?: { toolName: string; ruleContent?: string }[];
  behavior?: string;
  destination?: string;
}

export interface CanUseToolRequest {
  requestId: string;
  toolName: string;
  input: Record<string, unknown>;
  toolUseId: string | null;
  /** The CLI's own explanation (e.g. why the path needs permission), when it gave one. */
  description: string | null;
  /** The allow rules Claude Code suggests remembering, as rule strings (`Bash(ls:*)`). */
  suggestedRules: string[];
  blockedPath: string | null;
}

export type ControlLine =
  | { kind: "can_use_tool"; request: CanUseToolRequest }
  | { kind: "cancel"; requestId: string }
  /** Another control request subtype (Armory answers it with an error so the CLI does not hang). */
  | { kind: "other_request"; requestId: string; subtype: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The rule strings of the `addRules` suggestions that allow. */
export function suggestedRules(suggestions: unknown): string[] {
  if (!Array.isArray(suggestions)) return [];
  const out: string[] = [];
  for (const s of suggestions) {
    if (!isObject(s) || s.type !== "addRules" || (s.behavior !== undefined && s.behavior !== "allow") || !Array.isArray(s.rules)) continue;
    for (const r of s.rules) {
      if (!isObject(r) || typeof r.toolName !== "string") continue;
      const rule = formatRule(r.toolName, typeof r.ruleContent === "string" && r.ruleContent ? r.ruleContent : null);
      if (!out.includes(rule)) out.push(rule);
    }
  }
  return out;
}

/** A control line of the CLI's output, or null when the value is not one. Never throws. */
export function parseControlLine(value: unknown): ControlLine | null {
  if (!isObject(value)) return null;
  if (value.type === "control_cancel_request" && typeof value.request_id === "string") return { kind: "cancel", requestId: value.request_id };
  if (value.type !== "control_request" || typeof value.request_id !== "string" || !isObject(value.request)) return null;
  const r = value.request;
  const subtype = typeof r.subtype === "string" ? r.subtype : "unknown";
  if (subtype !== "can_use_tool" || typeof r.tool_name !== "string") return { kind: "other_request", requestId: value.request_id, subtype };
  return {
    kind: "can_use_tool",
    request: {
      requestId: value.request_id,
      toolName: r.tool_name,
      input: isObject(r.input) ? r.input : {},
      toolUseId: typeof r.tool_use_id === "string" ? r.tool_use_id : null,
      description: typeof r.description === "string" ? r.description : null,
      suggestedRules: suggestedRules(r.permission_suggestions),
      blockedPath: typeof r.blocked_path === "string" ? r.blocked_path : null,
    },
  };
}

export type PermissionAnswer =
  | { behavior: "allow"; updatedInput: Record<string, unknown>; /** Rules the running process should stop asking about. */ rememberRules?: string[] }
  | { behavior: "deny"; message: string };

function ruleToPermission(rule: string): { toolName: string; ruleContent?: string } {
  const open = rule.indexOf("(");
  return open < 0 ? { toolName: rule } : { toolName: rule.slice(0, open), ruleContent: rule.slice(open + 1, -1) };
}

/** The stdin line answering a can_use_tool request. */
export function controlResponseLine(requestId: string, answer: PermissionAnswer): string {
  const response =
    answer.behavior === "allow"
      ? {
          behavior: "allow",
          updatedInput: answer.updatedInput,
          ...(answer.rememberRules?.length
            ? { updatedPermissions: [{ type: "addRules", rules: answer.rememberRules.map(ruleToPermission), behavior: "allow", destination: "session" }] }
            : {}),
        }
      : { behavior: "deny", message: answer.message };
  return JSON.stringify({ type: "control_response", response: { subtype: "success", request_id: requestId, response } }) + "\n";
}

/** The stdin line refusing a control request Armory does not handle. */
export function controlErrorLine(requestId: string, error: string): string {
  return JSON.stringify({ type: "control_response", response: { subtype: "error", request_id: requestId, error } }) + "\n";
}
