"use client";
// The agent's tool policy in its Settings tab: whether it follows its template's policy or has its
// own (allow / ask / deny lists), and how long a turn waits for an approval. "Use the template's"
// drops the agent's own lists. Changes apply from the next turn, without a restart.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { toast } from "sonner";
import type { Agent } from "@/components/agents/agent-format";
import { storeAgent } from "@/components/agents/use-agent-status";
import { FormError } from "@/components/auth/form-error";
import { SubmitButton } from "@/components/forms/submit-button";
import { AdminOnlyNotice } from "@/components/projects/role-badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { EMPTY_TOOL_POLICY, type ToolPolicy } from "@/contracts/approvals";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { roleAtLeast, type ProjectRole } from "@/server/domain/roles";
import { formatTimeout } from "./format";
import { checkToolPolicy, parseTimeout, POLICY_LISTS, policyToText, samePolicy, type ToolPolicyErrors, type ToolPolicyText } from "./policy";
import { ApprovalTimeoutField, ToolPolicyFields } from "./tool-policy-fields";

const LIST_WORDS = { allow: "Allowed", ask: "Asks first", deny: "Denied" } as const;

/** A policy read-only: each list as chips. */
export function PolicySummary({ policy, testId }: { policy: ToolPolicy; testId?: string }) {
  return (
    <dl className="grid gap-2 text-sm sm:grid-cols-[8rem_1fr]" data-testid={testId}>
      {POLICY_LISTS.map((list) => (
        <div key={list} className="contents">
          <dt className="text-muted-foreground">{LIST_WORDS[list]}</dt>
          <dd className="flex min-w-0 flex-wrap gap-1">
            {policy[list].length ? (
              policy[list].map((r) => (
                <code key={r} className="bg-muted rounded px-1.5 py-0.5 text-xs break-all">
                  {r}
                </code>
              ))
            ) : (
              <span className="text-muted-foreground">none</span>
            )}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** The timeout field's text: the agent's own setting, or empty for the default. */
function timeoutText(agent: Agent): string {
  return agent.approvalTimeoutCustom ? String(agent.approvalTimeoutSec) : "";
}

export function AgentToolPolicy({ agent, role }: { agent: Agent; role: ProjectRole }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canEdit = roleAtLeast(role, "admin");
  // Without an own policy, the effective one is the template's; with one, the template says.
  const template = useQuery({
    ...trpc.template.get.queryOptions({ projectId: agent.projectId, templateId: agent.templateId }),
    enabled: agent.toolPolicy !== null,
  });
  const templatePolicy = agent.toolPolicy === null ? agent.effectiveToolPolicy : (template.data?.toolPolicy ?? null);

  const [own, setOwn] = useState(agent.toolPolicy !== null);
  const [text, setText] = useState<ToolPolicyText>(() => policyToText(agent.toolPolicy ?? EMPTY_TOOL_POLICY));
  const [timeout, setTimeoutText] = useState(() => timeoutText(agent));
  const [errors, setErrors] = useState<ToolPolicyErrors>({});
  const [serverError, setServerError] = useState<string | null>(null);

  const update = useMutation(
    trpc.agent.update.mutationOptions({
      onSuccess: (saved) => {
        storeAgent(queryClient, trpc, saved);
        setServerError(null);
        toast.success("Tool policy saved", { description: "It applies from the agent's next turn." });
      },
      onError: (err) => setServerError(errorMessage(err)),
    }),
  );

  const checked = checkToolPolicy(text);
  const parsedTimeout = parseTimeout(timeout);
  const desiredPolicy = own ? (checked.ok ? checked.policy : undefined) : null;
  const policyChanged = desiredPolicy === undefined || !samePolicy(desiredPolicy, agent.toolPolicy);
  const savedTimeout = agent.approvalTimeoutCustom ? agent.approvalTimeoutSec : null;
  const timeoutChanged = !parsedTimeout.ok || parsedTimeout.value !== savedTimeout;
  const dirty = policyChanged || timeoutChanged;

  function startOwn() {
    setOwn(true);
    // Start from what applies now: the template's lists.
    if (agent.toolPolicy === null) setText(policyToText(agent.effectiveToolPolicy));
  }

  function discard() {
    setOwn(agent.toolPolicy !== null);
    setText(policyToText(agent.toolPolicy ?? EMPTY_TOOL_POLICY));
    setTimeoutText(timeoutText(agent));
    setErrors({});
    setServerError(null);
  }

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!canEdit || update.isPending) return;
    if (own && !checked.ok) {
      setErrors(checked.errors);
      return;
    }
    if (!parsedTimeout.ok) return;
    setErrors({});
    update.mutate({
      projectId: agent.projectId,
      agentId: agent.id,
      ...(policyChanged ? { toolPolicy: own && checked.ok ? checked.policy : null } : {}),
      ...(timeoutChanged ? { approvalTimeoutSec: parsedTimeout.value } : {}),
    });
  }

  return (
    <Card className="overflow-hidden pb-0" data-testid="agent-tool-policy">
      <CardHeader>
        <CardTitle>
          <h3>Tool policy and approvals</h3>
        </CardTitle>
        <CardDescription>
          Which tool calls run, which wait for a person&apos;s approval and which never run. Changes apply from the next
          turn; no restart needed. A turn waits {formatTimeout(agent.approvalTimeoutSec)} for a decision.
        </CardDescription>
      </CardHeader>
      <form onSubmit={onSubmit} noValidate aria-label="Tool policy" className="flex flex-col gap-6">
        <CardContent className="flex flex-col gap-5">
          {!canEdit ? <AdminOnlyNotice role={role} what="an agent's tool policy" /> : null}
          <FormError message={serverError} />
          <fieldset className="flex flex-col gap-2" disabled={!canEdit || update.isPending}>
            <legend className="mb-2 text-sm font-medium">Policy</legend>
            <label className="flex cursor-pointer items-center gap-2 text-sm">
              <input type="radio" name="policy-source" className="accent-primary size-4" checked={!own} onChange={() => setOwn(false)} />
              Use the template&apos;s policy ({agent.templateName})
            </label>
            <label className="flex cursor-pointer items-center gap-2 text-sm">
              <input type="radio" name="policy-source" className="accent-primary size-4" checked={own} onChange={startOwn} />
              Its own policy
            </label>
          </fieldset>
          <p className="text-sm" data-testid="policy-source">
            {agent.toolPolicy === null ? "Now: the template's policy." : "Now: its own policy."}
          </p>
          {own ? (
            <ToolPolicyFields
              idPrefix="agent-settings"
              value={text}
              errors={errors}
              onChange={(p) => {
                setText((t) => ({ ...t, ...p }));
                setServerError(null);
              }}
              disabled={!canEdit || update.isPending}
            />
          ) : templatePolicy ? (
            <PolicySummary policy={templatePolicy} testId="template-policy" />
          ) : template.isError ? (
            <p className="text-muted-foreground text-sm">Could not load the template&apos;s policy: {errorMessage(template.error)}</p>
          ) : null}
          <ApprovalTimeoutField
            id="agent-settings-approval-timeout"
            value={timeout}
            onChange={(v) => {
              setTimeoutText(v);
              setServerError(null);
            }}
            disabled={!canEdit || update.isPending}
          />
        </CardContent>
        <CardFooter className="bg-muted/40 justify-between gap-4 border-t py-4 [.border-t]:pt-4">
          <p className="text-muted-foreground text-xs">{canEdit && dirty ? "You have unsaved changes." : "Saved."}</p>
          {canEdit ? (
            <div className="flex gap-2">
              {dirty ? (
                <Button type="button" variant="outline" disabled={update.isPending} onClick={discard}>
                  Discard
                </Button>
              ) : null}
              <SubmitButton pending={update.isPending} pendingLabel="Saving…" disabled={!dirty}>
                Save policy
              </SubmitButton>
            </div>
          ) : null}
        </CardFooter>
      </form>
    </Card>
  );
}
