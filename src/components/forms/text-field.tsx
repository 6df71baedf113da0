"use client";
// Labelled form fields with inline errors: the label is bound to the control, the error and the
// description are wired through aria-describedby, and an error marks the control aria-invalid.
import * as React from "react";
import { Field, FieldDescription, FieldError, FieldLabel } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Textarea } from "@/components/ui/textarea";
import { cn } from "@/lib/utils";

interface LabelledFieldProps {
  id: string;
  label: React.ReactNode;
  error?: string | null;
  description?: React.ReactNode;
  /** Shown right of the label, e.g. a character counter or a "Forgot?" link. */
  labelAside?: React.ReactNode;
  className?: string;
}

/** The ids of a field's description and error, for its control's aria-describedby. */
export function describedBy(id: string, error?: string | null, description?: React.ReactNode) {
  return [description ? `${id}-description` : null, error ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;
}

/** A control (Input, Textarea) with its label, description and error, wired to each other. */
function LabelledControl({
  control: Control,
  id,
  label,
  error,
  description,
  labelAside,
  className,
  ...controlProps
}: LabelledFieldProps & { control: typeof Input | typeof Textarea } & Record<string, unknown>) {
  return (
    <Field data-invalid={error ? true : undefined} className={cn("gap-2", className)}>
      <div className="flex items-center justify-between gap-2">
        <FieldLabel htmlFor={id}>{label}</FieldLabel>
        {labelAside}
      </div>
      <Control
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, description)}
        {...controlProps}
      />
      {description ? <FieldDescription id={`${id}-description`}>{description}</FieldDescription> : null}
      {error ? <FieldError id={`${id}-error`}>{error}</FieldError> : null}
    </Field>
  );
}

export type TextFieldProps = LabelledFieldProps & Omit<React.ComponentProps<typeof Input>, "id" | "className">;

export function TextField(props: TextFieldProps) {
  return <LabelledControl control={Input} {...props} />;
}

type TextareaFieldProps = LabelledFieldProps & Omit<React.ComponentProps<typeof Textarea>, "id" | "className">;

export function TextareaField(props: TextareaFieldProps) {
  return <LabelledControl control={Textarea} {...props} />;
}

/** "42 / 100", turning red past the limit. Hidden from screen readers (the error says it). */
export function CharacterCount({ length, max }: { length: number; max: number }) {
  return (
    <span
      aria-hidden="true"
      className={cn("text-muted-foreground text-xs tabular-nums", length > max && "text-destructive font-medium")}
    >
      {length} / {max}
    </span>
  );
}

/** The keys of a form's values that hold text. */
type TextKey<V> = { [K in keyof V]-?: V[K] extends string ? K : never }[keyof V] & string;

/**
 * Ties fields (TextField, TextareaField, a select) to a form's values: `bind("cpus")` gives the
 * field its value, its error and an onChange that reports `{ cpus: typed }` to `change`.
 */
export function fieldBinder<V extends object>(
  values: V,
  errors: Partial<Record<keyof V, string | undefined>>,
  change: (patch: Partial<V>) => void,
) {
  return function bind(key: TextKey<V>) {
    return {
      value: values[key] as string,
      onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) =>
        change({ [key]: e.target.value } as Partial<V>),
      error: errors[key],
    };
  };
}

/** Focuses the first invalid control in a form, after React has rendered the error state. */
export function focusFirstInvalid(form: HTMLFormElement | null) {
  requestAnimationFrame(() => form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
}
