"use client";
import { PLACEMENT_SWARM_ONLY } from "@/contracts/placement";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Plus, X } from "lucide-react";
import { toast } from "sonner";
import { ToolPolicyFields } from "@/components/approvals/tool-policy-fields";
import { FormError } from "@/components/auth/form-error";
import { SubmitButton } from "@/components/forms/submit-button";
import { TextareaField, TextField } from "@/components/forms/text-field";
import { useCheckedForm } from "@/components/forms/use-checked-form";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "@/components/ui/dialog";
import { Field, FieldDescription, FieldError, FieldGroup, FieldLabel, FieldLegend, FieldSet } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";
import { formatCpus, formatMemory, formatPids, PERMISSION_MODE_INFO, PERMISSION_MODE_OPTIONS, type PermissionMode, type Template } from "./format";
import {
  apiTemplateFieldErrors,
  changedFields,
  checkTemplateForm,
  copyName,
  emptyTemplateForm,
  envRow,
  templateToForm,
  type TemplateFormValues,
} from "./template-form";

export type TemplateFormMode =
  | { kind: "create" }
  | { kind: "copy"; source: Template }
  | { kind: "edit"; template: Template };

function initialValues(mode: TemplateFormMode, takenNames: ReadonlySet<string>): TemplateFormValues {
  if (mode.kind === "create") return emptyTemplateForm();
  if (mode.kind === "copy") return templateToForm(mode.source, copyName(mode.source.name, takenNames));
  return templateToForm(mode.template);
}

const TITLES: Record<TemplateFormMode["kind"], { title: string; description: string; submit: string; pending: string }> = {
  create: {
    title: "New template",
    description: "A recipe for agents in this project: image, model, limits, permissions and instructions.",
    submit: "Create template",
    pending: "Creating…",
  },
  copy: {
    title: "Copy to project",
    description: "Makes an editable copy in this project. Change anything now or later; the original stays as it is.",
    submit: "Copy template",
    pending: "Copying…",
  },
  edit: {
    title: "Edit template",
    description: "Changes apply to agents created from now on; existing agents keep their settings.",
    submit: "Save changes",
    pending: "Saving…",
  },
};

const LIMIT_FIELDS = [
  { key: "memoryMb", id: "memory", label: "Memory (MB)", inputMode: "numeric", step: 128 },
  { key: "cpus", id: "cpus", label: "CPUs", inputMode: "decimal", step: 0.5 },
  { key: "pidsLimit", id: "pids", label: "Process limit", inputMode: "numeric", step: 32 },
] as const;

/** Create, copy or edit a project template. Mount it fresh for each use (its state starts from `mode`). */
export function TemplateFormDialog({
  projectId,
  mode,
  takenNames,
  open,
  onOpenChange,
  onSaved,
}: {
  projectId: string;
  mode: TemplateFormMode;
  /** Names of the project's own templates (to suggest a free name for a copy). */
  takenNames: ReadonlySet<string>;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onSaved?: (template: Template) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { formRef, values, errors, serverError, change, validate, fail, field } = useCheckedForm({
    initial: () => initialValues(mode, takenNames),
    check: checkTemplateForm,
    fieldErrorsOf: apiTemplateFieldErrors,
    clearServerErrorOnChange: true,
    // Keep the server's remarks on other fields until they are submitted again.
    keepOtherErrors: true,
  });
  const text = TITLES[mode.kind];
  const idPrefix = `template-${mode.kind}`;

  async function saved(template: Template, message: string) {
    queryClient.setQueryData(trpc.template.get.queryKey({ projectId, templateId: template.id }), template);
    await queryClient.invalidateQueries({ queryKey: trpc.template.list.queryKey({ projectId }) });
    toast.success(message, { description: template.displayName });
    onOpenChange(false);
    onSaved?.(template);
  }

  const create = useMutation(trpc.template.create.mutationOptions());
  const update = useMutation(trpc.template.update.mutationOptions());
  const pending = create.isPending || update.isPending;

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (pending) return;
    const result = validate();
    if (!result) return;
    const { name, payload } = result;
    if (mode.kind === "edit") {
      const patch = changedFields(mode.template, name, payload);
      if (!Object.keys(patch).length) {
        toast.info("Nothing changed");
        onOpenChange(false);
        return;
      }
      update.mutate(
        { projectId, templateId: mode.template.id, ...patch },
        { onSuccess: (t) => void saved(t, "Template saved"), onError: fail },
      );
    } else {
      create.mutate(
        { projectId, name, ...payload, ...(mode.kind === "copy" ? { copyFrom: mode.source.id } : {}) },
        { onSuccess: (t) => void saved(t, mode.kind === "copy" ? "Template copied to the project" : "Template created"), onError: fail },
      );
    }
  }

  const numberHint = (field: "memoryMb" | "cpus" | "pidsLimit") => {
    const n = Number(values[field]);
    if (!values[field].trim() || !Number.isFinite(n) || n <= 0) return null;
    return field === "memoryMb" ? formatMemory(n) : field === "cpus" ? formatCpus(n) : formatPids(n);
  };

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (!next && pending) return;
        onOpenChange(next);
      }}
    >
      <DialogContent className="flex max-h-[90vh] flex-col gap-0 p-0 sm:max-w-2xl">
        <DialogHeader className="border-b p-6 pr-12">
          <DialogTitle>{text.title}</DialogTitle>
          <DialogDescription>
            {mode.kind === "copy" ? (
              <>
                From <span className="text-foreground font-medium">{mode.source.displayName}</span>. {text.description}
              </>
            ) : (
              text.description
            )}
          </DialogDescription>
        </DialogHeader>
        <form
          ref={formRef}
          onSubmit={onSubmit}
          noValidate
          aria-label={text.title}
          className="flex min-h-0 flex-1 flex-col"
        >
          <div className="flex flex-col gap-6 overflow-y-auto p-6">
            <FormError message={serverError} />

            <FieldGroup>
              <div className="grid gap-5 sm:grid-cols-2">
                <TextField
                  id={`${idPrefix}-name`}
                  label="Name"
                  autoComplete="off"
                  spellCheck={false}
                  autoFocus
                  placeholder="e.g. api-reviewer"
                  className="[&_input]:font-mono"
                  description="Lower-case letters, digits and hyphens."
                  {...field("name")}
                  disabled={pending}
                />
                <TextField
                  id={`${idPrefix}-display-name`}
                  label={
                    <>
                      Display name <Optional />
                    </>
                  }
                  autoComplete="off"
                  placeholder={values.name.trim() || "e.g. API reviewer"}
                  {...field("displayName")}
                  disabled={pending}
                />
              </div>
              <TextareaField
                id={`${idPrefix}-description`}
                label={
                  <>
                    Description <Optional />
                  </>
                }
                rows={2}
                placeholder="What agents from this template are for"
                className="[&_textarea]:max-h-40"
                {...field("description")}
                disabled={pending}
              />
            </FieldGroup>

            <FieldSet className="gap-4">
              <FieldLegend>Model and image</FieldLegend>
              <div className="grid gap-5 sm:grid-cols-2">
                <TextField
                  id={`${idPrefix}-model`}
                  label="Model"
                  autoComplete="off"
                  spellCheck={false}
                  className="[&_input]:font-mono"
                  {...field("model")}
                  disabled={pending}
                />
                <TextField
                  id={`${idPrefix}-image`}
                  label="Image"
                  autoComplete="off"
                  spellCheck={false}
                  className="[&_input]:font-mono"
                  description={<>default is Armory&apos;s agent image, current version.</>}
                  {...field("image")}
                  disabled={pending}
                />
                <ProviderField
                  id={`${idPrefix}-provider`}
                  value={values.provider}
                  onChange={(provider) => change({ provider })}
                  error={errors.provider}
                  disabled={pending}
                />
              </div>
            </FieldSet>

            <FieldSet className="gap-4">
              <FieldLegend>Resources</FieldLegend>
              <div className="grid gap-5 sm:grid-cols-3">
                {LIMIT_FIELDS.map(({ key, id, label, inputMode, step }) => (
                  <TextField
                    key={key}
                    id={`${idPrefix}-${id}`}
                    label={label}
                    type="number"
                    inputMode={inputMode}
                    min={0}
                    step={step}
                    {...field(key)}
                    description={numberHint(key)}
                    disabled={pending}
                  />
                ))}
              </div>
            </FieldSet>

            <FieldSet className="gap-4">
              <FieldLegend>Permissions</FieldLegend>
              <PermissionModeField
                id={`${idPrefix}-permission-mode`}
                value={values.permissionMode}
                onChange={(mode) => change({ permissionMode: mode })}
                error={errors.permissionMode}
                disabled={pending}
              />
              <TextareaField
                id={`${idPrefix}-allowed-tools`}
                label={
                  <>
                    Allowed tools <Optional />
                  </>
                }
                rows={4}
                spellCheck={false}
                placeholder={"Read\nGrep\nBash(git diff:*)"}
                className="[&_textarea]:max-h-56 [&_textarea]:font-mono"
                description="One per line; a rule in parentheses narrows a tool, e.g. Bash(npm test:*)."
                {...field("allowedTools")}
                disabled={pending}
              />
            </FieldSet>

            <FieldSet className="gap-4">
              <FieldLegend>Tool policy and approvals</FieldLegend>
              <FieldDescription className="-mt-2">
                Which tool calls run, which wait for a person&apos;s approval (in the chat, the project&apos;s Approvals page
                and a browser notification), and which never run. Agents may override it.
              </FieldDescription>
              <ToolPolicyFields
                idPrefix={idPrefix}
                value={{ allow: values.policyAllow, ask: values.policyAsk, deny: values.policyDeny }}
                errors={{ allow: errors.policyAllow, ask: errors.policyAsk, deny: errors.policyDeny }}
                onChange={(p) =>
                  change({
                    ...(p.allow !== undefined ? { policyAllow: p.allow } : {}),
                    ...(p.ask !== undefined ? { policyAsk: p.ask } : {}),
                    ...(p.deny !== undefined ? { policyDeny: p.deny } : {}),
                  })
                }
                disabled={pending}
              />
            </FieldSet>

            <FieldSet className="gap-4">
              <FieldLegend>Network</FieldLegend>
              <TextareaField
                id={`${idPrefix}-egress`}
                label={
                  <>
                    Egress allowlist <Optional />
                  </>
                }
                rows={3}
                spellCheck={false}
                placeholder={"api.github.com\n*.npmjs.org"}
                className="[&_textarea]:max-h-48 [&_textarea]:font-mono"
                description="Host names agents may reach besides Armory's model gateway, one per line; *.example.com allows its subdomains. Empty: none."
                {...field("egressAllowlist")}
                disabled={pending}
              />
              <TextareaField
                id={`${idPrefix}-placement`}
                label={
                  <>
                    Placement constraints <Optional />
                  </>
                }
                rows={2}
                spellCheck={false}
                placeholder={"node.labels.disk==ssd\nnode.role!=manager"}
                className="[&_textarea]:max-h-48 [&_textarea]:font-mono"
                description={`Swarm nodes new agents may be placed on, one attribute==value or attribute!=value per line. ${PLACEMENT_SWARM_ONLY}`}
                {...field("placement")}
                disabled={pending}
              />
            </FieldSet>

            <EnvEditor
              idPrefix={idPrefix}
              rows={values.env}
              onChange={(rows) => change({ env: rows })}
              error={errors.env}
              disabled={pending}
            />

            <FieldSet className="gap-4">
              <FieldLegend>Instructions and personality</FieldLegend>
              <TextareaField
                id={`${idPrefix}-instructions`}
                label="Instructions (CLAUDE.md)"
                rows={8}
                placeholder={"# Working here\n\n- Run the tests after every change."}
                className="[&_textarea]:max-h-96 [&_textarea]:font-mono [&_textarea]:text-xs"
                description="Written to the agent's CLAUDE.md: how to work in its repository."
                {...field("instructions")}
                disabled={pending}
              />
              <TextareaField
                id={`${idPrefix}-personality`}
                label="Personality (system prompt)"
                rows={5}
                placeholder="You are a careful senior engineer…"
                className="[&_textarea]:max-h-72 [&_textarea]:font-mono [&_textarea]:text-xs"
                {...field("personality")}
                disabled={pending}
              />
            </FieldSet>
          </div>

          <DialogFooter className="border-t p-4">
            <Button type="button" variant="outline" onClick={() => onOpenChange(false)} disabled={pending}>
              Cancel
            </Button>
            <SubmitButton pending={pending} pendingLabel={text.pending}>
              {text.submit}
            </SubmitButton>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

function Optional() {
  return <span className="text-muted-foreground font-normal">(optional)</span>;
}

const selectClass = cn(
  "border-input dark:bg-input/30 h-9 w-full min-w-0 rounded-md border bg-transparent px-3 py-1 text-base shadow-xs transition-[color,box-shadow] outline-none disabled:cursor-not-allowed disabled:opacity-50 md:text-sm",
  "focus-visible:border-ring focus-visible:ring-ring/50 focus-visible:ring-[3px]",
  "aria-invalid:ring-destructive/20 dark:aria-invalid:ring-destructive/40 aria-invalid:border-destructive",
);

function PermissionModeField({
  id,
  value,
  onChange,
  error,
  disabled,
}: {
  id: string;
  value: PermissionMode;
  onChange: (mode: PermissionMode) => void;
  error?: string;
  disabled?: boolean;
}) {
  return (
    <Field data-invalid={error ? true : undefined} className="gap-2">
      <FieldLabel htmlFor={id}>Permission mode</FieldLabel>
      <select
        id={id}
        name="permissionMode"
        className={selectClass}
        value={value}
        onChange={(e) => onChange(e.target.value as PermissionMode)}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-description${error ? ` ${id}-error` : ""}`}
        disabled={disabled}
      >
        {PERMISSION_MODE_OPTIONS.map((mode) => (
          <option key={mode} value={mode}>
            {PERMISSION_MODE_INFO[mode].label}
          </option>
        ))}
      </select>
      <FieldDescription id={`${id}-description`}>{PERMISSION_MODE_INFO[value]?.description}</FieldDescription>
      {error ? <FieldError id={`${id}-error`}>{error}</FieldError> : null}
    </Field>
  );
}

/**
 * The registered provider agents of this template talk to (through Armory's gateway), from
 * provider.list: Armory's own upstream or one an instance admin registered.
 */
function ProviderField({
  id,
  value,
  onChange,
  error,
  disabled,
}: {
  id: string;
  value: string;
  onChange: (provider: string) => void;
  error?: string;
  disabled?: boolean;
}) {
  const trpc = useTRPC();
  const providers = useQuery(trpc.provider.list.queryOptions());
  const registered = (providers.data ?? []).filter((p) => !p.builtIn);
  const builtIn = providers.data?.find((p) => p.builtIn);
  const chosen = registered.find((p) => p.name === value);
  // A template may name a provider that is no longer listed (renamed): keep it selectable.
  const unknown = value && providers.data && !chosen ? value : null;
  let description: React.ReactNode = "Providers are registered by an instance admin (Admin → Providers).";
  if (chosen && !chosen.confirmed) {
    description = "Needs confirmation by an instance admin: model requests are refused until then.";
  } else if (chosen?.allowedModels.length) {
    description = `Allowed models: ${chosen.allowedModels.join(", ")}`;
  } else if (!value && builtIn) {
    description = builtIn.demo ? "Armory has no model key: the built-in demo model answers." : `Armory's own upstream: ${builtIn.baseUrl}`;
  }
  return (
    <Field data-invalid={error ? true : undefined} className="gap-2">
      <FieldLabel htmlFor={id}>Provider</FieldLabel>
      <select
        id={id}
        name="provider"
        className={selectClass}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-description${error ? ` ${id}-error` : ""}`}
        disabled={disabled || providers.isPending}
      >
        <option value="">Armory&apos;s upstream (default)</option>
        {registered.map((p) => (
          <option key={p.id} value={p.name}>
            {p.name}
            {p.confirmed ? "" : " (needs confirmation)"}
          </option>
        ))}
        {unknown ? <option value={unknown}>{unknown} (not registered)</option> : null}
      </select>
      <FieldDescription id={`${id}-description`}>
        {providers.isError ? "Could not load the providers." : description}
      </FieldDescription>
      {error ? <FieldError id={`${id}-error`}>{error}</FieldError> : null}
    </Field>
  );
}

/** Environment variables as name / value rows. */
function EnvEditor({
  idPrefix,
  rows,
  onChange,
  error,
  disabled,
}: {
  idPrefix: string;
  rows: TemplateFormValues["env"];
  onChange: (rows: TemplateFormValues["env"]) => void;
  error?: string;
  disabled?: boolean;
}) {
  const errorId = `${idPrefix}-env-error`;
  const set = (id: string, patch: Partial<{ key: string; value: string }>) =>
    onChange(rows.map((r) => (r.id === id ? { ...r, ...patch } : r)));

  return (
    <FieldSet className="gap-3" data-invalid={error ? true : undefined}>
      <FieldLegend>Environment</FieldLegend>
      <FieldDescription className="-mt-2">
        Plain values only. Put credentials in the project&apos;s secrets, not here.
      </FieldDescription>
      {rows.length ? (
        <ul className="flex flex-col gap-2">
          {rows.map((row, i) => (
            <li key={row.id} className="flex items-center gap-2">
              <Input
                aria-label={`Variable ${i + 1} name`}
                placeholder="NAME"
                autoComplete="off"
                spellCheck={false}
                className="w-2/5 font-mono"
                value={row.key}
                onChange={(e) => set(row.id, { key: e.target.value })}
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? errorId : undefined}
                disabled={disabled}
              />
              <Input
                aria-label={`Variable ${i + 1} value`}
                placeholder="value"
                autoComplete="off"
                spellCheck={false}
                className="flex-1 font-mono"
                value={row.value}
                onChange={(e) => set(row.id, { value: e.target.value })}
                disabled={disabled}
              />
              <Button
                type="button"
                variant="ghost"
                size="icon-sm"
                aria-label={`Remove variable ${row.key || i + 1}`}
                onClick={() => onChange(rows.filter((r) => r.id !== row.id))}
                disabled={disabled}
              >
                <X aria-hidden="true" />
              </Button>
            </li>
          ))}
        </ul>
      ) : null}
      {error ? <FieldError id={errorId}>{error}</FieldError> : null}
      <Button
        type="button"
        variant="outline"
        size="sm"
        className="self-start"
        onClick={() => onChange([...rows, envRow()])}
        disabled={disabled}
      >
        <Plus aria-hidden="true" />
        Add variable
      </Button>
    </FieldSet>
  );
}
