"use client";
// The agent's environment, in one list: its own variables (values shown, editable) and the
// secrets over them (names only, never values: the agent's own secrets, set here, and the
// project's, managed on the project's Secrets page). One Apply saves the secret changes and
// re-creates the container through the safe rollout, showing its live steps.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { KeyRound, Loader2, Lock, Plus, Trash2, Undo2, Variable } from "lucide-react";
import Link from "next/link";
import { useMemo, useState } from "react";
import { toast } from "sonner";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { AdminOnlyNotice } from "@/components/projects/role-badge";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { UpdateProgress } from "@/components/versions/update-progress";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";
import type { UpdateStepEventView } from "@/server/api/routers/version/schemas";
import { envNameProblem } from "@/server/domain/env";
import { roleAtLeast, type ProjectRole } from "@/server/domain/roles";

const MAX_VALUE_BYTES = 32 * 1024;
const MASK = "••••••••";

/** What Apply does, said once, where the button is. */
export const APPLY_EXPLAINED =
  "Applying re-creates the container with the new environment: the new one starts beside the running one and takes over only once it is healthy (a failure rolls back). The workspace and chat sessions are kept.";

interface Draft {
  /** Variables to set (name -> value). */
  set: Record<string, string>;
  /** Variables to remove. */
  unset: Set<string>;
  /** Agent secrets to set (write-only values). */
  secrets: Record<string, string>;
  /** Agent secrets to delete. */
  dropSecrets: Set<string>;
}
const EMPTY: Draft = { set: {}, unset: new Set(), secrets: {}, dropSecrets: new Set() };

type Kind = "variable" | "secret";
type Source = "env" | "agent-secret" | "project-secret";

interface Row {
  key: string;
  source: Source;
  /** Variables only. */
  value: string;
  /** Not applied yet: added, changed, to be removed. */
  state: "same" | "new" | "changed" | "removed";
}

function bytes(s: string): number {
  return new TextEncoder().encode(s).length;
}

export function EnvEditor({
  projectId,
  agentId,
  role,
  engineDown,
  steps,
}: {
  projectId: string;
  agentId: string;
  role: ProjectRole;
  engineDown: boolean;
  /** Live steps of this agent's latest env re-create (version.onUpdate). */
  steps: UpdateStepEventView[];
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canEdit = roleAtLeast(role, "admin");
  const env = useQuery(trpc.env.get.queryOptions({ projectId, agentId }));
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [applying, setApplying] = useState(false);
  const [adding, setAdding] = useState<{ kind: Kind; name: string; value: string; error: string | null }>({ kind: "variable", name: "", value: "", error: null });
  const [replacing, setReplacing] = useState<{ key: string; value: string } | null>(null);
  const setSecret = useMutation(trpc.secret.agent.set.mutationOptions());
  const dropSecret = useMutation(trpc.secret.agent.delete.mutationOptions());
  const patch = useMutation(trpc.env.patch.mutationOptions());

  const rows = useMemo<Row[]>(() => {
    const out = new Map<string, Row>();
    for (const e of env.data?.entries ?? []) {
      const source = e.source as Source;
      if (source === "env") {
        const changed = e.key in draft.set && draft.set[e.key] !== e.value;
        out.set(e.key, { key: e.key, source, value: changed ? draft.set[e.key]! : e.value, state: draft.unset.has(e.key) ? "removed" : changed ? "changed" : "same" });
      } else {
        const state = draft.dropSecrets.has(e.key) ? "removed" : source === "agent-secret" && e.key in draft.secrets ? "changed" : "same";
        out.set(e.key, { key: e.key, source, value: "", state });
      }
    }
    for (const [key, value] of Object.entries(draft.set)) if (!out.has(key)) out.set(key, { key, source: "env", value, state: "new" });
    for (const key of Object.keys(draft.secrets)) {
      const existing = out.get(key);
      if (!existing || existing.source !== "agent-secret") out.set(key, { key, source: "agent-secret", value: "", state: "new" });
    }
    return [...out.values()].sort((a, b) => a.key.localeCompare(b.key));
  }, [env.data, draft]);

  const changes =
    Object.keys(draft.set).filter((k) => rows.find((r) => r.key === k)?.state !== "same").length +
    draft.unset.size +
    Object.keys(draft.secrets).length +
    draft.dropSecrets.size;
  const busy = applying;

  function update(fn: (d: Draft) => Draft) {
    setDraft((d) => fn({ set: { ...d.set }, unset: new Set(d.unset), secrets: { ...d.secrets }, dropSecrets: new Set(d.dropSecrets) }));
  }

  function add(e: React.FormEvent) {
    e.preventDefault();
    const name = adding.name.trim();
    const problem = envNameProblem(name);
    if (problem) return setAdding((a) => ({ ...a, error: problem }));
    if (adding.kind === "secret" && !adding.value) return setAdding((a) => ({ ...a, error: "A secret needs a value" }));
    if (bytes(adding.value) > MAX_VALUE_BYTES) return setAdding((a) => ({ ...a, error: "Values must be at most 32 KiB" }));
    const existing = rows.find((r) => r.key === name && r.state !== "removed");
    if (adding.kind === "variable" && existing && existing.source !== "env") {
      return setAdding((a) => ({ ...a, error: `${name} is a secret; a variable of that name would be overridden by it` }));
    }
    update((d) => {
      if (adding.kind === "variable") {
        d.set[name] = adding.value;
        d.unset.delete(name);
      } else {
        d.secrets[name] = adding.value;
        d.dropSecrets.delete(name);
      }
      return d;
    });
    setAdding({ kind: adding.kind, name: "", value: "", error: null });
  }

  async function apply() {
    if (busy) return;
    setApplying(true);
    const secretNames = [...draft.dropSecrets, ...Object.keys(draft.secrets)];
    try {
      try {
        for (const name of draft.dropSecrets) await dropSecret.mutateAsync({ projectId, agentId, name });
        for (const [name, value] of Object.entries(draft.secrets)) await setSecret.mutateAsync({ projectId, agentId, name, value });
      } catch (err) {
        toast.error("The secrets were not saved; nothing was applied", { description: errorMessage(err) });
        return;
      }
      // The secrets are saved: from here on only the variables remain to apply.
      setDraft((d) => ({ ...d, secrets: {}, dropSecrets: new Set() }));
      try {
        const r = await patch.mutateAsync({ projectId, agentId, set: draft.set, unset: [...draft.unset] });
        setDraft(EMPTY);
        toast.success("Environment applied", { description: `The container was re-created in ${((r.update.durationMs ?? 0) / 1000).toFixed(1)} s; the workspace was kept.` });
      } catch (err) {
        toast.error("The environment change was rolled back", {
          description: `${errorMessage(err)}${secretNames.length ? " The secret changes are saved and apply at the next re-create." : ""}`,
        });
      }
    } finally {
      setApplying(false);
      void queryClient.invalidateQueries({ queryKey: trpc.env.get.queryKey({ projectId, agentId }) });
    }
  }

  const envSteps = steps.filter((s) => s.kind === "env");

  return (
    <Card className="overflow-hidden pb-0" data-testid="env-editor">
      <CardHeader>
        <CardTitle>
          <h3>Environment</h3>
        </CardTitle>
        <CardDescription>
          The variables the container gets, and the secrets over them. Secret values are never shown: the agent&apos;s own
          secrets are set here, the project&apos;s on its{" "}
          <Link href={`/projects/${projectId}/secrets`} className="text-foreground underline underline-offset-2">
            Secrets page
          </Link>
          ; a secret overrides a variable of the same name. Armory adds its own ARMORY_* variables and the model.
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4 pb-6">
        {!canEdit ? <AdminOnlyNotice role={role} what="an agent's environment" /> : null}
        {env.isPending ? <Skeleton className="h-24 w-full" /> : null}
        {env.isError ? <QueryErrorAlert title="Could not load the environment" error={env.error} onRetry={() => void env.refetch()} /> : null}
        {env.data && !rows.length ? <p className="text-muted-foreground text-sm">No variables or secrets of its own yet.</p> : null}
        {rows.length ? (
          <ul className="divide-y rounded-md border text-sm" aria-label="Environment variables and secrets">
            {rows.map((r) => (
              <EnvRowView
                key={r.key}
                row={r}
                projectId={projectId}
                canEdit={canEdit}
                disabled={busy}
                replacing={replacing?.key === r.key ? replacing.value : null}
                onReplaceStart={() => setReplacing({ key: r.key, value: "" })}
                onReplaceChange={(value) => setReplacing({ key: r.key, value })}
                onReplaceDone={(ok) => {
                  if (ok && replacing?.value) update((d) => ((d.secrets[r.key] = replacing.value), d));
                  setReplacing(null);
                }}
                onValue={(value) => update((d) => ((d.set[r.key] = value), d))}
                onRemove={() =>
                  update((d) => {
                    if (r.source === "env") {
                      delete d.set[r.key];
                      if (r.state !== "new") d.unset.add(r.key);
                    } else {
                      delete d.secrets[r.key];
                      if (r.state !== "new") d.dropSecrets.add(r.key);
                    }
                    return d;
                  })
                }
                onKeep={() =>
                  update((d) => {
                    d.unset.delete(r.key);
                    d.dropSecrets.delete(r.key);
                    return d;
                  })
                }
              />
            ))}
          </ul>
        ) : null}
        {canEdit ? (
          <form className="flex flex-col gap-2" onSubmit={add} aria-label="Add a variable or secret" noValidate>
            <div className="flex flex-wrap items-start gap-2">
              <div role="group" aria-label="Kind" className="flex rounded-md border p-0.5">
                {(["variable", "secret"] as const).map((k) => (
                  <Button
                    key={k}
                    type="button"
                    size="sm"
                    variant={adding.kind === k ? "secondary" : "ghost"}
                    aria-pressed={adding.kind === k}
                    className="h-7"
                    onClick={() => setAdding((a) => ({ ...a, kind: k, error: null }))}
                  >
                    {k === "variable" ? <Variable aria-hidden="true" /> : <KeyRound aria-hidden="true" />}
                    {k === "variable" ? "Variable" : "Secret"}
                  </Button>
                ))}
              </div>
              <Input
                aria-label="New name"
                placeholder="NAME"
                autoComplete="off"
                spellCheck={false}
                className="h-8 w-48 font-mono"
                value={adding.name}
                onChange={(e) => setAdding((a) => ({ ...a, name: e.target.value, error: null }))}
                aria-invalid={!!adding.error}
                aria-describedby={adding.error ? "env-add-error" : undefined}
              />
              <Input
                aria-label={adding.kind === "secret" ? "New secret value" : "New variable value"}
                placeholder={adding.kind === "secret" ? "secret value (never shown again)" : "value"}
                type={adding.kind === "secret" ? "password" : "text"}
                autoComplete={adding.kind === "secret" ? "new-password" : "off"}
                spellCheck={false}
                className="h-8 min-w-40 flex-1 font-mono"
                value={adding.value}
                onChange={(e) => setAdding((a) => ({ ...a, value: e.target.value, error: null }))}
              />
              <Button type="submit" size="sm" variant="outline" disabled={busy}>
                <Plus aria-hidden="true" /> Add
              </Button>
            </div>
            {adding.error ? (
              <p id="env-add-error" role="alert" className="text-destructive text-xs">
                {adding.error}
              </p>
            ) : null}
          </form>
        ) : null}
        <UpdateProgress steps={envSteps} />
      </CardContent>
      {canEdit ? (
        <CardFooter className="bg-muted/40 flex-col items-stretch gap-3 border-t py-4 sm:flex-row sm:items-center sm:justify-between [.border-t]:pt-4">
          <p className="text-muted-foreground text-xs" data-testid="env-apply-explained">
            {changes ? <span className="text-foreground font-medium">{changes} unapplied change{changes === 1 ? "" : "s"}. </span> : null}
            {APPLY_EXPLAINED}
          </p>
          <div className="flex shrink-0 gap-2">
            {changes ? (
              <Button type="button" variant="outline" size="sm" disabled={busy} onClick={() => setDraft(EMPTY)}>
                Discard
              </Button>
            ) : null}
            <Button type="button" size="sm" disabled={busy || engineDown || !changes} onClick={() => void apply()}>
              {busy ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
              {busy ? "Applying…" : "Apply"}
            </Button>
          </div>
        </CardFooter>
      ) : null}
    </Card>
  );
}

function EnvRowView({
  row: r,
  projectId,
  canEdit,
  disabled,
  replacing,
  onReplaceStart,
  onReplaceChange,
  onReplaceDone,
  onValue,
  onRemove,
  onKeep,
}: {
  row: Row;
  projectId: string;
  canEdit: boolean;
  disabled: boolean;
  replacing: string | null;
  onReplaceStart: () => void;
  onReplaceChange: (value: string) => void;
  onReplaceDone: (ok: boolean) => void;
  onValue: (value: string) => void;
  onRemove: () => void;
  onKeep: () => void;
}) {
  const removed = r.state === "removed";
  const secret = r.source !== "env";
  return (
    <li className="flex flex-wrap items-center gap-x-3 gap-y-1.5 px-3 py-2" data-testid="env-row" data-kind={secret ? "secret" : "variable"}>
      <span className={cn("w-full truncate font-mono sm:w-52 sm:shrink-0", removed && "line-through opacity-60")}>{r.key}</span>
      {secret ? (
        replacing !== null ? (
          <span className="flex min-w-0 flex-1 items-center gap-2">
            <Input
              aria-label={`New value of ${r.key}`}
              type="password"
              autoComplete="new-password"
              autoFocus
              className="h-8 flex-1 font-mono"
              value={replacing}
              onChange={(e) => onReplaceChange(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") {
                  e.preventDefault();
                  onReplaceDone(true);
                }
                if (e.key === "Escape") onReplaceDone(false);
              }}
            />
            <Button type="button" size="sm" variant="outline" disabled={!replacing} onClick={() => onReplaceDone(true)}>
              Set
            </Button>
            <Button type="button" size="sm" variant="ghost" onClick={() => onReplaceDone(false)}>
              Cancel
            </Button>
          </span>
        ) : (
          <span className="text-muted-foreground flex min-w-0 flex-1 flex-wrap items-center gap-2 font-mono" data-testid="env-masked">
            <Lock className="size-3.5" aria-hidden="true" />
            <span aria-label="value hidden">{MASK}</span>
            <Badge variant="outline" className="font-sans">
              {r.source === "agent-secret" ? "agent secret" : "project secret"}
            </Badge>
            {r.source === "project-secret" ? (
              <Link href={`/projects/${projectId}/secrets`} className="text-foreground font-sans text-xs underline underline-offset-2">
                manage
              </Link>
            ) : null}
          </span>
        )
      ) : (
        <Input
          aria-label={`Value of ${r.key}`}
          className="h-8 min-w-0 flex-1 font-mono"
          value={r.value}
          disabled={!canEdit || removed || disabled}
          onChange={(e) => onValue(e.target.value)}
        />
      )}
      {r.state !== "same" ? (
        <Badge variant="secondary" className="font-normal">
          {r.state === "new" ? "new" : r.state === "changed" ? (secret ? "new value" : "changed") : "removed"}
        </Badge>
      ) : null}
      {canEdit && r.source !== "project-secret" && replacing === null ? (
        <span className="flex gap-1">
          {r.source === "agent-secret" && !removed ? (
            <Button type="button" size="sm" variant="ghost" disabled={disabled} onClick={onReplaceStart} aria-label={`Replace the value of ${r.key}`}>
              Replace
            </Button>
          ) : null}
          {removed ? (
            <Button type="button" size="sm" variant="ghost" disabled={disabled} aria-label={`Keep ${r.key}`} onClick={onKeep}>
              <Undo2 aria-hidden="true" />
            </Button>
          ) : (
            <Button type="button" size="sm" variant="ghost" disabled={disabled} aria-label={`Remove ${r.key}`} onClick={onRemove}>
              <Trash2 aria-hidden="true" />
            </Button>
          )}
        </span>
      ) : null}
    </li>
  );
}
