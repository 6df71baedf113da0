"use client";
// Labelled form fields with inline errors: the label is bound to the control, the error and the
// description are wired through aria-describedby, and an error marks the control aria-invalid.
import * as React from "react";
import { Field, FieldDescription, FieldError, FieldLabel } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Textarea } from "@/components/ui/textarea";
import { cn } from "@/lib/utils";

interface FieldChromeProps {
  id: string;
  label: React.ReactNode;
  error?: string | null;
  description?: React.ReactNode;
  /** Shown right of the label, e.g. a character counter or a "Forgot?" link. */
  labelAside?: React.ReactNode;
  className?: string;
}

function describedBy(id: string, error?: string | null, description?: React.ReactNode) {
  return [description ? `${id}-description` : null, error ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;
}

function FieldChrome({
  id,
  label,
  error,
  description,
  labelAside,
  className,
  children,
}: FieldChromeProps & { children: React.ReactNode }) {
  return (
    <Field data-invalid={error ? true : undefined} className={cn("gap-2", className)}>
      <div className="flex items-center justify-between gap-2">
        <FieldLabel htmlFor={id}>{label}</FieldLabel>
        {labelAside}
      </div>
      {children}
      {description ? <FieldDescription id={`${id}-description`}>{description}</FieldDescription> : null}
      {error ? <FieldError id={`${id}-error`}>{error}</FieldError> : null}
    </Field>
  );
}

type TextFieldProps = FieldChromeProps & Omit<React.ComponentProps<typeof Input>, "id" | "className">;

export function TextField({ id, label, error, description, labelAside, className, ...inputProps }: TextFieldProps) {
  return (
    <FieldChrome id={id} label={label} error={error} description={description} labelAside={labelAside} className={className}>
      <Input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, description)}
        {...inputProps}
      />
    </FieldChrome>
  );
}

type TextareaFieldProps = FieldChromeProps & Omit<React.ComponentProps<typeof Textarea>, "id" | "className">;

export function TextareaField({
  id,
  label,
  error,
  description,
  labelAside,
  className,
  ...textareaProps
}: TextareaFieldProps) {
  return (
    <FieldChrome id={id} label={label} error={error} description={description} labelAside={labelAside} className={className}>
      <Textarea
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, description)}
        {...textareaProps}
      />
    </FieldChrome>
  );
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

/** Focuses the first invalid control in a form, after React has rendered the error state. */
export function focusFirstInvalid(form: HTMLFormElement | null) {
  requestAnimationFrame(() => form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
}
