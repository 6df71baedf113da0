"use client";
// The agent's environment as its container gets it: its own variables (editable) and the secrets
// over them (masked, managed below). Changes apply by a safe re-create that rolls back on failure.
import { useMutation, useQuery } from "@tanstack/react-query";
import { Loader2, Lock, Plus, Trash2, Undo2 } from "lucide-react";
import { useMemo, useState } from "react";
import { toast } from "sonner";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { envNameProblem } from "@/server/domain/env";
import { roleAtLeast, type ProjectRole } from "@/server/domain/roles";

interface Draft {
  set: Record<string, string>;
  unset: Set<string>;
}

export function EnvEditor({ projectId, agentId, role, engineDown }: { projectId: string; agentId: string; role: ProjectRole; engineDown: boolean }) {
  const trpc = useTRPC();
  const canEdit = roleAtLeast(role, "admin");
  const env = useQuery(trpc.env.get.queryOptions({ projectId, agentId }));
  const [draft, setDraft] = useState<Draft>({ set: {}, unset: new Set() });
  const [newKey, setNewKey] = useState("");
  const [newValue, setNewValue] = useState("");
  const [keyError, setKeyError] = useState<string | null>(null);
  const patch = useMutation(
    trpc.env.patch.mutationOptions({
      onSuccess: (r) => {
        setDraft({ set: {}, unset: new Set() });
        toast.success("Environment applied", { description: `The container was re-created in ${((r.update.durationMs ?? 0) / 1000).toFixed(1)} s.` });
      },
      onError: (err) => toast.error("The environment change was rolled back", { description: errorMessage(err) }),
    }),
  );

  const entries = useMemo(() => {
    const list = (env.data?.entries ?? []).map((e) => ({ ...e, value: e.key in draft.set && !e.secret ? draft.set[e.key]! : e.value }));
    for (const [key, value] of Object.entries(draft.set)) {
      if (!list.some((e) => e.key === key)) list.push({ key, value, secret: false, source: "env" as const });
    }
    return list.sort((a, b) => a.key.localeCompare(b.key));
  }, [env.data, draft]);
  const dirty = Object.keys(draft.set).length > 0 || draft.unset.size > 0;

  function addVariable(e: React.FormEvent) {
    e.preventDefault();
    const key = newKey.trim();
    const problem = envNameProblem(key);
    if (problem) return setKeyError(problem);
    setKeyError(null);
    setDraft((d) => {
      const unset = new Set(d.unset);
      unset.delete(key);
      return { set: { ...d.set, [key]: newValue }, unset };
    });
    setNewKey("");
    setNewValue("");
  }

  function apply() {
    patch.mutate({ projectId, agentId, set: draft.set, unset: [...draft.unset] });
  }

  return (
    <Card className="overflow-hidden pb-0" data-testid="env-editor">
      <CardHeader>
        <CardTitle>
          <h3>Environment</h3>
        </CardTitle>
        <CardDescription>
          What the container gets. Secret values are masked. Applying re-creates the container beside the running one and
          switches only when it is healthy; a change that breaks the agent is rolled back.
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4 pb-6">
        {env.isPending ? <Skeleton className="h-24 w-full" /> : null}
        {env.isError ? <QueryErrorAlert title="Could not load the environment" error={env.error} onRetry={() => void env.refetch()} /> : null}
        {env.data && !entries.length ? <p className="text-muted-foreground text-sm">No variables of its own.</p> : null}
        {entries.length ? (
          <ul className="divide-y rounded-md border text-sm" aria-label="Environment variables">
            {entries.map((e) => {
              const removing = draft.unset.has(e.key);
              return (
                <li key={e.key} className="flex items-center gap-3 px-3 py-1.5" data-testid="env-row">
                  <span className={`w-56 shrink-0 truncate font-mono ${removing ? "line-through opacity-60" : ""}`}>{e.key}</span>
                  {e.secret ? (
                    <span className="text-muted-foreground flex min-w-0 flex-1 items-center gap-2 font-mono" data-testid="env-masked">
                      <Lock className="size-3.5" aria-hidden="true" /> {e.value}
                      <Badge variant="outline">{e.source === "agent-secret" ? "agent secret" : "project secret"}</Badge>
                    </span>
                  ) : (
                    <Input
                      aria-label={`${e.key} variable`}
                      className="h-8 flex-1 font-mono"
                      value={e.value}
                      disabled={!canEdit || removing || patch.isPending}
                      onChange={(ev) => {
                        const value = ev.target.value;
                        setDraft((d) => ({ ...d, set: { ...d.set, [e.key]: value } }));
                      }}
                    />
                  )}
                  {canEdit && !e.secret ? (
                    removing ? (
                      <Button size="sm" variant="ghost" aria-label={`Keep ${e.key}`} onClick={() => setDraft((d) => { const unset = new Set(d.unset); unset.delete(e.key); return { ...d, unset }; })}>
                        <Undo2 aria-hidden="true" />
                      </Button>
                    ) : (
                      <Button
                        size="sm"
                        variant="ghost"
                        aria-label={`Remove ${e.key}`}
                        onClick={() =>
                          setDraft((d) => {
                            const set = { ...d.set };
                            const existed = env.data?.entries.some((x) => x.key === e.key);
                            delete set[e.key];
                            const unset = new Set(d.unset);
                            if (existed) unset.add(e.key);
                            return { set, unset };
                          })
                        }
                      >
                        <Trash2 aria-hidden="true" />
                      </Button>
                    )
                  ) : null}
                </li>
              );
            })}
          </ul>
        ) : null}
        {canEdit ? (
          <form className="flex flex-wrap items-start gap-2" onSubmit={addVariable} aria-label="Add a variable" noValidate>
            <div className="flex flex-col gap-1">
              <Input aria-label="New variable name" placeholder="NAME" className="h-8 w-56 font-mono" value={newKey} onChange={(e) => setNewKey(e.target.value)} aria-invalid={!!keyError} />
              {keyError ? <p className="text-destructive max-w-56 text-xs">{keyError}</p> : null}
            </div>
            <Input aria-label="New variable value" placeholder="value" className="h-8 min-w-40 flex-1 font-mono" value={newValue} onChange={(e) => setNewValue(e.target.value)} />
            <Button type="submit" size="sm" variant="outline">
              <Plus aria-hidden="true" /> Add
            </Button>
          </form>
        ) : null}
      </CardContent>
      {canEdit ? (
        <CardFooter className="bg-muted/40 justify-between gap-4 border-t py-4 [.border-t]:pt-4">
          <p className="text-muted-foreground text-xs">
            {dirty ? "Unapplied changes." : "Apply also re-creates the container with the current secrets."}
          </p>
          <div className="flex gap-2">
            {dirty ? (
              <Button type="button" variant="outline" size="sm" disabled={patch.isPending} onClick={() => setDraft({ set: {}, unset: new Set() })}>
                Discard
              </Button>
            ) : null}
            <Button type="button" size="sm" disabled={patch.isPending || engineDown} onClick={apply}>
              {patch.isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
              {patch.isPending ? "Applying…" : dirty ? "Apply changes" : "Re-apply"}
            </Button>
          </div>
        </CardFooter>
      ) : null}
    </Card>
  );
}
