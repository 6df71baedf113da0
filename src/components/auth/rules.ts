// Client-side mirrors of the server's auth rules (src/server/auth: better-auth's email/password
// settings), so a person sees the problem before a round trip. The server stays authoritative.
import { z } from "zod";

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;
export const NAME_MAX_LENGTH = 100;

const email = z
  .string()
  .trim()
  .min(1, "Email is required")
  .pipe(z.email("Enter a valid email address, like you@example.com"));

export const signInSchema = z.object({
  email,
  password: z.string().min(1, "Password is required"),
});

export const signUpSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "Name is required")
    .max(NAME_MAX_LENGTH, `Name must be at most ${NAME_MAX_LENGTH} characters`),
  email,
  password: z
    .string()
    .min(1, "Password is required")
    .min(PASSWORD_MIN_LENGTH, `Password must be at least ${PASSWORD_MIN_LENGTH} characters`)
    .max(PASSWORD_MAX_LENGTH, `Password must be at most ${PASSWORD_MAX_LENGTH} characters`),
});

export type FieldErrors<K extends string> = Partial<Record<K, string>>;

/** The first message per field of a failed zod parse. */
export function firstFieldErrors<K extends string>(error: z.ZodError): FieldErrors<K> {
  const out: FieldErrors<K> = {};
  for (const issue of error.issues) {
    const key = issue.path[0];
    if (typeof key === "string" && !(key in out)) out[key as K] = issue.message;
  }
  return out;
}

/** The outcome of checking a form's values against one of these schemas: the data, or an error per field. */
export function checkAuthForm<K extends string, D>(
  schema: z.ZodType<D, Record<K, string>>,
  values: Record<K, string>,
): { ok: true; data: D } | { ok: false; errors: FieldErrors<K> } {
  const parsed = schema.safeParse(values);
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, errors: firstFieldErrors<K>(parsed.error) };
}

export interface AuthError {
  message?: string;
  status?: number;
  statusText?: string;
  code?: string;
}

/** Whether a sign-up failed because an account with that email exists already. */
export function isExistingAccount(error: AuthError): boolean {
  return error.status === 422 || Boolean(error.code?.startsWith("USER_ALREADY_EXISTS"));
}

/** A person-readable message for a better-auth client error. */
export function authErrorMessage(error: AuthError, action: "sign-in" | "sign-up"): string {
  if (error.status === 429) return "Too many attempts. Wait a minute, then try again.";
  if (action === "sign-in" && error.status === 401) return "Invalid email or password.";
  if (action === "sign-up" && isExistingAccount(error)) {
    return "An account with this email already exists. Sign in instead, or use another email.";
  }
  if (error.status === 0 || error.status === undefined) {
    return error.message || "Could not reach Armory. Check your connection and try again.";
  }
  if (error.status >= 500) return "Armory could not complete this right now. Try again in a moment.";
  return error.message || error.statusText || "Something went wrong. Try again.";
}
