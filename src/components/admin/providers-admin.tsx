"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CheckCircle2, Pencil, Plus, Trash2 } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { FormError } from "@/components/auth/form-error";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { SubmitButton } from "@/components/forms/submit-button";
import { TextareaField, TextField } from "@/components/forms/text-field";
import { useCheckedForm } from "@/components/forms/use-checked-form";
import { fullTime } from "@/components/trust/controls";
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
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import {
  apiProviderFieldErrors,
  changedProviderFields,
  checkProviderForm,
  emptyProviderForm,
  providerToForm,
  type Provider,
} from "./provider-form";

type Editing = { kind: "create" } | { kind: "edit"; provider: Provider } | null;
type Confirming = { kind: "confirm" | "delete"; provider: Provider } | null;

/**
 * Admin → Providers: where agents' model requests may go. The operator's upstream first
 * (read-only), then registered providers with the templates that use them; migrated ones wait for
 * confirmation.
 */
export function ProvidersAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Templates pick providers in every project: keep the usage column current without a stream.
  const providers = useQuery({ ...trpc.provider.list.queryOptions(), refetchInterval: 10_000 });
  const [editing, setEditing] = useState<Editing>(null);
  const [confirming, setConfirming] = useState<Confirming>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.provider.list.queryKey() });

  const confirm = useMutation(
    trpc.provider.confirm.mutationOptions({
      onSuccess: async (p) => {
        await refresh();
        toast.success(`Provider ${p.name} confirmed`, { description: "The gateway forwards to it from now on." });
      },
      onError: (err) => toast.error("Could not confirm the provider", { description: errorMessage(err) }),
    }),
  );
  const remove = useMutation(
    trpc.provider.delete.mutationOptions({
      onSuccess: async (r) => {
        await refresh();
        toast.success(`Provider ${r.name} deleted`);
      },
      onError: (err) => toast.error("Could not delete the provider", { description: errorMessage(err) }),
    }),
  );

  if (providers.isPending) {
    return (
      <div className="flex flex-col gap-2" aria-label="Loading providers">
        <Skeleton className="h-12 w-full" />
        <Skeleton className="h-12 w-full" />
      </div>
    );
  }
  if (providers.isError) {
    return <QueryErrorAlert title="Could not load the providers" error={providers.error} onRetry={() => void providers.refetch()} />;
  }

  const unconfirmed = providers.data.filter((p) => !p.confirmed).length;
  return (
    <div className="flex flex-col gap-3">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <p className="text-muted-foreground max-w-3xl text-sm">
          Templates name one of these; Armory&apos;s model gateway forwards agents&apos; requests only here. A provider holds the{" "}
          <em>name</em> of the project secret with its key, never the key. Hosts on loopback or link-local addresses are refused
          unless registered by that exact address (e.g. <span className="font-mono text-xs">http://127.0.0.1:11434</span>).
          {unconfirmed ? (
            <>
              {" "}
              <strong className="text-foreground">
                {unconfirmed} migrated provider{unconfirmed === 1 ? " needs" : "s need"} confirmation
              </strong>{" "}
              before the gateway forwards to {unconfirmed === 1 ? "it" : "them"}.
            </>
          ) : null}
        </p>
        <Button onClick={() => setEditing({ kind: "create" })}>
          <Plus aria-hidden="true" />
          Register provider
        </Button>
      </div>

      <div tabIndex={0} role="region" aria-label="Providers table" className="focus-visible:ring-ring/50 outline-none relative overflow-x-auto rounded-md border focus-visible:ring-[3px]">
        <table className="w-full text-sm" aria-label="Providers">
          <thead className="bg-muted/50 text-muted-foreground text-left text-xs">
            <tr>
              <th className="px-3 py-2 font-medium">Provider</th>
              <th className="px-3 py-2 font-medium">Base URL</th>
              <th className="px-3 py-2 font-medium">Key secret</th>
              <th className="px-3 py-2 font-medium">Models</th>
              <th className="px-3 py-2 font-medium">Used by</th>
              <th className="px-3 py-2 text-right font-medium">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y">
            {providers.data.map((p) => (
              <tr key={p.id} data-testid="provider-row" data-name={p.name} className={p.confirmed ? undefined : "bg-amber-500/5"}>
                <td className="px-3 py-2 align-top">
                  <div className="flex flex-wrap items-center gap-1.5">
                    <span className="font-mono text-xs font-medium">{p.name}</span>
                    {p.builtIn ? <Badge variant="secondary">Built-in</Badge> : null}
                    {p.builtIn && p.demo ? <Badge variant="outline">Demo model</Badge> : null}
                    {p.confirmed ? null : (
                      <Badge variant="outline" className="border-amber-500/50 text-amber-700 dark:text-amber-400">
                        Needs confirmation
                      </Badge>
                    )}
                  </div>
                  <div className="text-muted-foreground text-xs">
                    {p.builtIn ? (
                      "ANTHROPIC_BASE_URL: set by the operator"
                    ) : p.createdAt ? (
                      <span title={fullTime(p.createdAt)}>Registered {timeAgo(p.createdAt)}</span>
                    ) : null}
                  </div>
                </td>
                <td className="px-3 py-2 align-top font-mono text-xs break-all">{p.baseUrl}</td>
                <td className="px-3 py-2 align-top font-mono text-xs">
                  {p.builtIn ? (
                    <span className="text-muted-foreground font-sans">{p.demo ? "none (no ANTHROPIC_API_KEY)" : "ANTHROPIC_API_KEY"}</span>
                  ) : (
                    p.keySecret ?? <span className="text-muted-foreground font-sans">no key sent</span>
                  )}
                </td>
                <td className="px-3 py-2 align-top text-xs">
                  {p.allowedModels.length ? (
                    <ul className="flex flex-col gap-0.5 font-mono">
                      {p.allowedModels.map((m) => (
                        <li key={m}>{m}</li>
                      ))}
                    </ul>
                  ) : (
                    <span className="text-muted-foreground">any</span>
                  )}
                </td>
                <td className="px-3 py-2 align-top text-xs" data-testid="provider-usage">
                  <Usage provider={p} />
                </td>
                <td className="px-3 py-2 align-top">
                  {p.builtIn ? null : (
                    <div className="flex flex-wrap justify-end gap-1.5">
                      {p.confirmed ? null : (
                        <Button size="sm" onClick={() => setConfirming({ kind: "confirm", provider: p })} disabled={confirm.isPending}>
                          <CheckCircle2 aria-hidden="true" />
                          Confirm
                        </Button>
                      )}
                      <Button variant="outline" size="sm" onClick={() => setEditing({ kind: "edit", provider: p })}>
                        <Pencil aria-hidden="true" />
                        Edit
                      </Button>
                      <Button
                        variant="ghost"
                        size="sm"
                        aria-label={`Delete ${p.name}`}
                        title={p.templateCount ? "Templates use it: point them at another provider first" : undefined}
                        disabled={p.templateCount > 0 || remove.isPending}
                        onClick={() => setConfirming({ kind: "delete", provider: p })}
                      >
                        <Trash2 aria-hidden="true" />
                        Delete
                      </Button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {editing ? (
        <ProviderFormDialog
          key={editing.kind === "edit" ? editing.provider.id : "create"}
          editing={editing}
          onClose={() => setEditing(null)}
          onSaved={() => void refresh()}
        />
      ) : null}

      <AlertDialog open={!!confirming} onOpenChange={(o) => (o ? undefined : setConfirming(null))}>
        <AlertDialogContent>
          <AlertDialogHeader>
            <AlertDialogTitle>
              {confirming?.kind === "confirm" ? `Confirm provider ${confirming.provider.name}?` : `Delete provider ${confirming?.provider.name}?`}
            </AlertDialogTitle>
            <AlertDialogDescription>
              {confirming?.kind === "confirm" ? (
                <>
                  It was migrated from a template&apos;s free-form base URL. Once confirmed, the gateway forwards the requests of agents
                  whose templates use it to <span className="font-mono break-all">{confirming.provider.baseUrl}</span>
                  {confirming.provider.keySecret ? (
                    <>
                      {" "}
                      with the key in their project&apos;s secret <span className="font-mono">{confirming.provider.keySecret}</span>
                    </>
                  ) : null}
                  . Check that this is a model server you trust; edit it first if not.
                </>
              ) : (
                "No template uses it. Templates can no longer pick it."
              )}
            </AlertDialogDescription>
          </AlertDialogHeader>
          <AlertDialogFooter>
            <AlertDialogCancel>Cancel</AlertDialogCancel>
            <AlertDialogAction
              onClick={() => {
                if (!confirming) return;
                const providerId = confirming.provider.id;
                if (confirming.kind === "confirm") confirm.mutate({ providerId });
                else remove.mutate({ providerId });
                setConfirming(null);
              }}
            >
              {confirming?.kind === "confirm" ? "Confirm provider" : "Delete provider"}
            </AlertDialogAction>
          </AlertDialogFooter>
        </AlertDialogContent>
      </AlertDialog>
    </div>
  );
}

function Usage({ provider: p }: { provider: Provider }) {
  if (p.builtIn) {
    return (
      <span className="text-muted-foreground">
        {p.templateCount} template{p.templateCount === 1 ? "" : "s"} without a provider
      </span>
    );
  }
  if (!p.templates?.length) return <span className="text-muted-foreground">no template</span>;
  return (
    <ul className="flex flex-col gap-0.5">
      {p.templates.map((t) => (
        <li key={t.id}>
          <span className="font-mono">{t.name}</span>{" "}
          <span className="text-muted-foreground">({t.projectName ? `project ${t.projectName}` : "built-in"})</span>
        </li>
      ))}
    </ul>
  );
}

function ProviderFormDialog({
  editing,
  onClose,
  onSaved,
}: {
  editing: Exclude<Editing, null>;
  onClose: () => void;
  onSaved: () => void;
}) {
  const trpc = useTRPC();
  const { formRef, serverError, validate, fail, field } = useCheckedForm({
    initial: () => (editing.kind === "edit" ? providerToForm(editing.provider) : emptyProviderForm()),
    check: checkProviderForm,
    fieldErrorsOf: apiProviderFieldErrors,
    clearServerErrorOnChange: true,
    keepOtherErrors: true,
  });
  const create = useMutation(trpc.provider.create.mutationOptions());
  const update = useMutation(trpc.provider.update.mutationOptions());
  const pending = create.isPending || update.isPending;
  const done = (message: string) => (p: Provider) => {
    toast.success(message, { description: p.name });
    onSaved();
    onClose();
  };

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (pending) return;
    const result = validate();
    if (!result) return;
    if (editing.kind === "edit") {
      const patch = changedProviderFields(editing.provider, result.payload);
      if (!Object.keys(patch).length) return onClose();
      update.mutate({ providerId: editing.provider.id, ...patch }, { onSuccess: done("Provider saved"), onError: fail });
    } else {
      create.mutate(result.payload, { onSuccess: done("Provider registered"), onError: fail });
    }
  }

  const id = `provider-${editing.kind}`;
  return (
    <Dialog open onOpenChange={(open) => (!open && !pending ? onClose() : undefined)}>
      <DialogContent className="sm:max-w-lg">
        <DialogHeader>
          <DialogTitle>{editing.kind === "edit" ? `Edit provider ${editing.provider.name}` : "Register a provider"}</DialogTitle>
          <DialogDescription>
            A server that speaks the Anthropic Messages API. Templates name it; the gateway forwards their agents&apos; requests to it.
          </DialogDescription>
        </DialogHeader>
        <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="Provider" className="flex flex-col gap-4">
          <FormError message={serverError} />
          <TextField
            id={`${id}-name`}
            label="Name"
            autoComplete="off"
            spellCheck={false}
            autoFocus
            placeholder="e.g. openrouter"
            className="[&_input]:font-mono"
            description="What templates write as provider: lower-case letters, digits and hyphens."
            {...field("name")}
            disabled={pending}
          />
          <TextField
            id={`${id}-base-url`}
            label="Base URL"
            type="url"
            autoComplete="off"
            spellCheck={false}
            placeholder="https://llm.example.com"
            className="[&_input]:font-mono"
            description="The gateway appends /v1/messages. No credentials in the URL."
            {...field("baseUrl")}
            disabled={pending}
          />
          <TextField
            id={`${id}-key-secret`}
            label={
              <>
                Key secret <span className="text-muted-foreground font-normal">(optional)</span>
              </>
            }
            autoComplete="off"
            spellCheck={false}
            placeholder="e.g. OPENROUTER_KEY"
            className="[&_input]:font-mono"
            description="The name of the project (or agent) secret holding the key, never the key itself."
            {...field("keySecret")}
            disabled={pending}
          />
          <TextareaField
            id={`${id}-models`}
            label={
              <>
                Allowed models <span className="text-muted-foreground font-normal">(optional)</span>
              </>
            }
            rows={3}
            spellCheck={false}
            placeholder={"claude-sonnet-4-5\nclaude-haiku-4-5"}
            className="[&_textarea]:font-mono"
            description="One per line. Empty: any model."
            {...field("allowedModels")}
            disabled={pending}
          />
          <DialogFooter>
            <Button type="button" variant="outline" onClick={onClose} disabled={pending}>
              Cancel
            </Button>
            <SubmitButton pending={pending} pendingLabel="Saving…">
              {editing.kind === "edit" ? "Save changes" : "Register provider"}
            </SubmitButton>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
