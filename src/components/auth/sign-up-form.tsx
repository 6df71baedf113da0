"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { Loader2 } from "lucide-react";
import { FormError } from "@/components/auth/form-error";
import {
  authErrorMessage,
  firstFieldErrors,
  PASSWORD_MIN_LENGTH,
  signUpSchema,
  type FieldErrors,
} from "@/components/auth/rules";
import { focusFirstInvalid, TextField } from "@/components/forms/text-field";
import { Button } from "@/components/ui/button";
import { FieldGroup } from "@/components/ui/field";
import { authClient } from "@/lib/auth-client";

type Fields = "name" | "email" | "password";

export function SignUpForm({ next }: { next: string }) {
  const router = useRouter();
  const formRef = useRef<HTMLFormElement>(null);
  const [values, setValues] = useState({ name: "", email: "", password: "" });
  const [errors, setErrors] = useState<FieldErrors<Fields>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [accountExists, setAccountExists] = useState(false);
  const [submitted, setSubmitted] = useState(false);
  const [pending, setPending] = useState(false);
  const signInHref = next === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(next)}`;

  function update(field: Fields, value: string) {
    const nextValues = { ...values, [field]: value };
    setValues(nextValues);
    if (submitted) {
      const parsed = signUpSchema.safeParse(nextValues);
      setErrors(parsed.success ? {} : firstFieldErrors<Fields>(parsed.error));
    }
  }

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (pending) return;
    setSubmitted(true);
    setFormError(null);
    setAccountExists(false);
    const parsed = signUpSchema.safeParse(values);
    if (!parsed.success) {
      setErrors(firstFieldErrors<Fields>(parsed.error));
      focusFirstInvalid(formRef.current);
      return;
    }
    setErrors({});
    setPending(true);
    try {
      const { error } = await authClient.signUp.email(parsed.data);
      if (error) {
        setAccountExists(error.status === 422 || Boolean(error.code?.startsWith("USER_ALREADY_EXISTS")));
        setFormError(authErrorMessage(error, "sign-up"));
        setPending(false);
        return;
      }
      router.replace(next);
      router.refresh();
    } catch {
      setFormError("Could not reach Armory. Check your connection and try again.");
      setPending(false);
    }
  }

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="Create account" className="flex flex-col gap-5">
      <FormError message={formError}>
        {accountExists ? (
          <Link href={signInHref} className="text-foreground font-medium underline underline-offset-4">
            Go to sign in
          </Link>
        ) : null}
      </FormError>
      <FieldGroup>
        <TextField
          id="sign-up-name"
          label="Name"
          name="name"
          autoComplete="name"
          placeholder="Ada Lovelace"
          autoFocus
          value={values.name}
          onChange={(e) => update("name", e.target.value)}
          error={errors.name}
          disabled={pending}
        />
        <TextField
          id="sign-up-email"
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          inputMode="email"
          placeholder="you@example.com"
          value={values.email}
          onChange={(e) => update("email", e.target.value)}
          error={errors.email}
          disabled={pending}
        />
        <TextField
          id="sign-up-password"
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          value={values.password}
          onChange={(e) => update("password", e.target.value)}
          error={errors.password}
          description={errors.password ? undefined : `At least ${PASSWORD_MIN_LENGTH} characters.`}
          disabled={pending}
        />
      </FieldGroup>
      <Button type="submit" className="w-full" disabled={pending}>
        {pending ? (
          <>
            <Loader2 className="animate-spin" aria-hidden="true" />
            Creating account…
          </>
        ) : (
          "Create account"
        )}
      </Button>
      <p className="text-muted-foreground text-center text-sm">
        Already have an account?{" "}
        <Link href={signInHref} className="text-foreground font-medium underline-offset-4 hover:underline">
          Sign in
        </Link>
      </p>
    </form>
  );
}
