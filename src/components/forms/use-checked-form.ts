"use client";
// The state every checked form keeps: the values as typed, an error per field, whether it has been
// submitted (after which every change is checked again at once) and the server's message.
import { useRef, useState } from "react";
import { fieldBinder, focusFirstInvalid } from "@/components/forms/text-field";
import { errorMessage } from "@/lib/trpc/client";

type Checked<E> = { ok: true } | { ok: false; errors: E };

export function useCheckedForm<V extends object, E extends Partial<Record<keyof V, string>>, R extends Checked<E>>({
  initial,
  check,
  fieldErrorsOf,
  clearServerErrorOnChange = false,
  keepOtherErrors = false,
}: {
  initial: V | (() => V);
  /** Checks all the values: `{ ok: true, … }` with what the form sends, or the errors by field. */
  check: (values: V) => R;
  /** The field errors a failed request reports, if any: shown at the fields instead of the server's message. */
  fieldErrorsOf?: (err: unknown) => E | null;
  /** A change hides the server's message. */
  clearServerErrorOnChange?: boolean;
  /** After a submit, a change re-checks only the changed fields: other fields keep the server's remarks. */
  keepOtherErrors?: boolean;
}) {
  const formRef = useRef<HTMLFormElement>(null);
  const [values, setValues] = useState<V>(initial);
  const [errors, setErrors] = useState<E>({} as E);
  const [submitted, setSubmitted] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);

  function change(patch: Partial<V>) {
    const next = { ...values, ...patch };
    setValues(next);
    if (clearServerErrorOnChange) setServerError(null);
    if (!submitted) return;
    const result = check(next);
    if (keepOtherErrors) {
      setErrors((prev) => {
        const merged: E = { ...prev };
        for (const field of Object.keys(patch) as (keyof V)[]) merged[field] = undefined as E[keyof V];
        if (!result.ok) Object.assign(merged, result.errors);
        return merged;
      });
    } else {
      setErrors(result.ok ? ({} as E) : result.errors);
    }
  }

  /**
   * On submit: marks the form submitted, hides the server's message and checks every field. The
   * successful check, or null once the errors show and the first invalid field has the focus.
   */
  function validate(): Extract<R, { ok: true }> | null {
    setSubmitted(true);
    setServerError(null);
    const result = check(values);
    if (!result.ok) {
      setErrors(result.errors);
      focusFirstInvalid(formRef.current);
      return null;
    }
    setErrors({} as E);
    return result as Extract<R, { ok: true }>;
  }

  /** A failed request: its field errors at the fields (focusing the first), else its message. */
  function fail(err: unknown) {
    const fields = fieldErrorsOf?.(err);
    if (fields) {
      setErrors(fields);
      focusFirstInvalid(formRef.current);
    } else {
      setServerError(errorMessage(err));
    }
  }

  /** Back to these values, unchecked and without errors. */
  function reset(to: V) {
    setValues(to);
    setErrors({} as E);
    setSubmitted(false);
    setServerError(null);
  }

  const bind = fieldBinder(values, errors, change);
  /** The props that tie a field to one value, its error and its `name`. */
  function field<K extends Parameters<typeof bind>[0]>(key: K) {
    return { name: key, ...bind(key) };
  }

  return { formRef, values, errors, serverError, setServerError, change, validate, fail, reset, field };
}
