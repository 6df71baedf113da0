// Validation for the project forms: the same zod rules the API applies (one source of truth),
// plus helpers to turn API field errors into inline messages.
import { TRPCClientError } from "@trpc/client";
import { z } from "zod";
import {
  PROJECT_DESCRIPTION_MAX,
  PROJECT_NAME_MAX,
  projectDescription,
  projectName,
} from "@/server/api/routers/project/schemas";

export { PROJECT_DESCRIPTION_MAX, PROJECT_NAME_MAX };

export const projectFormSchema = z.object({ name: projectName, description: projectDescription });
export type ProjectFormValues = z.input<typeof projectFormSchema>;
export type ProjectFormErrors = Partial<Record<keyof ProjectFormValues, string>>;

export function validateProjectForm(
  values: ProjectFormValues,
): { ok: true; data: z.output<typeof projectFormSchema> } | { ok: false; errors: ProjectFormErrors } {
  const parsed = projectFormSchema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data };
  const errors: ProjectFormErrors = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path[0] as keyof ProjectFormValues | undefined;
    if (key && !errors[key]) errors[key] = issue.message;
  }
  return { ok: false, errors };
}

/** Field errors the API reported for a bad input (zod on the server), if any. */
export function apiFieldErrors(err: unknown): ProjectFormErrors | null {
  if (!(err instanceof TRPCClientError)) return null;
  const fieldErrors = (err.data as { fieldErrors?: Record<string, string[] | undefined> } | undefined)?.fieldErrors;
  if (!fieldErrors) return null;
  const out: ProjectFormErrors = {};
  if (fieldErrors.name?.[0]) out.name = fieldErrors.name[0];
  if (fieldErrors.description?.[0]) out.description = fieldErrors.description[0];
  return Object.keys(out).length ? out : null;
}

/** The tRPC error code (NOT_FOUND, FORBIDDEN, BAD_REQUEST…) of a failed call. */
export function apiErrorCode(err: unknown): string | undefined {
  if (!(err instanceof TRPCClientError)) return undefined;
  return (err.data as { code?: string } | undefined)?.code;
}
