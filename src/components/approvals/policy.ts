// The tool-policy form (template and agent): three lists of Claude Code permission rules, one per
// line, checked with the contract's own rule (the server checks the same; its 400 shows otherwise),
// and the approval timeout in seconds.
import {
  APPROVAL_TIMEOUT_DEFAULT_SEC,
  APPROVAL_TIMEOUT_MAX_SEC,
  APPROVAL_TIMEOUT_MIN_SEC,
  approvalTimeoutSchema,
  permissionRule,
  TOOL_POLICY_MAX_RULES,
  type ToolPolicy,
} from "@/contracts/approvals";

export { APPROVAL_TIMEOUT_DEFAULT_SEC, APPROVAL_TIMEOUT_MAX_SEC, APPROVAL_TIMEOUT_MIN_SEC };

export const POLICY_LISTS = ["allow", "ask", "deny"] as const;
export type PolicyList = (typeof POLICY_LISTS)[number];

/** The lists as typed: one rule per line. */
export type ToolPolicyText = Record<PolicyList, string>;
export type ToolPolicyErrors = Partial<Record<PolicyList, string>>;

export const EMPTY_POLICY_TEXT: ToolPolicyText = { allow: "", ask: "", deny: "" };

export function policyToText(p: Partial<ToolPolicy> | null | undefined): ToolPolicyText {
  return { allow: (p?.allow ?? []).join("\n"), ask: (p?.ask ?? []).join("\n"), deny: (p?.deny ?? []).join("\n") };
}

/** One list: the rules (trimmed, empty lines dropped, duplicates once) or the first problem, naming its line. */
export function parseRuleLines(text: string): { ok: true; rules: string[] } | { ok: false; error: string } {
  const rules: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const parsed = permissionRule.safeParse(line);
    if (!parsed.success) {
      const shown = line.length > 60 ? `${line.slice(0, 57)}…` : line;
      return { ok: false, error: `Line ${i + 1} (${shown}): ${parsed.error.issues[0]?.message ?? "not a permission rule"}` };
    }
    if (!rules.includes(parsed.data)) rules.push(parsed.data);
  }
  if (rules.length > TOOL_POLICY_MAX_RULES) return { ok: false, error: `At most ${TOOL_POLICY_MAX_RULES} rules per list (${rules.length} given)` };
  return { ok: true, rules };
}

/** All three lists: the policy, or an error per list that has one. */
export function checkToolPolicy(text: ToolPolicyText): { ok: true; policy: ToolPolicy } | { ok: false; errors: ToolPolicyErrors } {
  const errors: ToolPolicyErrors = {};
  const policy: ToolPolicy = { allow: [], ask: [], deny: [] };
  for (const list of POLICY_LISTS) {
    const r = parseRuleLines(text[list]);
    if (r.ok) policy[list] = r.rules;
    else errors[list] = r.error;
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, policy };
}

/** The timeout field (seconds, as typed): empty means the default (null). */
export function parseTimeout(raw: string): { ok: true; value: number | null } | { ok: false; error: string } {
  const text = raw.trim();
  if (!text) return { ok: true, value: null };
  const n = Number(text);
  if (!Number.isFinite(n)) return { ok: false, error: "The approval timeout must be a number of seconds" };
  const parsed = approvalTimeoutSchema.safeParse(n);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, error: parsed.error.issues[0]?.message ?? "Not a valid timeout" };
}

export function samePolicy(a: ToolPolicy | null | undefined, b: ToolPolicy | null | undefined): boolean {
  if (!a || !b) return a === b || (!a && !b);
  return POLICY_LISTS.every((l) => a[l].length === b[l].length && a[l].every((r, i) => r === b[l][i]));
}

export function ruleCount(p: ToolPolicy): number {
  return p.allow.length + p.ask.length + p.deny.length;
}
