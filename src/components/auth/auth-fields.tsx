"use client";
// The credential fields of the sign-in and sign-up forms.
import { TextField, type TextFieldProps } from "@/components/forms/text-field";

type Props = Omit<TextFieldProps, "label" | "type">;

export function EmailField(props: Props) {
  return (
    <TextField label="Email" type="email" autoComplete="email" inputMode="email" placeholder="you@example.com" {...props} />
  );
}

export function PasswordField(props: Props & { autoComplete: "current-password" | "new-password" }) {
  return <TextField label="Password" type="password" {...props} />;
}
