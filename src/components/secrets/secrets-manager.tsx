"use client";
// Secrets of a project: names, sizes and times only (values are write-only), a form to set or
// replace one, and delete with confirmation. (An agent's own secrets are in its Settings' one
// environment editor, components/versions/env-editor.tsx.)
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { KeyRound, Loader2, Trash2 } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { AdminOnlyNotice } from "@/components/projects/role-badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { Textarea } from "@/components/ui/textarea";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import { envNameProblem } from "@/server/domain/env";
import { roleAtLeast, type ProjectRole } from "@/server/domain/roles";

const MAX_BYTES = 32 * 1024;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Why the form cannot be sent, per field (the server checks the same rules). */
function problems(name: string, value: string): { name?: string; value?: string } {
  const out: { name?: string; value?: string } = {};
  const n = envNameProblem(name.trim());
  if (n) out.name = n;
  const size = new TextEncoder().encode(value).length;
  if (!size) out.value = "A secret value must not be empty";
  else if (size > MAX_BYTES) out.value = `Secret values must be at most 32 KiB; this one is ${formatBytes(size)}`;
  return out;
}

export function SecretsManager({ projectId, role }: { projectId: string; role: ProjectRole }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Project secrets need admin.
  const canManage = roleAtLeast(role, "admin");
  const listOptions = trpc.secret.list.queryOptions({ projectId });
  const list = useQuery({ ...listOptions, enabled: canManage });
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [touched, setTouched] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);

  const refresh = () => void queryClient.invalidateQueries({ queryKey: listOptions.queryKey });
  const onError = (err: unknown) => toast.error("The secret was not changed", { description: errorMessage(err) });
  const setProject = useMutation(trpc.secret.set.mutationOptions({ onError }));
  const delProject = useMutation(trpc.secret.delete.mutationOptions({ onError }));
  const saving = setProject.isPending;
  const deleting = delProject.isPending;

  const found = problems(name, value);
  const invalid = Object.keys(found).length > 0;

  async function save(e: React.FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (invalid || saving) return;
    const input = { projectId, name: name.trim(), value };
    const replaced = list.data?.some((s) => s.name === input.name);
    await setProject.mutateAsync(input);
    toast.success(`Secret ${input.name} ${replaced ? "replaced" : "saved"}`, {
      description: "Agents get it when their containers are next re-created (their Settings say so and offer it).",
    });
    setName("");
    setValue("");
    setTouched(false);
    refresh();
  }

  async function remove(secret: string) {
    await delProject.mutateAsync({ projectId, name: secret });
    setConfirming(null);
    toast.success(`Secret ${secret} deleted`);
    refresh();
  }

  return (
    <Card data-testid="project-secrets">
      <CardHeader>
        <CardTitle>
          <h3>Project secrets</h3>
        </CardTitle>
        <CardDescription>
          Encrypted values every agent of this project gets as environment variables. Values are never shown again, returned
          by the API or logged.
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-5">
        {!canManage ? <AdminOnlyNotice role={role} what="secrets" /> : null}
        {canManage && list.isPending ? (
          <div className="flex flex-col gap-2">
            <Skeleton className="h-8 w-full" />
            <Skeleton className="h-8 w-2/3" />
          </div>
        ) : null}
        {list.isError ? <QueryErrorAlert title="Could not load the secrets" error={list.error} onRetry={() => void list.refetch()} /> : null}
        {list.data && list.data.length === 0 ? (
          <p className="text-muted-foreground flex items-center gap-2 text-sm">
            <KeyRound className="size-4" aria-hidden="true" /> No secrets yet.
          </p>
        ) : null}
        {list.data && list.data.length > 0 ? (
          <ul className="divide-y rounded-md border" aria-label="Secrets">
            {list.data.map((s) => (
              <li key={s.name} className="flex items-center justify-between gap-3 px-3 py-2 text-sm" data-testid="secret-row">
                <div className="min-w-0">
                  <span className="font-mono font-medium">{s.name}</span>
                  <span className="text-muted-foreground ml-3 font-mono" aria-label="value hidden">
                    ••••••••
                  </span>
                  <p className="text-muted-foreground text-xs">
                    {formatBytes(s.sizeBytes)} · updated {timeAgo(s.updatedAt)}
                  </p>
                </div>
                {confirming === s.name ? (
                  <div className="flex gap-2">
                    <Button size="sm" variant="destructive" disabled={deleting} onClick={() => void remove(s.name).catch(() => {})}>
                      {deleting ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
                      Delete {s.name}
                    </Button>
                    <Button size="sm" variant="outline" onClick={() => setConfirming(null)}>
                      Cancel
                    </Button>
                  </div>
                ) : (
                  <Button size="sm" variant="ghost" aria-label={`Delete secret ${s.name}`} onClick={() => setConfirming(s.name)}>
                    <Trash2 aria-hidden="true" />
                  </Button>
                )}
              </li>
            ))}
          </ul>
        ) : null}
        {canManage ? (
          <form onSubmit={(e) => void save(e).catch(() => {})} noValidate aria-label="Set a project secret" className="flex flex-col gap-3">
            <div className="grid gap-3 sm:grid-cols-[14rem_1fr]">
              <div className="flex flex-col gap-1.5">
                <Label htmlFor={"secret-name-project"}>Name</Label>
                <Input
                  id={"secret-name-project"}
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                  placeholder="ANTHROPIC_API_KEY"
                  autoComplete="off"
                  className="font-mono"
                  aria-invalid={touched && !!found.name}
                />
                {touched && found.name ? <p className="text-destructive text-xs">{found.name}</p> : null}
              </div>
              <div className="flex flex-col gap-1.5">
                <Label htmlFor={"secret-value-project"}>Value</Label>
                <Textarea
                  id={"secret-value-project"}
                  value={value}
                  onChange={(e) => setValue(e.target.value)}
                  rows={1}
                  autoComplete="off"
                  spellCheck={false}
                  className="font-mono [-webkit-text-security:disc]"
                  aria-invalid={touched && !!found.value}
                />
                {touched && found.value ? <p className="text-destructive text-xs">{found.value}</p> : null}
              </div>
            </div>
            <div>
              <Button type="submit" size="sm" disabled={saving}>
                {saving ? <Loader2 className="animate-spin" aria-hidden="true" /> : <KeyRound aria-hidden="true" />}
                {saving ? "Saving…" : "Save secret"}
              </Button>
            </div>
          </form>
        ) : null}
      </CardContent>
    </Card>
  );
}
