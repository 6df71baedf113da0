"use client";
import type { Template } from "@/components/agents/agent-format";
import {
  permissionModeLabel,
  PERMISSION_MODE_LABELS,
  PERMISSION_MODES,
  type RuntimeErrors,
  type RuntimeValues,
} from "@/components/agents/agent-form";
import { EnvEditor, SelectField } from "@/components/agents/form-controls";
import { fieldBinder, TextField } from "@/components/forms/text-field";
import { FieldGroup } from "@/components/ui/field";

const LIMIT_FIELDS = [
  { key: "memoryMb", id: "memory", label: "Memory (MB)", inputMode: "numeric" },
  { key: "cpus", id: "cpus", label: "CPUs", inputMode: "decimal" },
  { key: "pidsLimit", id: "pids", label: "Processes", inputMode: "numeric" },
] as const;

/**
 * Memory, CPUs, processes, model, permission mode and env: shared by the create dialog (where
 * empty means the template's value) and the agent's settings.
 */
export function RuntimeFields({
  idPrefix,
  values,
  errors,
  onChange,
  disabled,
  placeholders,
  withEnv = true,
}: {
  idPrefix: string;
  values: RuntimeValues;
  errors: RuntimeErrors;
  onChange: (patch: Partial<RuntimeValues>) => void;
  disabled?: boolean;
  /** The template's values, shown as placeholders (create) — absent in settings. */
  placeholders?: Pick<Template, "memoryMb" | "cpus" | "pidsLimit" | "model" | "permissionMode" | "env">;
  /** The env rows (the create dialog); the agent's Settings has its own environment editor. */
  withEnv?: boolean;
}) {
  const templateEnv = placeholders ? Object.keys(placeholders.env).sort() : [];
  const field = fieldBinder(values, errors, onChange);
  return (
    <FieldGroup>
      <div className="grid gap-4 sm:grid-cols-3">
        {LIMIT_FIELDS.map(({ key, id, label, inputMode }) => (
          <TextField
            key={key}
            id={`${idPrefix}-${id}`}
            label={label}
            inputMode={inputMode}
            autoComplete="off"
            placeholder={placeholders ? String(placeholders[key]) : undefined}
            {...field(key)}
            disabled={disabled}
          />
        ))}
      </div>
      <TextField
        id={`${idPrefix}-model`}
        label="Model"
        autoComplete="off"
        spellCheck={false}
        className="[&_input]:font-mono"
        placeholder={placeholders?.model}
        {...field("model")}
        disabled={disabled}
      />
      <SelectField
        id={`${idPrefix}-permission-mode`}
        label="Permission mode"
        {...field("permissionMode")}
        description={
          values.permissionMode
            ? PERMISSION_MODE_LABELS[values.permissionMode as keyof typeof PERMISSION_MODE_LABELS]?.hint
            : undefined
        }
        disabled={disabled}
      >
        {placeholders ? (
          <option value="">Template default ({permissionModeLabel(placeholders.permissionMode)})</option>
        ) : null}
        {PERMISSION_MODES.map((mode) => (
          <option key={mode} value={mode}>
            {PERMISSION_MODE_LABELS[mode].label}
          </option>
        ))}
      </SelectField>
      {withEnv ? (
      <EnvEditor
        id={`${idPrefix}-env`}
        rows={values.env}
        onChange={(env) => onChange({ env })}
        rowErrors={errors.envRows}
        error={errors.env}
        disabled={disabled}
        description={
          templateEnv.length
            ? `Added to the template's ${templateEnv.length} variable${templateEnv.length === 1 ? "" : "s"} (${templateEnv.join(", ")}); a name the template sets too takes your value.`
            : undefined
        }
      />
      ) : null}
    </FieldGroup>
  );
}
