"use client";
// What the sign-in and sign-up forms share: their values checked against the auth rules, one
// request to better-auth while the form shows it is pending, its error, and the way on to `next`.
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { z } from "zod";
import { authErrorMessage, checkAuthForm, type AuthError } from "@/components/auth/rules";
import { useCheckedForm } from "@/components/forms/use-checked-form";

export function useAuthForm<K extends string, D>({
  schema,
  initial,
  action,
  next,
  send,
}: {
  schema: z.ZodType<D, Record<K, string>>;
  initial: Record<K, string>;
  action: "sign-in" | "sign-up";
  /** Where to go once signed in. */
  next: string;
  /** The better-auth call with the checked values. */
  send: (data: D) => Promise<{ error: AuthError | null }>;
}) {
  const router = useRouter();
  const form = useCheckedForm({ initial, check: (values: Record<K, string>) => checkAuthForm(schema, values) });
  const [pending, setPending] = useState(false);
  /** The error better-auth answered the last submit with, if any. */
  const [authError, setAuthError] = useState<AuthError | null>(null);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (pending) return;
    setAuthError(null);
    const result = form.validate();
    if (!result) return;
    setPending(true);
    try {
      const { error } = await send(result.data);
      if (error) {
        setAuthError(error);
        form.setServerError(authErrorMessage(error, action));
        setPending(false);
        return;
      }
      // Stay "pending" while the next page loads.
      router.replace(next);
      router.refresh();
    } catch {
      form.setServerError("Could not reach Armory. Check your connection and try again.");
      setPending(false);
    }
  }

  return { ...form, pending, authError, onSubmit };
}
