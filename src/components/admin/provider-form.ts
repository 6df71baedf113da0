// The provider form's values, checks and payloads (Admin → Providers). The rules (slug, URL
// without credentials, secret name, model ids, limits) live on the server
// (routers/provider/schemas.ts), which reports them per field; the form checks only what it
// needs to build a request.
import { TRPCClientError } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

export type Provider = inferRouterOutputs<AppRouter>["provider"]["list"][number];

export interface ProviderFormValues {
  name: string;
  baseUrl: string;
  keySecret: string;
  /** One model id per line; empty: any model. */
  allowedModels: string;
}
export type ProviderFormErrors = Partial<Record<keyof ProviderFormValues, string>>;

export interface ProviderPayload {
  name: string;
  baseUrl: string;
  keySecret: string | null;
  allowedModels: string[];
}

export function emptyProviderForm(): ProviderFormValues {
  return { name: "", baseUrl: "", keySecret: "", allowedModels: "" };
}

export function providerToForm(p: Provider): ProviderFormValues {
  return { name: p.name, baseUrl: p.baseUrl, keySecret: p.keySecret ?? "", allowedModels: p.allowedModels.join("\n") };
}

export function checkProviderForm(
  values: ProviderFormValues,
): { ok: true; payload: ProviderPayload } | { ok: false; errors: ProviderFormErrors } {
  const errors: ProviderFormErrors = {};
  const name = values.name.trim();
  const baseUrl = values.baseUrl.trim();
  if (!name) errors.name = "Provider name is required";
  if (!baseUrl) errors.baseUrl = "Base URL is required";
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    payload: {
      name,
      baseUrl,
      keySecret: values.keySecret.trim() || null,
      allowedModels: values.allowedModels
        .split(/[\n,]/)
        .map((m) => m.trim())
        .filter(Boolean),
    },
  };
}

/** Only what changed (an edit sends just that). */
export function changedProviderFields(p: Provider, payload: ProviderPayload): Partial<ProviderPayload> {
  const out: Partial<ProviderPayload> = {};
  if (payload.name !== p.name) out.name = payload.name;
  if (payload.baseUrl !== p.baseUrl) out.baseUrl = payload.baseUrl;
  if (payload.keySecret !== p.keySecret) out.keySecret = payload.keySecret;
  if (JSON.stringify(payload.allowedModels) !== JSON.stringify(p.allowedModels)) out.allowedModels = payload.allowedModels;
  return out;
}

const FIELDS: (keyof ProviderFormValues)[] = ["name", "baseUrl", "keySecret", "allowedModels"];

/** The field errors the API reported (zod on the server, or a taken name), if any. */
export function apiProviderFieldErrors(err: unknown): ProviderFormErrors | null {
  if (!(err instanceof TRPCClientError)) return null;
  const data = err.data as { code?: string; fieldErrors?: Record<string, string[] | undefined> } | undefined;
  if (data?.code === "CONFLICT" && /already registered/.test(err.message)) return { name: err.message };
  if (data?.code === "CONFLICT" && /leaves out/.test(err.message)) return { allowedModels: err.message };
  const fieldErrors = data?.fieldErrors;
  if (!fieldErrors) return null;
  const out: ProviderFormErrors = {};
  for (const field of FIELDS) {
    const first = fieldErrors[field]?.[0];
    if (first) out[field] = first;
  }
  return Object.keys(out).length ? out : null;
}
