"use client";
// Create or edit an inbound webhook: name, how requests are verified, the message template (with
// a preview rendered live against a sample payload, as the server renders it), which conversation
// deliveries go to, and the rate. A new hook's secret is shown once, by SecretOnce.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Check, Copy, Loader2 } from "lucide-react";
import { useMemo, useState } from "react";
import { toast } from "sonner";
import { SelectField } from "@/components/agents/form-controls";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import {
  HOOK_RATE_DEFAULT,
  HOOK_RATE_MAX,
  HOOK_TEMPLATE_MAX_CHARS,
  hookTemplateProblem,
  renderHookTemplate,
  SAMPLE_HOOK_PAYLOAD,
  type HookVerify,
  type HookView,
} from "@/contracts/hooks";
import { errorMessage, useTRPC } from "@/lib/trpc/client";

export const VERIFY_LABELS: Record<HookVerify, string> = {
  github: "GitHub signature (X-Hub-Signature-256)",
  hmac: "Armory HMAC (X-Armory-Signature + timestamp)",
  token: "Token header (X-Armory-Hook-Token)",
};

const DEFAULT_TEMPLATE = "PR {{ payload.pull_request.title }} by {{ payload.sender.login }} ({{ payload.repository.full_name }}): review it.\n{{ payload.pull_request.html_url }}";

interface FormState {
  name: string;
  verify: HookVerify;
  template: string;
  session: "new" | "named";
  sessionName: string;
  rate: string;
}

function initial(h: HookView | null): FormState {
  return {
    name: h?.name ?? "",
    verify: h?.verify ?? "github",
    template: h?.template ?? DEFAULT_TEMPLATE,
    session: h?.session ?? "new",
    sessionName: h?.sessionName ?? "",
    rate: String(h?.rateLimitPerMinute ?? HOOK_RATE_DEFAULT),
  };
}

function problems(f: FormState): Partial<Record<"name" | "template" | "sessionName" | "rate", string>> {
  const out: ReturnType<typeof problems> = {};
  if (!f.name.trim()) out.name = "A webhook needs a name";
  const t = hookTemplateProblem(f.template);
  if (t) out.template = t;
  if (f.session === "named" && !f.sessionName.trim()) out.sessionName = "Name the conversation";
  const rate = Number(f.rate);
  if (!Number.isInteger(rate) || rate < 1 || rate > HOOK_RATE_MAX) out.rate = `A whole number from 1 to ${HOOK_RATE_MAX}`;
  return out;
}

/** Shows a secret once, with a copy button. */
export function SecretOnce({ secret, label }: { secret: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="flex flex-col gap-2">
      <span className="text-sm font-medium">{label}</span>
      <code data-testid="hook-secret" className="bg-muted rounded-md p-3 font-mono text-xs break-all select-all">
        {secret}
      </code>
      <Button
        type="button"
        variant="outline"
        size="sm"
        className="self-start"
        onClick={() => void navigator.clipboard?.writeText(secret).then(() => setCopied(true), () => toast.error("Copy failed: select the text and copy it"))}
      >
        {copied ? <Check aria-hidden="true" /> : <Copy aria-hidden="true" />}
        {copied ? "Copied" : "Copy secret"}
      </Button>
    </div>
  );
}

export function HookDialog({
  projectId,
  agentId,
  hook,
  onClose,
  onSecret,
}: {
  projectId: string;
  agentId: string;
  /** null: a new webhook. */
  hook: HookView | null;
  onClose: () => void;
  /** A new hook's secret, to show once. */
  onSecret: (hook: HookView, secret: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [form, setForm] = useState<FormState>(() => initial(hook));
  const [touched, setTouched] = useState(false);
  const set = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));
  const found = problems(form);
  const invalid = Object.keys(found).length > 0;
  const err = (k: keyof typeof found) => (touched ? (found[k] ?? null) : null);
  const listKey = trpc.hook.list.queryKey({ projectId, agentId });

  const preview = useMemo(() => {
    if (hookTemplateProblem(form.template)) return null;
    try {
      return renderHookTemplate(form.template, { payload: SAMPLE_HOOK_PAYLOAD, headers: { "x-github-event": "pull_request" }, event: "pull_request" }).trim();
    } catch {
      return null;
    }
  }, [form.template]);

  const create = useMutation(
    trpc.hook.create.mutationOptions({
      onSuccess: async (made) => {
        await queryClient.invalidateQueries({ queryKey: listKey });
        onSecret(made.hook, made.secret);
        onClose();
      },
    }),
  );
  const update = useMutation(
    trpc.hook.update.mutationOptions({
      onSuccess: async (saved) => {
        await queryClient.invalidateQueries({ queryKey: listKey });
        toast.success(`Webhook ${saved.name} saved`);
        onClose();
      },
    }),
  );
  const pending = create.isPending || update.isPending;
  const serverError = create.error ?? update.error;

  function submit(e: React.FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (invalid || pending) return;
    const body = {
      projectId,
      agentId,
      name: form.name.trim(),
      verify: form.verify,
      template: form.template,
      session: form.session,
      sessionName: form.session === "named" ? form.sessionName.trim() : null,
      rateLimitPerMinute: Number(form.rate),
    };
    if (hook) update.mutate({ ...body, hookId: hook.id });
    else create.mutate(body);
  }

  return (
    <Dialog open onOpenChange={(next) => !next && !pending && onClose()}>
      <DialogContent className="max-h-[90vh] overflow-y-auto sm:max-w-2xl">
        <DialogHeader>
          <DialogTitle>{hook ? `Edit ${hook.name}` : "New inbound webhook"}</DialogTitle>
          <DialogDescription>A URL that turns each verified JSON payload into a message to this agent, rendered by the template.</DialogDescription>
        </DialogHeader>
        <form id="hook-form" onSubmit={submit} noValidate className="flex flex-col gap-4" aria-label={hook ? "Edit inbound webhook" : "New inbound webhook"}>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor="hook-name">Name</Label>
            <Input id="hook-name" value={form.name} maxLength={100} onChange={(e) => set({ name: e.target.value })} aria-invalid={!!err("name")} autoComplete="off" />
            {err("name") ? <p className="text-destructive text-xs">{err("name")}</p> : null}
          </div>
          <SelectField id="hook-verify" label="Verification" value={form.verify} onChange={(e) => set({ verify: e.target.value as HookVerify })}>
            {Object.entries(VERIFY_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </SelectField>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor="hook-template">Message template</Label>
            <Textarea
              id="hook-template"
              value={form.template}
              maxLength={HOOK_TEMPLATE_MAX_CHARS}
              onChange={(e) => set({ template: e.target.value })}
              className="min-h-24 font-mono text-xs"
              spellCheck={false}
              aria-invalid={!!err("template")}
              aria-describedby="hook-template-help"
            />
            <p id="hook-template-help" className="text-muted-foreground text-xs">
              Mustache, not HTML-escaped: <code>{"{{ payload.pull_request.title }}"}</code>, <code>{"{{ event }}"}</code>,{" "}
              <code>{'{{ headers.x-github-delivery }}'}</code>. Objects render as JSON.
            </p>
            {err("template") ? <p className="text-destructive text-xs">{err("template")}</p> : null}
          </div>
          <div className="flex flex-col gap-1.5">
            <span className="text-sm font-medium">
              Preview (a sample GitHub pull_request payload)
            </span>
            <pre data-testid="hook-preview" className="bg-muted max-h-40 overflow-auto rounded-md p-3 text-xs whitespace-pre-wrap">
              {preview === null ? "The template does not parse." : preview || "(empty: such a delivery is refused with 400)"}
            </pre>
          </div>
          <SelectField
            id="hook-session"
            label="Conversation"
            value={form.session}
            onChange={(e) => set({ session: e.target.value as FormState["session"] })}
            description={form.session === "named" ? "Every delivery continues one conversation (a new one if it was deleted)." : "Every delivery starts a new conversation."}
          >
            <option value="new">A new conversation per delivery</option>
            <option value="named">One named conversation</option>
          </SelectField>
          {form.session === "named" ? (
            <div className="flex flex-col gap-1.5">
              <Label htmlFor="hook-session-name">Conversation name</Label>
              <Input id="hook-session-name" value={form.sessionName} maxLength={200} onChange={(e) => set({ sessionName: e.target.value })} aria-invalid={!!err("sessionName")} />
              {err("sessionName") ? <p className="text-destructive text-xs">{err("sessionName")}</p> : null}
            </div>
          ) : null}
          <div className="flex flex-col gap-1.5">
            <Label htmlFor="hook-rate">Deliveries per minute (more are answered 429)</Label>
            <Input id="hook-rate" type="number" min={1} max={HOOK_RATE_MAX} value={form.rate} onChange={(e) => set({ rate: e.target.value })} aria-invalid={!!err("rate")} className="w-32" />
            {err("rate") ? <p className="text-destructive text-xs">{err("rate")}</p> : null}
          </div>
          {serverError ? (
            <p role="alert" className="text-destructive text-sm">
              {errorMessage(serverError)}
            </p>
          ) : null}
        </form>
        <DialogFooter>
          <Button variant="outline" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" form="hook-form" disabled={pending}>
            {pending ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
            {hook ? "Save" : "Create webhook"}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
