"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { Loader2 } from "lucide-react";
import { FormError } from "@/components/auth/form-error";
import { firstFieldErrors, signInSchema, authErrorMessage, type FieldErrors } from "@/components/auth/rules";
import { focusFirstInvalid, TextField } from "@/components/forms/text-field";
import { Button } from "@/components/ui/button";
import { FieldGroup } from "@/components/ui/field";
import { authClient } from "@/lib/auth-client";

type Fields = "email" | "password";

export function SignInForm({ next }: { next: string }) {
  const router = useRouter();
  const formRef = useRef<HTMLFormElement>(null);
  const [values, setValues] = useState({ email: "", password: "" });
  const [errors, setErrors] = useState<FieldErrors<Fields>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [submitted, setSubmitted] = useState(false);
  const [pending, setPending] = useState(false);

  function update(field: Fields, value: string) {
    const nextValues = { ...values, [field]: value };
    setValues(nextValues);
    if (submitted) {
      const parsed = signInSchema.safeParse(nextValues);
      setErrors(parsed.success ? {} : firstFieldErrors<Fields>(parsed.error));
    }
  }

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (pending) return;
    setSubmitted(true);
    setFormError(null);
    const parsed = signInSchema.safeParse(values);
    if (!parsed.success) {
      setErrors(firstFieldErrors<Fields>(parsed.error));
      focusFirstInvalid(formRef.current);
      return;
    }
    setErrors({});
    setPending(true);
    try {
      const { error } = await authClient.signIn.email({ email: parsed.data.email, password: parsed.data.password });
      if (error) {
        setFormError(authErrorMessage(error, "sign-in"));
        setPending(false);
        return;
      }
      // Stay "pending" while the next page loads.
      router.replace(next);
      router.refresh();
    } catch {
      setFormError("Could not reach Armory. Check your connection and try again.");
      setPending(false);
    }
  }

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="Sign in" className="flex flex-col gap-5">
      <FormError message={formError} />
      <FieldGroup>
        <TextField
          id="sign-in-email"
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          inputMode="email"
          placeholder="you@example.com"
          autoFocus
          value={values.email}
          onChange={(e) => update("email", e.target.value)}
          error={errors.email}
          disabled={pending}
        />
        <TextField
          id="sign-in-password"
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          value={values.password}
          onChange={(e) => update("password", e.target.value)}
          error={errors.password}
          disabled={pending}
        />
      </FieldGroup>
      <Button type="submit" className="w-full" disabled={pending}>
        {pending ? (
          <>
            <Loader2 className="animate-spin" aria-hidden="true" />
            Signing in…
          </>
        ) : (
          "Sign in"
        )}
      </Button>
      <p className="text-muted-foreground text-center text-sm">
        New to Armory?{" "}
        <Link
          href={next === "/" ? "/sign-up" : `/sign-up?next=${encodeURIComponent(next)}`}
          className="text-foreground font-medium underline-offset-4 hover:underline"
        >
          Create an account
        </Link>
      </p>
    </form>
  );
}
