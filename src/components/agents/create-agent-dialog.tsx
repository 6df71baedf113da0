"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ChevronRight, RotateCcw } from "lucide-react";
import { useId, useRef, useState } from "react";
import { toast } from "sonner";
import { PolicySummary } from "@/components/approvals/agent-tool-policy";
import { checkToolPolicy, EMPTY_POLICY_TEXT, parseTimeout, policyToText, type ToolPolicyErrors, type ToolPolicyText } from "@/components/approvals/policy";
import { ApprovalTimeoutField, ToolPolicyFields } from "@/components/approvals/tool-policy-fields";
import { formatLimits, type Template } from "@/components/agents/agent-format";
import {
  AGENT_NAME_MAX,
  apiFieldErrors,
  permissionModeLabel,
  validateAgentName,
  validateRuntime,
  type RuntimeErrors,
  type RuntimeValues,
} from "@/components/agents/agent-form";
import { CheckboxField, SelectField } from "@/components/agents/form-controls";
import { RuntimeFields } from "@/components/agents/runtime-fields";
import { storeAgent } from "@/components/agents/use-agent-status";
import { FormError } from "@/components/auth/form-error";
import { SubmitButton } from "@/components/forms/submit-button";
import { CharacterCount, focusFirstInvalid, TextField } from "@/components/forms/text-field";
import { apiErrorCode } from "@/components/projects/project-form";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "@/components/ui/dialog";
import { FieldGroup } from "@/components/ui/field";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { sshRemote } from "@/contracts/git";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";

const EMPTY_RUNTIME: RuntimeValues = { memoryMb: "", cpus: "", pidsLimit: "", model: "", permissionMode: "", env: [] };

/** The template a new agent starts from unless the person picks another: the first built-in. */
function defaultTemplate(templates: Template[]): Template | undefined {
  return templates.find((t) => t.builtIn) ?? templates[0];
}

export function CreateAgentDialog({
  projectId,
  open,
  onOpenChange,
}: {
  projectId: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const formRef = useRef<HTMLFormElement>(null);
  const advancedId = useId();
  const templates = useQuery({ ...trpc.template.list.queryOptions({ projectId }), enabled: open });
  const [templateId, setTemplateId] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [nameTouched, setNameTouched] = useState(false);
  const [nameError, setNameError] = useState<string | null>(null);
  const [runtime, setRuntime] = useState<RuntimeValues>(EMPTY_RUNTIME);
  const [runtimeErrors, setRuntimeErrors] = useState<RuntimeErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const [advanced, setAdvanced] = useState(false);
  const [start, setStart] = useState(true);
  const [serverError, setServerError] = useState<string | null>(null);
  // The agent's own tool policy (off: the template's) and approval timeout (empty: the default).
  const [ownPolicy, setOwnPolicy] = useState(false);
  const [policy, setPolicy] = useState<ToolPolicyText>(EMPTY_POLICY_TEXT);
  const [policyErrors, setPolicyErrors] = useState<ToolPolicyErrors>({});
  const [approvalTimeout, setApprovalTimeout] = useState("");
  // A git repository cloned into /workspace after the first start (optional).
  const [repoUrl, setRepoUrl] = useState("");
  const [repoBranch, setRepoBranch] = useState("");
  const [repoSecret, setRepoSecret] = useState("");
  const [repoKnownHosts, setRepoKnownHosts] = useState("");
  const repoIsSsh = sshRemote(repoUrl.trim()) !== null;

  const template = templates.data?.find((t) => t.id === templateId) ?? defaultTemplate(templates.data ?? []);

  const create = useMutation(
    trpc.agent.create.mutationOptions({
      onSuccess: (agent, input) => {
        storeAgent(queryClient, trpc, agent);
        toast.success(input.start ? "Agent created and started" : "Agent created", { description: agent.name });
        close();
      },
    }),
  );

  function reset() {
    setTemplateId(null);
    setName("");
    setNameTouched(false);
    setNameError(null);
    setRuntime(EMPTY_RUNTIME);
    setRuntimeErrors({});
    setSubmitted(false);
    setAdvanced(false);
    setStart(true);
    setServerError(null);
    setOwnPolicy(false);
    setPolicy(EMPTY_POLICY_TEXT);
    setPolicyErrors({});
    setApprovalTimeout("");
    setRepoUrl("");
    setRepoBranch("");
    setRepoSecret("");
    create.reset();
  }

  function close() {
    onOpenChange(false);
    reset();
  }

  function changeName(value: string) {
    setName(value);
    setNameTouched(true);
    setServerError(null);
    // Live: the rule is checked as the name is typed (an empty field only complains after a submit).
    setNameError(value === "" && !submitted ? null : validateAgentName(value));
  }

  function changeRuntime(patch: Partial<RuntimeValues>) {
    const next = { ...runtime, ...patch };
    setRuntime(next);
    setServerError(null);
    if (submitted) {
      const result = validateRuntime(next);
      setRuntimeErrors(result.ok ? {} : result.errors);
    }
  }

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (create.isPending || !template) return;
    setSubmitted(true);
    setServerError(null);
    const nameProblem = validateAgentName(name);
    const checked = validateRuntime(runtime);
    const policyChecked = ownPolicy ? checkToolPolicy(policy) : null;
    const timeoutChecked = parseTimeout(approvalTimeout);
    setNameError(nameProblem);
    setRuntimeErrors(checked.ok ? {} : checked.errors);
    setPolicyErrors(policyChecked && !policyChecked.ok ? policyChecked.errors : {});
    const policyOk = (!policyChecked || policyChecked.ok) && timeoutChecked.ok;
    if (!checked.ok || !policyOk) setAdvanced(true);
    if (nameProblem || !checked.ok || !policyOk) {
      focusFirstInvalid(formRef.current);
      return;
    }
    const { env, ...rest } = checked.data;
    const overrides = {
      ...rest,
      ...(env && Object.keys(env).length ? { env } : {}),
      ...(policyChecked?.ok ? { toolPolicy: policyChecked.policy } : {}),
      ...(timeoutChecked.ok && timeoutChecked.value !== null ? { approvalTimeoutSec: timeoutChecked.value } : {}),
    };
    create.mutate(
      {
        projectId,
        templateId: template.id,
        name: name.trim(),
        overrides: Object.keys(overrides).length ? overrides : undefined,
        start,
        repository: repoUrl.trim()
          ? {
              url: repoUrl.trim(),
              ...(repoBranch.trim() ? { branch: repoBranch.trim() } : {}),
              ...(repoSecret.trim() ? { credentialSecret: repoSecret.trim() } : {}),
              ...(repoIsSsh && repoKnownHosts.trim() ? { knownHosts: repoKnownHosts.trim() } : {}),
            }
          : undefined,
      },
      {
        // Handled here (not in mutationOptions) because it reads the form ref.
        onError: (err) => {
          // A create whose start failed leaves the agent behind: show it in the list.
          void queryClient.invalidateQueries({ queryKey: trpc.agent.list.queryKey({ projectId }) });
          const fields = apiFieldErrors(err);
          if (apiErrorCode(err) === "CONFLICT") {
            setNameError(errorMessage(err));
            focusFirstInvalid(formRef.current);
          } else if (fields?.name) {
            setNameError(fields.name);
            focusFirstInvalid(formRef.current);
          } else {
            setServerError(errorMessage(err));
          }
        },
      },
    );
  }

  const pending = create.isPending;
  const showCount = nameTouched && name.length > AGENT_NAME_MAX - 10;

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (next) onOpenChange(true);
        else if (!pending) close();
      }}
    >
      <DialogContent className="max-h-[calc(100dvh-2rem)] overflow-y-auto sm:max-w-lg">
        <DialogHeader>
          <DialogTitle>New agent</DialogTitle>
          <DialogDescription>
            An agent is a Claude Code CLI in its own Docker container, set up from a template.
          </DialogDescription>
        </DialogHeader>
        <form ref={formRef} onSubmit={onSubmit} noValidate className="flex flex-col gap-5" aria-label="New agent">
          {templates.isError ? (
            <FormError message={`Could not load the templates: ${errorMessage(templates.error)}`}>
              <Button type="button" variant="outline" size="sm" className="mt-2" onClick={() => void templates.refetch()}>
                <RotateCcw aria-hidden="true" />
                Try again
              </Button>
            </FormError>
          ) : null}
          <FieldGroup>
            {templates.isPending ? (
              <div aria-busy="true" className="flex flex-col gap-2">
                <span className="text-sm font-medium">Template</span>
                <Skeleton className="h-9 w-full" />
                <Skeleton className="h-14 w-full" />
                <span className="sr-only">Loading templates…</span>
              </div>
            ) : templates.data?.length ? (
              <div className="flex flex-col gap-2">
                <SelectField
                  id="create-agent-template"
                  label="Template"
                  name="template"
                  value={template?.id ?? ""}
                  onChange={(e) => setTemplateId(e.target.value)}
                  disabled={pending}
                >
                  {templates.data.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.displayName}
                      {t.builtIn ? "" : " (project)"}
                    </option>
                  ))}
                </SelectField>
                {template ? <TemplateDefaults template={template} /> : null}
              </div>
            ) : templates.data ? (
              <p className="text-muted-foreground text-sm">
                There are no templates to create an agent from. Templates come from the <code>templates/</code> folder
                of the Armory installation.
              </p>
            ) : null}

            <TextField
              id="create-agent-name"
              label="Name"
              name="name"
              placeholder="e.g. code-reviewer-2"
              autoComplete="off"
              spellCheck={false}
              autoCapitalize="none"
              autoFocus
              className="[&_input]:font-mono"
              value={name}
              onChange={(e) => changeName(e.target.value)}
              error={nameError}
              description={
                nameError ? undefined : "Lower-case letters, digits and hyphens; it names the container and its host."
              }
              labelAside={showCount ? <CharacterCount length={name.trim().length} max={AGENT_NAME_MAX} /> : null}
              disabled={pending}
            />
            <TextField
              id="create-agent-repo-url"
              label="Repository (optional)"
              name="repositoryUrl"
              placeholder="https://github.com/owner/repo.git or git@github.com:owner/repo.git"
              autoComplete="off"
              spellCheck={false}
              className="[&_input]:font-mono"
              value={repoUrl}
              onChange={(e) => setRepoUrl(e.target.value)}
              description="Cloned into /workspace when the agent starts; each branch session works on its own branch."
              disabled={pending}
            />
            {repoUrl.trim() ? (
              <div className="grid gap-4 sm:grid-cols-2">
                <TextField
                  id="create-agent-repo-branch"
                  label="Branch"
                  name="repositoryBranch"
                  placeholder="the default branch"
                  autoComplete="off"
                  spellCheck={false}
                  className="[&_input]:font-mono"
                  value={repoBranch}
                  onChange={(e) => setRepoBranch(e.target.value)}
                  disabled={pending}
                />
                <TextField
                  id="create-agent-repo-secret"
                  label={repoIsSsh ? "Deploy key secret" : "Token secret"}
                  name="repositorySecret"
                  placeholder={repoIsSsh ? "e.g. DEPLOY_KEY" : "e.g. GITHUB_TOKEN"}
                  autoComplete="off"
                  spellCheck={false}
                  className="[&_input]:font-mono"
                  value={repoSecret}
                  onChange={(e) => setRepoSecret(e.target.value)}
                  description={
                    repoIsSsh
                      ? "A project secret holding the private key (OpenSSH format); given to git's ssh only, never put in the container."
                      : "A project secret; served to git only, never put in the container."
                  }
                  disabled={pending}
                />
                {repoIsSsh ? (
                  <div className="flex flex-col gap-1.5 sm:col-span-2">
                    <Label htmlFor="create-agent-repo-known-hosts">Host keys (optional)</Label>
                    <Textarea
                      id="create-agent-repo-known-hosts"
                      name="repositoryKnownHosts"
                      rows={2}
                      placeholder="git.example.com ssh-ed25519 AAAAC3Nz…"
                      className="font-mono text-xs"
                      spellCheck={false}
                      value={repoKnownHosts}
                      onChange={(e) => setRepoKnownHosts(e.target.value)}
                      disabled={pending}
                    />
                    <p className="text-muted-foreground text-xs">
                      known_hosts lines (ssh-keyscan prints them). Empty: the key seen at the first clone is trusted and kept; a changed key is refused.
                    </p>
                  </div>
                ) : null}
              </div>
            ) : null}
          </FieldGroup>

          <div className="flex flex-col gap-4">
            <button
              type="button"
              aria-expanded={advanced}
              aria-controls={advancedId}
              onClick={() => setAdvanced((v) => !v)}
              className="text-muted-foreground hover:text-foreground focus-visible:ring-ring/50 -mx-1 flex items-center gap-1.5 self-start rounded-md px-1 text-sm font-medium outline-none focus-visible:ring-[3px]"
            >
              <ChevronRight className={cn("size-4 transition-transform", advanced && "rotate-90")} aria-hidden="true" />
              Advanced
              <span className="font-normal">— limits, model, permissions, tool policy, environment</span>
            </button>
            <div id={advancedId} hidden={!advanced} className="bg-muted/30 flex flex-col gap-5 rounded-lg border p-4">
              <p className="text-muted-foreground text-sm">Leave a field empty to use the template&apos;s value.</p>
              <RuntimeFields
                idPrefix="create-agent"
                values={runtime}
                errors={runtimeErrors}
                onChange={changeRuntime}
                disabled={pending}
                placeholders={template}
              />
              <fieldset className="flex flex-col gap-3">
                <legend className="mb-1 text-sm font-medium">Tool policy and approvals</legend>
                <label className="flex cursor-pointer items-center gap-2 text-sm">
                  <input
                    type="checkbox"
                    className="accent-primary size-4"
                    checked={ownPolicy}
                    disabled={pending}
                    onChange={(e) => {
                      setOwnPolicy(e.target.checked);
                      setServerError(null);
                      // Start from the template's lists.
                      if (e.target.checked && template) setPolicy(policyToText(template.toolPolicy));
                    }}
                  />
                  Give this agent its own tool policy
                </label>
                {ownPolicy ? (
                  <ToolPolicyFields
                    idPrefix="create-agent"
                    value={policy}
                    errors={policyErrors}
                    onChange={(p) => {
                      setPolicy((v) => ({ ...v, ...p }));
                      setServerError(null);
                    }}
                    disabled={pending}
                  />
                ) : template ? (
                  <PolicySummary policy={template.toolPolicy} />
                ) : null}
                <ApprovalTimeoutField id="create-agent-approval-timeout" value={approvalTimeout} onChange={setApprovalTimeout} disabled={pending} />
              </fieldset>
            </div>
          </div>

          <CheckboxField
            id="create-agent-start"
            label="Start after creating"
            checked={start}
            onChange={(e) => setStart(e.target.checked)}
            disabled={pending}
          />

          {/* Next to the buttons, so it is in view in a scrolled dialog. */}
          <FormError message={serverError} />
          <DialogFooter>
            <Button type="button" variant="outline" onClick={close} disabled={pending}>
              Cancel
            </Button>
            <SubmitButton
              pending={pending}
              pendingLabel={create.variables?.start ? "Creating and starting…" : "Creating…"}
              disabled={!template}
            >
              Create agent
            </SubmitButton>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

function TemplateDefaults({ template }: { template: Template }) {
  const envCount = Object.keys(template.env).length;
  return (
    <div className="bg-muted/40 flex flex-col gap-1.5 rounded-md border px-3 py-2.5 text-sm" data-testid="template-defaults">
      {template.description ? <p className="text-muted-foreground line-clamp-3">{template.description}</p> : null}
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 text-xs">
        <dt className="text-muted-foreground">Model</dt>
        <dd className="font-mono">{template.model}</dd>
        <dt className="text-muted-foreground">Limits</dt>
        <dd>{formatLimits(template)}</dd>
        <dt className="text-muted-foreground">Permissions</dt>
        <dd>{permissionModeLabel(template.permissionMode)}</dd>
        <dt className="text-muted-foreground">Environment</dt>
        <dd>{envCount === 0 ? "none" : `${envCount} variable${envCount === 1 ? "" : "s"}`}</dd>
      </dl>
    </div>
  );
}
