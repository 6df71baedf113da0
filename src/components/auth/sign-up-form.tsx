"use client";
import Link from "next/link";
import { EmailField, PasswordField } from "@/components/auth/auth-fields";
import { AuthSwitch } from "@/components/auth/auth-switch";
import { FormError } from "@/components/auth/form-error";
import { isExistingAccount, PASSWORD_MIN_LENGTH, signUpSchema } from "@/components/auth/rules";
import { authPageHref } from "@/components/auth/safe-next";
import { useAuthForm } from "@/components/auth/use-auth-form";
import { SubmitButton } from "@/components/forms/submit-button";
import { TextField } from "@/components/forms/text-field";
import { FieldGroup } from "@/components/ui/field";
import { authClient } from "@/lib/auth-client";

/** `invitation`: the token of the invitation link, sent with the sign-up (the server checks it). */
export function SignUpForm({ next, invitation, signInHref: signInOverride }: { next: string; invitation?: string; signInHref?: string }) {
  const { formRef, errors, serverError, field, pending, authError, onSubmit } = useAuthForm({
    schema: signUpSchema,
    initial: { name: "", email: "", password: "" },
    action: "sign-up",
    next,
    // `invitation` is Armory's own sign-up field (src/server/instance/door.ts), unknown to better-auth's types.
    send: (data) => authClient.signUp.email({ ...data, ...(invitation ? { invitation } : {}) } as typeof data),
  });
  const accountExists = authError ? isExistingAccount(authError) : false;
  const signInHref = signInOverride ?? authPageHref("/sign-in", next);

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="Create account" className="flex flex-col gap-5">
      <FormError message={serverError}>
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
          autoComplete="name"
          placeholder="Ada Lovelace"
          autoFocus
          {...field("name")}
          disabled={pending}
        />
        <EmailField id="sign-up-email" {...field("email")} disabled={pending} />
        <PasswordField
          id="sign-up-password"
          autoComplete="new-password"
          {...field("password")}
          description={errors.password ? undefined : `At least ${PASSWORD_MIN_LENGTH} characters.`}
          disabled={pending}
        />
      </FieldGroup>
      <SubmitButton className="w-full" pending={pending} pendingLabel="Creating account…">
        Create account
      </SubmitButton>
      <AuthSwitch prompt="Already have an account?" href={signInHref}>
        Sign in
      </AuthSwitch>
    </form>
  );
}
