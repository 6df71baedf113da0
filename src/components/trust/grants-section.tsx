"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { Plus, ShieldCheck, Trash2 } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { FormError } from "@/components/auth/form-error";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { AdminOnlyNotice, roleLabel } from "@/components/projects/role-badge";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { Textarea } from "@/components/ui/textarea";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import type { AppRouter } from "@/server/api/root";
import { PROJECT_ROLES, roleAtLeast, type ProjectRole } from "@/server/domain/roles";
import { GRANT_FLAGS, type GrantFlag, type TrustCallerType, type TrustTargetType } from "@/server/trust/vocabulary";
import { CheckboxLabel, fullTime, lines, NativeSelect, relative } from "./controls";

type Grant = inferRouterOutputs<AppRouter>["trust"]["list"][number];

const FLAG_LABEL: Record<GrantFlag, string> = {
  inspect: "inspect",
  start: "start",
  stop: "stop",
  restart: "restart",
  remove: "remove",
  chat: "chat",
  logs: "logs",
  stats: "stats",
  update_env: "update env",
  update_image: "update image",
  exec: "exec (terminal, approvals)",
};

/** The project's trust grants (admins): list, create, delete. */
export function GrantsSection({ projectId, myRole }: { projectId: string; myRole: ProjectRole }) {
  const trpc = useTRPC();
  const canManage = roleAtLeast(myRole, "admin");
  const grants = useQuery({ ...trpc.trust.list.queryOptions({ projectId }), enabled: canManage });
  const members = useQuery(trpc.project.members.list.queryOptions({ projectId }));
  const agents = useQuery({ ...trpc.agent.list.queryOptions({ projectId }), enabled: canManage });
  const [creating, setCreating] = useState(false);
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.trust.delete.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.trust.list.queryKey({ projectId }) }),
      onError: (err) => toast.error("Could not delete the grant", { description: errorMessage(err) }),
    }),
  );

  const callerName = (g: Grant) => {
    if (g.callerType === "role") return `everyone with the ${roleLabel(g.callerId as ProjectRole)} role`;
    if (g.callerType === "token") return `token ${g.callerId.slice(0, 8)}…`;
    const m = members.data?.find((x) => x.userId === g.callerId);
    return m ? m.email : `user ${g.callerId}`;
  };
  const targetName = (g: Grant) => {
    if (g.targetType === "project") return "every agent of this project";
    if (g.targetType === "agent_glob") return `agents named ${g.target}`;
    return `agent ${agents.data?.find((a) => a.id === g.target)?.name ?? g.target}`;
  };

  return (
    <Card>
      <CardHeader className="flex flex-row flex-wrap items-start justify-between gap-4">
        <div className="flex flex-col gap-1.5">
          <CardTitle>
            <h3>Trust grants</h3>
          </CardTitle>
          <CardDescription>
            Grants give a person, a token or a role more than its role allows, on one agent, agents matching a name
            pattern, or the whole project. Expired grants stop counting.
          </CardDescription>
        </div>
        {canManage ? (
          <Button onClick={() => setCreating(true)}>
            <Plus aria-hidden="true" />
            New grant
          </Button>
        ) : null}
      </CardHeader>
      <CardContent className="flex flex-col gap-3">
        {!canManage ? (
          <AdminOnlyNotice role={myRole} what="trust grants" />
        ) : grants.isPending ? (
          <Skeleton className="h-24 w-full" />
        ) : grants.isError ? (
          <QueryErrorAlert title="Could not load the grants" error={grants.error} onRetry={() => void grants.refetch()} />
        ) : grants.data.length === 0 ? (
          <p className="text-muted-foreground flex items-center gap-2 rounded-md border border-dashed px-3 py-6 text-sm">
            <ShieldCheck className="size-4" aria-hidden="true" />
            No grants: everyone has exactly what their role allows.
          </p>
        ) : (
          <ul className="flex flex-col gap-2" aria-label="Grants">
            {grants.data.map((g) => (
              <li key={g.id} className="flex flex-wrap items-start gap-3 rounded-md border px-3 py-2.5">
                <div className="flex min-w-0 flex-1 flex-col gap-1.5">
                  <p className="text-sm">
                    <span className="font-medium">{callerName(g)}</span> → {targetName(g)}
                    {g.description ? <span className="text-muted-foreground"> — {g.description}</span> : null}
                  </p>
                  <div className="flex flex-wrap gap-1">
                    {GRANT_FLAGS.filter((f) => g.permissions[f]).map((f) => (
                      <Badge key={f} variant="secondary">{FLAG_LABEL[f]}</Badge>
                    ))}
                    {g.fileReadPaths.length ? <Badge variant="outline">read {g.fileReadPaths.join(", ")}</Badge> : null}
                    {g.fileWritePaths.length ? <Badge variant="outline">write {g.fileWritePaths.join(", ")}</Badge> : null}
                    {g.allowedImages.length ? <Badge variant="outline">images {g.allowedImages.join(", ")}</Badge> : null}
                  </div>
                  <p className="text-muted-foreground text-xs">
                    {g.expiresAt ? (
                      <span title={fullTime(g.expiresAt)} className={g.expired ? "text-destructive" : undefined}>
                        {g.expired ? "expired" : "expires"} {relative(g.expiresAt)}
                      </span>
                    ) : (
                      "no expiry"
                    )}
                  </p>
                </div>
                <Button variant="ghost" size="icon" aria-label="Delete grant" disabled={remove.isPending} onClick={() => remove.mutate({ projectId, grantId: g.id })}>
                  <Trash2 aria-hidden="true" />
                </Button>
              </li>
            ))}
          </ul>
        )}
      </CardContent>
      {canManage ? (
        <CreateGrantDialog
          open={creating}
          onOpenChange={setCreating}
          projectId={projectId}
          members={members.data ?? []}
          agents={agents.data ?? []}
        />
      ) : null}
    </Card>
  );
}

function CreateGrantDialog({
  open,
  onOpenChange,
  projectId,
  members,
  agents,
}: {
  open: boolean;
  onOpenChange: (o: boolean) => void;
  projectId: string;
  members: { userId: string; email: string }[];
  agents: { id: string; name: string }[];
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [callerType, setCallerType] = useState<TrustCallerType>("role");
  const [callerId, setCallerId] = useState<string>("viewer");
  const [targetType, setTargetType] = useState<TrustTargetType>("agent_glob");
  const [target, setTarget] = useState("");
  const [flags, setFlags] = useState<Partial<Record<GrantFlag, boolean>>>({});
  const [readPaths, setReadPaths] = useState("");
  const [writePaths, setWritePaths] = useState("");
  const [images, setImages] = useState("");
  const [expires, setExpires] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<string | null>(null);
  const create = useMutation(
    trpc.trust.create.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.trust.list.queryKey({ projectId }) });
        onOpenChange(false);
        toast.success("Grant created");
      },
      onError: (err) => setError(errorMessage(err)),
    }),
  );

  function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    const t = targetType === "project" ? projectId : target.trim();
    if (!callerId.trim()) return setError("Pick who the grant is for.");
    if (!t) return setError(targetType === "agent" ? "Pick an agent." : "Enter an agent name pattern, e.g. web-*.");
    create.mutate({
      projectId,
      callerType,
      callerId: callerId.trim(),
      targetType,
      target: t,
      permissions: flags,
      fileReadPaths: lines(readPaths),
      fileWritePaths: lines(writePaths),
      allowedImages: lines(images),
      expiresAt: expires ? new Date(expires) : null,
      description: description.trim(),
    });
  }

  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent className="max-h-[90dvh] overflow-y-auto sm:max-w-lg">
        <DialogHeader>
          <DialogTitle>New trust grant</DialogTitle>
          <DialogDescription>Grants only add rights. One grant per caller and target.</DialogDescription>
        </DialogHeader>
        <form onSubmit={submit} className="flex flex-col gap-4" aria-label="New grant" noValidate>
          <FormError message={error} />
          <div className="grid grid-cols-2 gap-3">
            <div className="flex flex-col gap-1">
              <label htmlFor="grant-caller-type" className="text-sm font-medium">Caller</label>
              <NativeSelect
                id="grant-caller-type"
                value={callerType}
                onChange={(e) => {
                  const v = e.target.value as TrustCallerType;
                  setCallerType(v);
                  setCallerId(v === "role" ? "viewer" : v === "user" ? (members[0]?.userId ?? "") : "");
                }}
              >
                <option value="role">A role</option>
                <option value="user">A member</option>
                <option value="token">A token (id)</option>
              </NativeSelect>
            </div>
            <div className="flex flex-col gap-1">
              <label htmlFor="grant-caller" className="text-sm font-medium">Who</label>
              {callerType === "role" ? (
                <NativeSelect id="grant-caller" value={callerId} onChange={(e) => setCallerId(e.target.value)}>
                  {PROJECT_ROLES.map((r) => (
                    <option key={r} value={r}>{roleLabel(r)}</option>
                  ))}
                </NativeSelect>
              ) : callerType === "user" ? (
                <NativeSelect id="grant-caller" value={callerId} onChange={(e) => setCallerId(e.target.value)}>
                  {members.map((m) => (
                    <option key={m.userId} value={m.userId}>{m.email}</option>
                  ))}
                </NativeSelect>
              ) : (
                <Input id="grant-caller" placeholder="token id" value={callerId} onChange={(e) => setCallerId(e.target.value)} />
              )}
            </div>
            <div className="flex flex-col gap-1">
              <label htmlFor="grant-target-type" className="text-sm font-medium">Target</label>
              <NativeSelect
                id="grant-target-type"
                value={targetType}
                onChange={(e) => {
                  const v = e.target.value as TrustTargetType;
                  setTargetType(v);
                  setTarget(v === "agent" ? (agents[0]?.id ?? "") : "");
                }}
              >
                <option value="agent_glob">Agents by name pattern</option>
                <option value="agent">One agent</option>
                <option value="project">Every agent</option>
              </NativeSelect>
            </div>
            <div className="flex flex-col gap-1">
              <label htmlFor="grant-target" className="text-sm font-medium">Which</label>
              {targetType === "agent" ? (
                <NativeSelect id="grant-target" value={target} onChange={(e) => setTarget(e.target.value)}>
                  {agents.map((a) => (
                    <option key={a.id} value={a.id}>{a.name}</option>
                  ))}
                </NativeSelect>
              ) : targetType === "agent_glob" ? (
                <Input id="grant-target" placeholder="web-*" value={target} onChange={(e) => setTarget(e.target.value)} />
              ) : (
                <Input id="grant-target" value="this project" disabled />
              )}
            </div>
          </div>
          <fieldset className="grid grid-cols-2 gap-2">
            <legend className="mb-2 text-sm font-medium">Permissions</legend>
            {GRANT_FLAGS.map((f) => (
              <CheckboxLabel key={f} label={FLAG_LABEL[f]} checked={!!flags[f]} onChange={(e) => setFlags((x) => ({ ...x, [f]: e.target.checked }))} />
            ))}
          </fieldset>
          <GlobField id="grant-read" label="Files it may read (globs, one per line)" placeholder="/workspace/**" value={readPaths} onChange={setReadPaths} />
          <GlobField id="grant-write" label="Files it may write" placeholder="/workspace/src/**" value={writePaths} onChange={setWritePaths} />
          <GlobField id="grant-images" label="Images it may update to" placeholder="armory-agent:*" value={images} onChange={setImages} />
          <div className="grid grid-cols-2 gap-3">
            <div className="flex flex-col gap-1">
              <label htmlFor="grant-expires" className="text-sm font-medium">Expires (optional)</label>
              <Input id="grant-expires" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
            </div>
            <div className="flex flex-col gap-1">
              <label htmlFor="grant-description" className="text-sm font-medium">Description</label>
              <Input id="grant-description" placeholder="why" value={description} onChange={(e) => setDescription(e.target.value)} />
            </div>
          </div>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => onOpenChange(false)}>Cancel</Button>
            <Button type="submit" disabled={create.isPending}>{create.isPending ? "Creating…" : "Create grant"}</Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

function GlobField({ id, label, placeholder, value, onChange }: { id: string; label: string; placeholder: string; value: string; onChange: (v: string) => void }) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">{label}</label>
      <Textarea id={id} rows={2} placeholder={placeholder} value={value} onChange={(e) => onChange(e.target.value)} className="font-mono text-xs" />
    </div>
  );
}
