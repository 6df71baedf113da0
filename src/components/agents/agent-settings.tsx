"use client";
// The agent's Settings tab: why it needs a re-create (and the button that does it), its runtime
// (limits, model, permission mode), its tool policy and approval timeout, its version, its environment (one editor: variables and
// secrets, one Apply) and what Docker reports about its container.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Loader2, RotateCw } from "lucide-react";
import { toast } from "sonner";
import { AgentToolPolicy } from "@/components/approvals/agent-tool-policy";
import { useAgentAction } from "@/components/agents/agent-controls";
import { formatLimits, STATE_LABELS, type Agent } from "@/components/agents/agent-format";
import {
  apiFieldErrors,
  permissionModeLabel,
  RUNTIME_FIELDS,
  validateRuntime,
  type RuntimeData,
  type RuntimeErrors,
  type RuntimeValues,
} from "@/components/agents/agent-form";
import { RuntimeFields } from "@/components/agents/runtime-fields";
import { EnvEditor } from "@/components/versions/env-editor";
import { restartReasonText } from "@/components/versions/restart-reasons";
import { UpdateProgress, useUpdateSteps } from "@/components/versions/update-progress";
import { VersionPanel } from "@/components/versions/version-panel";
import { storeAgent } from "@/components/agents/use-agent-status";
import { FormError } from "@/components/auth/form-error";
import { SubmitButton } from "@/components/forms/submit-button";
import { useCheckedForm } from "@/components/forms/use-checked-form";
import { AdminOnlyNotice } from "@/components/projects/role-badge";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import { roleAtLeast, type ProjectRole } from "@/server/domain/roles";

type Config = Pick<Agent, "memoryMb" | "cpus" | "pidsLimit" | "model" | "permissionMode">;

function configKey(c: Config): string {
  return JSON.stringify([c.memoryMb, c.cpus, c.pidsLimit, c.model, c.permissionMode]);
}

/** The tool policy card starts afresh when the saved policy or timeout changes (here or elsewhere). */
function policyKey(agent: Agent): string {
  return JSON.stringify([agent.toolPolicy, agent.effectiveToolPolicy, agent.approvalTimeoutSec, agent.approvalTimeoutCustom]);
}

function valuesOf(c: Config): RuntimeValues {
  return {
    memoryMb: String(c.memoryMb),
    cpus: String(c.cpus),
    pidsLimit: String(c.pidsLimit),
    model: c.model,
    permissionMode: c.permissionMode,
    // The environment has its own editor (EnvEditor); this form leaves it alone.
    env: [],
  };
}

/** The API's field errors when they all name fields of this form, else null (the message shows instead). */
function runtimeFieldErrors(err: unknown): RuntimeErrors | null {
  const fields = apiFieldErrors(err);
  return fields && Object.keys(fields).every((k) => (RUNTIME_FIELDS as readonly string[]).includes(k))
    ? (fields as RuntimeErrors)
    : null;
}

/** What changed between the agent's config and the checked form: only those fields are sent (never env). */
function patchOf(agent: Config, data: RuntimeData): RuntimeData {
  const patch: RuntimeData = {};
  if (data.memoryMb !== undefined && data.memoryMb !== agent.memoryMb) patch.memoryMb = data.memoryMb;
  if (data.cpus !== undefined && data.cpus !== agent.cpus) patch.cpus = data.cpus;
  if (data.pidsLimit !== undefined && data.pidsLimit !== agent.pidsLimit) patch.pidsLimit = data.pidsLimit;
  if (data.model !== undefined && data.model !== agent.model) patch.model = data.model;
  if (data.permissionMode !== undefined && data.permissionMode !== agent.permissionMode) {
    patch.permissionMode = data.permissionMode;
  }
  return patch;
}

/** The agent's Settings tab: what it runs, and (for admins) its limits, model, permissions and env. */
export function AgentSettings({ agent, role, engineDown }: { agent: Agent; role: ProjectRole; engineDown: boolean }) {
  // One subscription to the agent's updates for the whole tab.
  const steps = useUpdateSteps(agent.projectId, agent.id);
  return (
    <div className="flex max-w-3xl flex-col gap-6">
      {agent.restartRequired ? <RestartRequired agent={agent} role={role} engineDown={engineDown} steps={steps} /> : null}
      {/* Re-mounts (fresh values) when the configuration changes, not on every status change. */}
      <RuntimeSettings key={configKey(agent)} agent={agent} role={role} />
      <AgentToolPolicy key={policyKey(agent)} agent={agent} role={role} />
      <VersionPanel projectId={agent.projectId} agentId={agent.id} role={role} engineDown={engineDown} steps={steps} />
      <EnvEditor projectId={agent.projectId} agentId={agent.id} role={role} engineDown={engineDown} steps={steps} />
      <AgentFacts agent={agent} />
    </div>
  );
}

/**
 * Why the container must be re-created, and the button that does it: for admins on a running
 * agent the safe re-create (the same rollout as Apply, with its steps); otherwise a restart
 * (operators) or a start, which re-creates it too.
 */
function RestartRequired({ agent, role, engineDown, steps }: { agent: Agent; role: ProjectRole; engineDown: boolean; steps: Parameters<typeof UpdateProgress>[0]["steps"] }) {
  const trpc = useTRPC();
  const { pending, run } = useAgentAction(agent);
  const running = agent.observedState === "running";
  const safe = running && roleAtLeast(role, "admin");
  const recreate = useMutation(
    trpc.env.patch.mutationOptions({
      onSuccess: (r) => toast.success("Re-created with the current settings", { description: `Took ${((r.update.durationMs ?? 0) / 1000).toFixed(1)} s; the workspace was kept.` }),
      onError: (err) => toast.error("The re-create was rolled back", { description: errorMessage(err) }),
    }),
  );
  const busy = recreate.isPending || pending !== null;
  return (
    <Alert className="border-amber-500/40 bg-amber-500/5" data-testid="restart-required">
      <RotateCw aria-hidden="true" className="text-amber-600 dark:text-amber-400" />
      <AlertTitle>Restart required</AlertTitle>
      <AlertDescription>
        <p data-testid="restart-reasons">
          Since this agent&apos;s container was created, {restartReasonText(agent.restartReasons)}. The container still runs the
          old settings; they apply when it is re-created{running ? "" : " at its next start"} (the workspace and chat sessions
          are kept).
        </p>
        {roleAtLeast(role, "operator") ? (
          <Button
            size="sm"
            className="mt-2"
            disabled={busy || engineDown}
            onClick={() => (safe ? recreate.mutate({ projectId: agent.projectId, agentId: agent.id }) : run(running ? "restart" : "start"))}
          >
            {busy ? <Loader2 className="animate-spin" aria-hidden="true" /> : <RotateCw aria-hidden="true" />}
            {busy ? (safe ? "Re-creating…" : running ? "Restarting…" : "Starting…") : safe ? "Re-create now" : running ? "Restart now" : "Start now"}
          </Button>
        ) : null}
        {recreate.isPending ? (
          <div className="mt-2 w-full">
            <UpdateProgress steps={steps.filter((s) => s.kind === "env")} />
          </div>
        ) : null}
      </AlertDescription>
    </Alert>
  );
}

function RuntimeSettings({ agent, role }: { agent: Agent; role: ProjectRole }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canEdit = roleAtLeast(role, "admin");
  const { formRef, values, errors, serverError, change, validate, fail, reset } = useCheckedForm({
    initial: () => valuesOf(agent),
    check: (v: RuntimeValues) => validateRuntime(v, { required: true }),
    fieldErrorsOf: runtimeFieldErrors,
    clearServerErrorOnChange: true,
  });

  const update = useMutation(
    trpc.agent.update.mutationOptions({
      onSuccess: (saved, patch) => {
        storeAgent(queryClient, trpc, saved);
        const live = patch.memoryMb !== undefined || patch.cpus !== undefined || patch.pidsLimit !== undefined;
        toast.success("Agent settings saved", {
          description: saved.restartRequired
            ? "Re-create the container to apply the model or permission mode (see Restart required above)."
            : live && saved.observedState === "running"
              ? "The new limits apply to the running container now."
              : undefined,
        });
      },
    }),
  );

  const checked = validateRuntime(values, { required: true });
  const dirty = checked.ok ? Object.keys(patchOf(agent, checked.data)).length > 0 : true;

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (update.isPending || !canEdit) return;
    const result = validate();
    if (!result) return;
    const patch = patchOf(agent, result.data);
    if (!Object.keys(patch).length) return;
    update.mutate({ projectId: agent.projectId, agentId: agent.id, ...patch }, { onError: fail });
  }

  return (
    <Card className="overflow-hidden pb-0">
      <CardHeader>
        <CardTitle>
          <h3>Runtime</h3>
        </CardTitle>
        <CardDescription>
          Memory, CPU and process limits apply to the running container at once. Model and permission mode apply when the
          container is re-created (Restart required above offers it).
        </CardDescription>
      </CardHeader>
      <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="Agent settings" className="flex flex-col gap-6">
        <CardContent className="flex flex-col gap-5">
          {!canEdit ? (
            <AdminOnlyNotice role={role} what="an agent's settings" />
          ) : null}
          <FormError message={serverError} />
          <RuntimeFields
            idPrefix="agent-settings"
            values={values}
            errors={errors}
            onChange={change}
            disabled={!canEdit || update.isPending}
            withEnv={false}
          />
        </CardContent>
        <CardFooter className="bg-muted/40 justify-between gap-4 border-t py-4 [.border-t]:pt-4">
          <p className="text-muted-foreground text-xs">
            {canEdit && dirty ? "You have unsaved changes." : `Now: ${formatLimits(agent)}.`}
          </p>
          {canEdit ? (
            <div className="flex gap-2">
              {dirty ? (
                <Button
                  type="button"
                  variant="outline"
                  disabled={update.isPending}
                  onClick={() => reset(valuesOf(agent))}
                >
                  Discard
                </Button>
              ) : null}
              <SubmitButton pending={update.isPending} pendingLabel="Saving…" disabled={!dirty}>
                Save changes
              </SubmitButton>
            </div>
          ) : null}
        </CardFooter>
      </form>
    </Card>
  );
}

function AgentFacts({ agent }: { agent: Agent }) {
  const rows: [string, React.ReactNode][] = [
    ["Template", agent.templateName],
    ["Image", <span key="image" className="font-mono break-all">{agent.image}</span>],
    ["Version", agent.version],
    ["Permission mode", permissionModeLabel(agent.permissionMode)],
    ["Desired state", agent.desiredState === "running" ? "Running" : "Stopped"],
    [
      "Observed state",
      `${STATE_LABELS[agent.observedState].label}${agent.observedAt ? ` (checked ${timeAgo(agent.observedAt)})` : ""}`,
    ],
    ["Container", agent.containerId ? <span key="cid" className="font-mono">{agent.containerId}</span> : "none"],
    ["Exit code", agent.exitCode === null ? "—" : `${agent.exitCode}${agent.oomKilled ? " (out of memory)" : ""}`],
    ["Agent id", <span key="id" className="font-mono break-all">{agent.id}</span>],
    ["Created", <time key="created" dateTime={agent.createdAt.toISOString()} title={agent.createdAt.toLocaleString()}>{timeAgo(agent.createdAt)}</time>],
  ];
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h3>Container</h3>
        </CardTitle>
        <CardDescription>What this agent runs and what Docker last reported about it.</CardDescription>
      </CardHeader>
      <CardContent>
        <dl className="grid gap-x-6 gap-y-2 text-sm sm:grid-cols-[10rem_1fr]">
          {rows.map(([label, value]) => (
            <div key={label} className="contents">
              <dt className="text-muted-foreground">{label}</dt>
              <dd className="min-w-0">{value}</dd>
            </div>
          ))}
        </dl>
      </CardContent>
    </Card>
  );
}
