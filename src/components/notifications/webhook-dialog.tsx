"use client";
// Create or edit a project webhook: name, where it goes (a URL, or a project secret holding the
// URL for Slack/Discord, whose URLs are credentials), format, the events it gets and, for Armory's
// signed JSON, the project secret holding the signing key.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Loader2 } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { CheckboxField, SelectField } from "@/components/agents/form-controls";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { PROJECT_EVENT_TYPES, type ProjectEventType } from "@/contracts/project-events";
import type { WebhookOutput } from "@/server/api/routers/notification/schemas";

export const EVENT_LABELS: Record<ProjectEventType, string> = {
  "approval.needed": "Approval needed",
  "turn.finished": "Turn finished",
  "turn.failed": "Turn failed",
  "agent.crashed": "Agent crashed or out of memory",
  "budget.reached": "Budget reached",
};

export const FORMAT_LABELS = { slack: "Slack", discord: "Discord", armory: "Armory JSON (signed)" } as const;
type Format = keyof typeof FORMAT_LABELS;

interface FormState {
  name: string;
  source: "url" | "secret";
  url: string;
  urlSecret: string;
  format: Format;
  events: ProjectEventType[];
  secretName: string;
}

function initial(w: WebhookOutput | null): FormState {
  return {
    name: w?.name ?? "",
    source: w?.urlSecret ? "secret" : "url",
    url: w?.url ?? "",
    urlSecret: w?.urlSecret ?? "",
    format: w?.format ?? "slack",
    events: w?.events ?? ["approval.needed", "turn.failed", "agent.crashed", "budget.reached"],
    secretName: w?.secretName ?? "",
  };
}

/** Why the form cannot be sent (the server checks the same and more: the address, the secrets). */
function problems(f: FormState): Partial<Record<"name" | "url" | "urlSecret" | "events" | "secretName", string>> {
  const out: ReturnType<typeof problems> = {};
  if (!f.name.trim()) out.name = "A webhook needs a name";
  if (f.source === "url") {
    if (!/^https?:\/\/\S+$/i.test(f.url.trim())) out.url = "Enter an http or https URL";
  } else if (!f.urlSecret) out.urlSecret = "Choose the secret that holds the URL";
  if (!f.events.length) out.events = "Choose at least one event";
  if (f.format === "armory" && !f.secretName) out.secretName = "Armory JSON is signed: choose the secret holding the signing key";
  return out;
}

export function WebhookDialog({
  projectId,
  webhook,
  open,
  onOpenChange,
}: {
  projectId: string;
  /** null: a new webhook. */
  webhook: WebhookOutput | null;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const secrets = useQuery({ ...trpc.secret.list.queryOptions({ projectId }), enabled: open });
  const [form, setForm] = useState<FormState>(() => initial(webhook));
  const [touched, setTouched] = useState(false);
  const set = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));
  const found = problems(form);
  const invalid = Object.keys(found).length > 0;
  const listKey = trpc.notification.list.queryKey({ projectId });

  const done = async (verb: string) => {
    await queryClient.invalidateQueries({ queryKey: listKey });
    toast.success(`Webhook ${form.name.trim()} ${verb}`);
    onOpenChange(false);
  };
  const create = useMutation(trpc.notification.create.mutationOptions({ onSuccess: () => done("created") }));
  const update = useMutation(trpc.notification.update.mutationOptions({ onSuccess: () => done("saved") }));
  const pending = create.isPending || update.isPending;
  const serverError = create.error ?? update.error;

  function submit(e: React.FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (invalid || pending) return;
    const body = {
      projectId,
      name: form.name.trim(),
      url: form.source === "url" ? form.url.trim() : null,
      urlSecret: form.source === "secret" ? form.urlSecret : null,
      format: form.format,
      events: form.events,
      secretName: form.format === "armory" ? form.secretName : form.secretName || null,
    };
    if (webhook) update.mutate({ ...body, webhookId: webhook.id });
    else create.mutate(body);
  }

  const names = secrets.data?.map((s) => s.name) ?? [];
  const err = (k: keyof typeof found) => (touched ? (found[k] ?? null) : null);

  return (
    <Dialog open={open} onOpenChange={(next) => !pending && onOpenChange(next)}>
      <DialogContent className="sm:max-w-lg">
        <DialogHeader>
          <DialogTitle>{webhook ? `Edit ${webhook.name}` : "New webhook"}</DialogTitle>
          <DialogDescription>Armory POSTs the events you choose to this address, retrying failures with back-off.</DialogDescription>
        </DialogHeader>
        <form id="webhook-form" onSubmit={submit} noValidate className="flex flex-col gap-4" aria-label={webhook ? "Edit webhook" : "New webhook"}>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor="webhook-name">Name</Label>
            <Input id="webhook-name" value={form.name} onChange={(e) => set({ name: e.target.value })} aria-invalid={!!err("name")} autoComplete="off" />
            {err("name") ? <p className="text-destructive text-xs">{err("name")}</p> : null}
          </div>
          <SelectField id="webhook-format" label="Format" value={form.format} onChange={(e) => set({ format: e.target.value as Format, source: e.target.value === "armory" ? "url" : form.source })}>
            {Object.entries(FORMAT_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </SelectField>
          {form.format !== "armory" ? (
            <SelectField
              id="webhook-source"
              label="URL from"
              value={form.source}
              onChange={(e) => set({ source: e.target.value as FormState["source"] })}
              description="Slack and Discord webhook URLs are credentials: keep one in a project secret to never show it here."
            >
              <option value="url">Typed here</option>
              <option value="secret">A project secret</option>
            </SelectField>
          ) : null}
          {form.source === "url" ? (
            <div className="flex flex-col gap-1.5">
              <Label htmlFor="webhook-url">URL</Label>
              <Input
                id="webhook-url"
                value={form.url}
                onChange={(e) => set({ url: e.target.value })}
                placeholder="https://hooks.example.com/armory"
                className="font-mono"
                autoComplete="off"
                spellCheck={false}
                aria-invalid={!!err("url")}
              />
              {err("url") ? <p className="text-destructive text-xs">{err("url")}</p> : null}
            </div>
          ) : (
            <SelectField id="webhook-url-secret" label="Secret holding the URL" value={form.urlSecret} onChange={(e) => set({ urlSecret: e.target.value })} error={err("urlSecret")}>
              <option value="">Choose a secret…</option>
              {names.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </SelectField>
          )}
          {form.format === "armory" ? (
            <SelectField
              id="webhook-signing-secret"
              label="Signing key (project secret)"
              value={form.secretName}
              onChange={(e) => set({ secretName: e.target.value })}
              error={err("secretName")}
              description="Each delivery carries X-Armory-Signature: sha256=HMAC-SHA256(key, timestamp + '.' + body)."
            >
              <option value="">Choose a secret…</option>
              {names.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </SelectField>
          ) : null}
          <fieldset className="flex flex-col gap-2">
            <legend className="mb-2 text-sm font-medium">Events</legend>
            {PROJECT_EVENT_TYPES.map((t) => (
              <CheckboxField
                key={t}
                id={`webhook-event-${t}`}
                label={EVENT_LABELS[t]}
                checked={form.events.includes(t)}
                onChange={(e) => set({ events: e.target.checked ? [...form.events, t] : form.events.filter((x) => x !== t) })}
              />
            ))}
            {err("events") ? <p className="text-destructive text-xs">{err("events")}</p> : null}
          </fieldset>
          {serverError ? (
            <p role="alert" className="text-destructive text-sm">
              {errorMessage(serverError)}
            </p>
          ) : null}
        </form>
        <DialogFooter>
          <Button variant="outline" onClick={() => onOpenChange(false)} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" form="webhook-form" disabled={pending}>
            {pending ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
            {webhook ? "Save" : "Create webhook"}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
