"use client";
// Form controls the agent forms need beyond text fields: a labelled native select, a checkbox,
// and the environment-variable rows. Native elements keep keyboard and screen-reader behaviour
// for free; they are styled to match the shadcn inputs.
import { ChevronDown, Plus, X } from "lucide-react";
import * as React from "react";
import { envRow, type EnvRow } from "@/components/agents/agent-form";
import { describedBy } from "@/components/forms/text-field";
import { Button } from "@/components/ui/button";
import { Field, FieldDescription, FieldError, FieldLabel } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { cn } from "@/lib/utils";

export function SelectField({
  id,
  label,
  error,
  description,
  className,
  children,
  ...selectProps
}: {
  id: string;
  label: React.ReactNode;
  error?: string | null;
  description?: React.ReactNode;
  className?: string;
} & Omit<React.ComponentProps<"select">, "id" | "className">) {
  return (
    <Field data-invalid={error ? true : undefined} className={cn("gap-2", className)}>
      <FieldLabel htmlFor={id}>{label}</FieldLabel>
      <div className="relative">
        <select
          id={id}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(id, error, description)}
          className={cn(
            "border-input dark:bg-input/30 h-9 w-full min-w-0 appearance-none rounded-md border bg-transparent py-1 pr-9 pl-3 text-base shadow-xs transition-[color,box-shadow] outline-none disabled:cursor-not-allowed disabled:opacity-50 md:text-sm",
            "focus-visible:border-ring focus-visible:ring-ring/50 focus-visible:ring-[3px]",
            "aria-invalid:ring-destructive/20 dark:aria-invalid:ring-destructive/40 aria-invalid:border-destructive",
            "[&>option]:bg-background [&>option]:text-foreground",
          )}
          {...selectProps}
        >
          {children}
        </select>
        <ChevronDown
          aria-hidden="true"
          className="text-muted-foreground pointer-events-none absolute top-1/2 right-3 size-4 -translate-y-1/2"
        />
      </div>
      {description ? <FieldDescription id={`${id}-description`}>{description}</FieldDescription> : null}
      {error ? <FieldError id={`${id}-error`}>{error}</FieldError> : null}
    </Field>
  );
}

export function CheckboxField({
  id,
  label,
  description,
  className,
  ...inputProps
}: {
  id: string;
  label: React.ReactNode;
  description?: React.ReactNode;
  className?: string;
} & Omit<React.ComponentProps<"input">, "id" | "className" | "type">) {
  return (
    <div className={cn("flex items-start gap-3", className)}>
      <input
        id={id}
        type="checkbox"
        aria-describedby={description ? `${id}-description` : undefined}
        className="border-input accent-primary focus-visible:ring-ring/50 mt-0.5 size-4 shrink-0 rounded outline-none focus-visible:ring-[3px] disabled:cursor-not-allowed disabled:opacity-50"
        {...inputProps}
      />
      <div className="flex flex-col gap-1">
        <label htmlFor={id} className="text-sm leading-none font-medium">
          {label}
        </label>
        {description ? (
          <p id={`${id}-description`} className="text-muted-foreground text-sm">
            {description}
          </p>
        ) : null}
      </div>
    </div>
  );
}

/** Key/value rows for environment variables; rows with an error are marked and explained. */
export function EnvEditor({
  id,
  rows,
  onChange,
  rowErrors,
  error,
  disabled,
  label = "Environment variables",
  description,
}: {
  id: string;
  rows: EnvRow[];
  onChange: (rows: EnvRow[]) => void;
  rowErrors?: Record<number, string>;
  error?: string | null;
  disabled?: boolean;
  label?: React.ReactNode;
  description?: React.ReactNode;
}) {
  const listRef = React.useRef<HTMLUListElement>(null);
  const update = (rowId: number, patch: Partial<EnvRow>) =>
    onChange(rows.map((r) => (r.id === rowId ? { ...r, ...patch } : r)));

  function add() {
    onChange([...rows, envRow()]);
    // Focus the new row's name once it is rendered.
    requestAnimationFrame(() => listRef.current?.querySelector<HTMLInputElement>("li:last-child input")?.focus());
  }

  return (
    <fieldset className="flex flex-col gap-2" aria-describedby={description ? `${id}-description` : undefined}>
      <legend className="mb-2 text-sm leading-snug font-medium">{label}</legend>
      {description ? (
        <p id={`${id}-description`} className="text-muted-foreground -mt-1 text-sm">
          {description}
        </p>
      ) : null}
      {rows.length ? (
        <ul ref={listRef} className="flex flex-col gap-2">
          {rows.map((row, i) => {
            const rowError = rowErrors?.[row.id];
            const name = row.key.trim() || `variable ${i + 1}`;
            return (
              <li key={row.id} className="flex flex-col gap-1">
                <div className="flex items-center gap-2">
                  <Input
                    aria-label={`Name of variable ${i + 1}`}
                    placeholder="NAME"
                    autoComplete="off"
                    spellCheck={false}
                    className="w-2/5 font-mono text-xs md:text-xs"
                    value={row.key}
                    onChange={(e) => update(row.id, { key: e.target.value })}
                    aria-invalid={rowError ? true : undefined}
                    aria-describedby={rowError ? `${id}-row-${row.id}-error` : undefined}
                    disabled={disabled}
                  />
                  <Input
                    aria-label={`Value of ${name}`}
                    placeholder="value"
                    autoComplete="off"
                    spellCheck={false}
                    className="flex-1 font-mono text-xs md:text-xs"
                    value={row.value}
                    onChange={(e) => update(row.id, { value: e.target.value })}
                    disabled={disabled}
                  />
                  <Button
                    type="button"
                    variant="ghost"
                    size="icon-sm"
                    aria-label={`Remove ${name}`}
                    onClick={() => onChange(rows.filter((r) => r.id !== row.id))}
                    disabled={disabled}
                  >
                    <X aria-hidden="true" />
                  </Button>
                </div>
                {rowError ? (
                  <p id={`${id}-row-${row.id}-error`} role="alert" className="text-destructive text-sm">
                    {rowError}
                  </p>
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : null}
      {error && !rowErrors ? (
        <p role="alert" className="text-destructive text-sm">
          {error}
        </p>
      ) : null}
      <Button type="button" variant="outline" size="sm" className="self-start" onClick={add} disabled={disabled}>
        <Plus aria-hidden="true" />
        Add variable
      </Button>
    </fieldset>
  );
}
