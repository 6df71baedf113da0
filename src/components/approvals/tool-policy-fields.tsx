"use client";
// The tool policy as three lists of Claude Code permission rules (one per line): allowed without
// asking, asked about (an approval), never run; and the approval timeout. Used by the template form,
// the agent's settings and the create-agent dialog. Lines are checked as they are typed, with the
// contract's own rule; the server's 400 shows at the form otherwise.
import { TextareaField, TextField } from "@/components/forms/text-field";
import { FieldDescription, FieldError } from "@/components/ui/field";
import { APPROVAL_TIMEOUT_DEFAULT_SEC, APPROVAL_TIMEOUT_MAX_SEC, APPROVAL_TIMEOUT_MIN_SEC } from "@/contracts/approvals";
import { formatTimeout } from "./format";
import { parseRuleLines, parseTimeout, POLICY_LISTS, type PolicyList, type ToolPolicyErrors, type ToolPolicyText } from "./policy";

const LISTS: Record<PolicyList, { label: string; hint: string; placeholder: string }> = {
  allow: { label: "Allow", hint: "Run without asking.", placeholder: "Read\nGrep\nBash(git status:*)" },
  ask: { label: "Ask", hint: "Wait for a person's approval.", placeholder: "Bash\nWrite\nEdit(/workspace/src/**)" },
  deny: { label: "Deny", hint: "Never run.", placeholder: "Bash(rm -rf:*)\nWebFetch" },
};

/** The lists' errors as typed: each list checked on its own (a mistake shows before submitting). */
export function liveRuleErrors(text: ToolPolicyText): ToolPolicyErrors {
  const out: ToolPolicyErrors = {};
  for (const list of POLICY_LISTS) {
    const r = parseRuleLines(text[list]);
    if (!r.ok) out[list] = r.error;
  }
  return out;
}

export function ToolPolicyFields({
  idPrefix,
  value,
  errors,
  onChange,
  disabled,
  policyError,
}: {
  idPrefix: string;
  value: ToolPolicyText;
  errors?: ToolPolicyErrors;
  onChange: (patch: Partial<ToolPolicyText>) => void;
  disabled?: boolean;
  /** The server's remark on the policy as a whole. */
  policyError?: string | null;
}) {
  const live = liveRuleErrors(value);
  return (
    <div className="flex flex-col gap-2" data-testid={`${idPrefix}-tool-policy`}>
      <div className="grid gap-4 sm:grid-cols-3">
        {POLICY_LISTS.map((list) => (
          <TextareaField
            key={list}
            id={`${idPrefix}-policy-${list}`}
            label={`${LISTS[list].label} (one rule per line)`}
            rows={4}
            spellCheck={false}
            autoCapitalize="none"
            placeholder={LISTS[list].placeholder}
            className="[&_textarea]:max-h-56 [&_textarea]:font-mono [&_textarea]:text-xs"
            description={LISTS[list].hint}
            value={value[list]}
            onChange={(e: React.ChangeEvent<HTMLTextAreaElement>) => onChange({ [list]: e.target.value })}
            error={live[list] ?? errors?.[list]}
            disabled={disabled}
          />
        ))}
      </div>
      <FieldDescription>
        Claude Code permission rules: a tool (<code>Bash</code>, <code>Write</code>, <code>WebFetch</code>,{" "}
        <code>mcp__server__tool</code>), optionally narrowed: <code>Bash(npm test:*)</code>, <code>Edit(/workspace/src/**)</code>,{" "}
        <code>WebFetch(domain:example.com)</code>. Deny wins over ask, ask over allow.
      </FieldDescription>
      {policyError ? <FieldError>{policyError}</FieldError> : null}
    </div>
  );
}

export function ApprovalTimeoutField({
  id,
  value,
  onChange,
  error,
  disabled,
  placeholder,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | null;
  disabled?: boolean;
  /** The value an empty field means (seconds). */
  placeholder?: number;
}) {
  const parsed = parseTimeout(value);
  const fallback = placeholder ?? APPROVAL_TIMEOUT_DEFAULT_SEC;
  const hint = parsed.ok
    ? parsed.value === null
      ? `Empty: ${formatTimeout(fallback)}.`
      : `${formatTimeout(parsed.value)}.`
    : null;
  return (
    <TextField
      id={id}
      label="Approval timeout (seconds)"
      type="number"
      inputMode="numeric"
      min={APPROVAL_TIMEOUT_MIN_SEC}
      max={APPROVAL_TIMEOUT_MAX_SEC}
      step={60}
      placeholder={String(fallback)}
      className="sm:max-w-xs"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      error={error ?? (parsed.ok ? null : parsed.error)}
      description={`${hint ? `${hint} ` : ""}With no decision by then, the request is denied and the agent is told why.`}
      disabled={disabled}
    />
  );
}
