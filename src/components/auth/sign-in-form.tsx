"use client";
import { EmailField, PasswordField } from "@/components/auth/auth-fields";
import { AuthSwitch } from "@/components/auth/auth-switch";
import { FormError } from "@/components/auth/form-error";
import { signInSchema } from "@/components/auth/rules";
import { authPageHref } from "@/components/auth/safe-next";
import { useAuthForm } from "@/components/auth/use-auth-form";
import { SubmitButton } from "@/components/forms/submit-button";
import { FieldGroup } from "@/components/ui/field";
import { authClient } from "@/lib/auth-client";

export function SignInForm({ next }: { next: string }) {
  const { formRef, serverError, field, pending, onSubmit } = useAuthForm({
    schema: signInSchema,
    initial: { email: "", password: "" },
    action: "sign-in",
    next,
    send: ({ email, password }) => authClient.signIn.email({ email, password }),
  });

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="Sign in" className="flex flex-col gap-5">
      <FormError message={serverError} />
      <FieldGroup>
        <EmailField id="sign-in-email" autoFocus {...field("email")} disabled={pending} />
        <PasswordField id="sign-in-password" autoComplete="current-password" {...field("password")} disabled={pending} />
      </FieldGroup>
      <SubmitButton className="w-full" pending={pending} pendingLabel="Signing in…">
        Sign in
      </SubmitButton>
      <AuthSwitch prompt="New to Armory?" href={authPageHref("/sign-up", next)}>
        Create an account
      </AuthSwitch>
    </form>
  );
}
