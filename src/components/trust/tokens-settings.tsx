"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { Check, Copy, KeyRound, Plus, RefreshCw, Trash2 } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { EmptyState } from "@/components/common/empty-state";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { FormError } from "@/components/auth/form-error";
import { TextField } from "@/components/forms/text-field";
import {
  AlertDialog,
  AlertDialogAction,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
} from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import type { AppRouter } from "@/server/api/root";
import { CheckboxLabel, fullTime, NativeSelect, relative } from "./controls";

type Token = inferRouterOutputs<AppRouter>["token"]["list"][number];

const EXPIRY_CHOICES = [
  { value: "never", label: "Never" },
  { value: "7", label: "In 7 days" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
] as const;

/** The signed-in person's machine tokens: create (secret shown once), rotate, revoke. */
export function TokensSettings() {
  const trpc = useTRPC();
  const tokens = useQuery(trpc.token.list.queryOptions());
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ name: string; token: string } | null>(null);

  return (
    <div className="mx-auto flex w-full max-w-4xl flex-col gap-6 px-4 py-8 sm:px-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div className="flex flex-col gap-1">
          <h1 className="text-2xl font-semibold tracking-tight">Machine tokens</h1>
          <p className="text-muted-foreground max-w-2xl text-sm">
            Tokens let scripts and services call Armory&apos;s API as you (<code>Authorization: Bearer …</code>), limited
            to the scopes and projects you pick. The secret is shown once.
          </p>
        </div>
        <Button onClick={() => setCreating(true)}>
          <Plus aria-hidden="true" />
          New token
        </Button>
      </div>

      {tokens.isPending ? (
        <div className="flex flex-col gap-3" aria-label="Loading tokens">
          <Skeleton className="h-20 w-full" />
          <Skeleton className="h-20 w-full" />
        </div>
      ) : tokens.isError ? (
        <QueryErrorAlert title="Could not load your tokens" error={tokens.error} onRetry={() => void tokens.refetch()} />
      ) : tokens.data.length === 0 ? (
        <EmptyState
          id="no-tokens"
          icon={KeyRound}
          title="No tokens yet"
          headingLevel={2}
          description="Create a token for a script, a CI job or another service that should call Armory."
          action={{ label: "Create your first token", onClick: () => setCreating(true) }}
        />
      ) : (
        <ul className="flex flex-col gap-3" aria-label="Tokens">
          {tokens.data.map((t) => (
            <TokenRow key={t.id} token={t} onSecret={setSecret} />
          ))}
        </ul>
      )}

      <CreateTokenDialog open={creating} onOpenChange={setCreating} onCreated={setSecret} />
      <SecretDialog secret={secret} onClose={() => setSecret(null)} />
    </div>
  );
}

function StateBadge({ state }: { state: Token["state"] }) {
  if (state === "active") return <Badge className="border-emerald-500/30 bg-emerald-500/10 text-emerald-700 dark:text-emerald-300" variant="outline">Active</Badge>;
  if (state === "expired") return <Badge variant="outline" className="text-muted-foreground">Expired</Badge>;
  return <Badge variant="outline" className="border-destructive/40 text-destructive">Revoked</Badge>;
}

function TokenRow({ token, onSecret }: { token: Token; onSecret: (s: { name: string; token: string }) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.token.list.queryKey() });
  const rotate = useMutation(
    trpc.token.rotate.mutationOptions({
      onSuccess: async (res) => {
        await refresh();
        onSecret({ name: res.summary.name, token: res.token });
      },
      onError: (err) => toast.error("Could not rotate the token", { description: errorMessage(err) }),
    }),
  );
  const revoke = useMutation(
    trpc.token.revoke.mutationOptions({
      onSuccess: async () => {
        await refresh();
        toast.success(`Token ${token.name} revoked`);
      },
      onError: (err) => toast.error("Could not revoke the token", { description: errorMessage(err) }),
    }),
  );
  const usable = token.state === "active";

  return (
    <li>
      <Card className="py-4">
        <CardContent className="flex flex-wrap items-center gap-x-6 gap-y-3">
          <div className="flex min-w-0 flex-1 flex-col gap-1">
            <div className="flex flex-wrap items-center gap-2">
              <span className="font-medium">{token.name}</span>
              <StateBadge state={token.state} />
              {token.scopes.map((s) => (
                <Badge key={s} variant="secondary">{s}</Badge>
              ))}
            </div>
            <p className="text-muted-foreground font-mono text-xs">arm_{token.prefix}_…</p>
            <p className="text-muted-foreground text-xs">
              {token.projectIds.length ? `${token.projectIds.length} project${token.projectIds.length > 1 ? "s" : ""}` : "All your projects"}
              {" · "}created <span title={fullTime(token.createdAt)}>{relative(token.createdAt)}</span>
              {" · "}
              {token.lastUsedAt ? <span title={fullTime(token.lastUsedAt)}>last used {relative(token.lastUsedAt)}</span> : "never used"}
              {" · "}
              {token.revokedAt ? (
                <span title={fullTime(token.revokedAt)}>revoked {relative(token.revokedAt)}</span>
              ) : token.expiresAt ? (
                <span title={fullTime(token.expiresAt)}>{token.state === "expired" ? "expired" : "expires"} {relative(token.expiresAt)}</span>
              ) : (
                "no expiry"
              )}
            </p>
          </div>
          {usable ? (
            <div className="flex gap-2">
              <Button variant="outline" size="sm" disabled={rotate.isPending} onClick={() => rotate.mutate({ tokenId: token.id })}>
                <RefreshCw aria-hidden="true" />
                {rotate.isPending ? "Rotating…" : "Rotate"}
              </Button>
              <Button variant="outline" size="sm" onClick={() => setConfirmRevoke(true)} aria-label={`Revoke ${token.name}`}>
                <Trash2 aria-hidden="true" />
                Revoke
              </Button>
            </div>
          ) : null}
        </CardContent>
      </Card>
      <AlertDialog open={confirmRevoke} onOpenChange={setConfirmRevoke}>
        <AlertDialogContent>
          <AlertDialogHeader>
            <AlertDialogTitle>Revoke {token.name}?</AlertDialogTitle>
            <AlertDialogDescription>Every program using it gets 401 from now on. This cannot be undone.</AlertDialogDescription>
          </AlertDialogHeader>
          <AlertDialogFooter>
            <AlertDialogCancel>Cancel</AlertDialogCancel>
            <AlertDialogAction onClick={() => revoke.mutate({ tokenId: token.id })}>Revoke token</AlertDialogAction>
          </AlertDialogFooter>
        </AlertDialogContent>
      </AlertDialog>
    </li>
  );
}

function CreateTokenDialog({
  open,
  onOpenChange,
  onCreated,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onCreated: (s: { name: string; token: string }) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const projects = useQuery({ ...trpc.project.list.queryOptions(), enabled: open });
  const [name, setName] = useState("");
  const [read, setRead] = useState(true);
  const [write, setWrite] = useState(false);
  const [expiry, setExpiry] = useState<string>("30");
  const [projectIds, setProjectIds] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const create = useMutation(
    trpc.token.create.mutationOptions({
      onSuccess: async (res) => {
        await queryClient.invalidateQueries({ queryKey: trpc.token.list.queryKey() });
        onOpenChange(false);
        setName("");
        setProjectIds([]);
        onCreated({ name: res.summary.name, token: res.token });
      },
      onError: (err) => setError(errorMessage(err)),
    }),
  );

  function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    const scopes = [...(read ? (["read"] as const) : []), ...(write ? (["write"] as const) : [])];
    if (!name.trim()) return setError("Give the token a name, e.g. the program that will use it.");
    if (scopes.length === 0) return setError("Pick at least one scope.");
    const expiresAt = expiry === "never" ? null : new Date(Date.now() + Number(expiry) * 86_400_000);
    create.mutate({ name: name.trim(), scopes, projectIds, expiresAt });
  }

  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent className="sm:max-w-md">
        <DialogHeader>
          <DialogTitle>New machine token</DialogTitle>
          <DialogDescription>It acts as you, limited to what you pick here.</DialogDescription>
        </DialogHeader>
        <form onSubmit={submit} className="flex flex-col gap-5" aria-label="New token" noValidate>
          <FormError message={error} />
          <TextField id="token-name" label="Name" placeholder="ci-deployer" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
          <fieldset className="flex flex-col gap-2">
            <legend className="mb-2 text-sm font-medium">Scopes</legend>
            <CheckboxLabel label="read — queries and live streams" checked={read} onChange={(e) => setRead(e.target.checked)} />
            <CheckboxLabel label="write — changes (start, stop, edit…)" checked={write} onChange={(e) => setWrite(e.target.checked)} />
          </fieldset>
          <div className="flex flex-col gap-2">
            <label htmlFor="token-expiry" className="text-sm font-medium">Expires</label>
            <NativeSelect id="token-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
              {EXPIRY_CHOICES.map((c) => (
                <option key={c.value} value={c.value}>{c.label}</option>
              ))}
            </NativeSelect>
          </div>
          <fieldset className="flex flex-col gap-2">
            <legend className="mb-2 text-sm font-medium">Projects</legend>
            <p className="text-muted-foreground text-xs">None ticked: every project you belong to.</p>
            {projects.data?.map((p) => (
              <CheckboxLabel
                key={p.id}
                label={p.name}
                checked={projectIds.includes(p.id)}
                onChange={(e) => setProjectIds((ids) => (e.target.checked ? [...ids, p.id] : ids.filter((i) => i !== p.id)))}
              />
            ))}
          </fieldset>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => onOpenChange(false)}>Cancel</Button>
            <Button type="submit" disabled={create.isPending}>{create.isPending ? "Creating…" : "Create token"}</Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

function SecretDialog({ secret, onClose }: { secret: { name: string; token: string } | null; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Dialog open={!!secret} onOpenChange={(o) => (o ? undefined : (setCopied(false), onClose()))}>
      <DialogContent className="sm:max-w-lg">
        <DialogHeader>
          <DialogTitle>Copy your token {secret?.name}</DialogTitle>
          <DialogDescription>This is the only time Armory shows it. Store it somewhere safe.</DialogDescription>
        </DialogHeader>
        <code aria-label="Token secret" data-testid="token-secret" className="bg-muted rounded-md p-3 font-mono text-xs break-all select-all">
          {secret?.token}
        </code>
        <DialogFooter>
          <Button
            variant="outline"
            onClick={() => {
              if (!secret) return;
              void navigator.clipboard?.writeText(secret.token).then(() => setCopied(true), () => toast.error("Copy failed: select the text and copy it"));
            }}
          >
            {copied ? <Check aria-hidden="true" /> : <Copy aria-hidden="true" />}
            {copied ? "Copied" : "Copy"}
          </Button>
          <Button onClick={() => (setCopied(false), onClose())}>Done</Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
