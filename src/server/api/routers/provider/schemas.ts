// provider.* input and output schemas: the model providers the instance admin registers, which
// templates name and the model gateway forwards to. Nothing here is secret: a provider holds the
// NAME of the project (or agent) secret with its key, never a key.
import { z } from "zod";
import { ENV_KEY_RE } from "../agent/schemas";
import { model } from "../template/schemas";

/** The built-in entry: Armory's own upstream (ANTHROPIC_BASE_URL), or the demo model without a key. */
export const BUILTIN_PROVIDER = "armory";
/** Names no admin may register (they mean the built-in entry). */
export const RESERVED_PROVIDER_NAMES = [BUILTIN_PROVIDER, "default", "demo"] as const;

export const PROVIDER_LIMITS = { name: 63, baseUrl: 2_048, keySecret: 200, allowedModels: 100 } as const;

export const providerNameSchema = z
  .string({ error: "Provider name is required" })
  .trim()
  .min(1, "Provider name is required")
  .max(PROVIDER_LIMITS.name, `Provider name must be at most ${PROVIDER_LIMITS.name} characters`)
  .regex(
    /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/,
    "Provider name must be lower-case letters, digits and hyphens, start with a letter and not end with a hyphen (e.g. openrouter)",
  )
  .refine((n) => !(RESERVED_PROVIDER_NAMES as readonly string[]).includes(n), {
    message: `Provider name cannot be ${RESERVED_PROVIDER_NAMES.join(", ")}: those mean Armory's own upstream`,
  });

/**
 * An http(s) base URL without credentials, query or fragment, normalised the way the gateway will
 * connect to it (WHATWG parsing: lower-case host, IPv4 in dotted form), without a trailing slash.
 */
export const providerBaseUrlSchema = z
  .string({ error: "Base URL is required" })
  .trim()
  .min(1, "Base URL is required")
  .max(PROVIDER_LIMITS.baseUrl, `Base URL must be at most ${PROVIDER_LIMITS.baseUrl} characters`)
  .transform((raw, ctx) => {
    const fail = (message: string) => {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    };
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return fail("Base URL must be an http(s) URL such as https://llm.example.com");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return fail("Base URL must be an http(s) URL such as https://llm.example.com");
    if (url.username || url.password || /^[a-z]+:\/\/[^/]*@/i.test(raw)) {
      return fail("Base URL cannot carry credentials (user:password@); put the key in a secret and name it as the key secret");
    }
    if (raw.includes("#")) return fail("Base URL cannot have a fragment (#…)");
    if (raw.includes("?")) return fail("Base URL cannot have a query (?…); the gateway appends /v1/messages to it");
    if (!url.hostname) return fail("Base URL must name a host");
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  });

export const providerKeySecretSchema = z
  .string({ error: "Key secret must be text" })
  .trim()
  .min(1, "Key secret cannot be empty (null: the provider needs no key)")
  .max(PROVIDER_LIMITS.keySecret, `Key secret must be at most ${PROVIDER_LIMITS.keySecret} characters`)
  .regex(
    ENV_KEY_RE,
    "Key secret must be the NAME of a project secret: letters, digits and _, not starting with a digit (e.g. OPENROUTER_KEY)",
  );

export const allowedModelsSchema = z
  .array(model, { error: "allowedModels must be a list of model ids" })
  .max(PROVIDER_LIMITS.allowedModels, `At most ${PROVIDER_LIMITS.allowedModels} allowed models`)
  .superRefine((models, ctx) => {
    const seen = new Set<string>();
    models.forEach((m, i) => {
      if (seen.has(m)) ctx.addIssue({ code: "custom", path: [i], message: `allowedModels lists ${m} twice` });
      seen.add(m);
    });
  });

/** A registered provider's id, or "armory" for the built-in entry. */
export const providerIdSchema = z.union([z.uuid(), z.literal(BUILTIN_PROVIDER)], {
  error: `providerId must be a provider id (a UUID) or "${BUILTIN_PROVIDER}"`,
});

export const providerGetInput = z.object({ providerId: providerIdSchema });

export const providerCreateInput = z.object({
  name: providerNameSchema,
  baseUrl: providerBaseUrlSchema,
  /** The name of the project (or agent) secret holding the key; null or absent: no key is sent. */
  keySecret: providerKeySecretSchema.nullable().optional(),
  /** Models templates may use with this provider; empty: any. */
  allowedModels: allowedModelsSchema.optional(),
});
export type ProviderCreateInput = z.output<typeof providerCreateInput>;

export const providerUpdateInput = z
  .object({
    providerId: z.uuid({ error: "providerId must be a provider id (a UUID)" }),
    name: providerNameSchema.optional(),
    baseUrl: providerBaseUrlSchema.optional(),
    keySecret: providerKeySecretSchema.nullable().optional(),
    allowedModels: allowedModelsSchema.optional(),
  })
  .refine(
    (v) => Object.entries(v).some(([key, value]) => key !== "providerId" && value !== undefined),
    "Nothing to update: give at least one field to change",
  );
export type ProviderUpdateInput = z.output<typeof providerUpdateInput>;
export type ProviderPatch = Omit<ProviderUpdateInput, "providerId">;

export const providerMutationInput = z.object({ providerId: z.uuid({ error: "providerId must be a provider id (a UUID)" }) });

export const providerTemplateUse = z.object({
  id: z.string(),
  name: z.string(),
  /** null: a built-in template (templates/*.yaml). */
  projectId: z.string().nullable(),
  projectName: z.string().nullable(),
});

export const providerOutput = z.object({
  /** A UUID, or "armory" for the built-in entry. */
  id: z.string(),
  name: z.string(),
  baseUrl: z.string(),
  /** The NAME of the secret holding the key (never the key). */
  keySecret: z.string().nullable(),
  allowedModels: z.array(z.string()),
  /** false: migrated from a template's free-form URL; the gateway refuses it until an admin confirms it. */
  confirmed: z.boolean(),
  /** The operator's upstream (ANTHROPIC_BASE_URL): read-only here. */
  builtIn: z.boolean(),
  /** Built-in only: no ANTHROPIC_API_KEY, so the demo model answers. */
  demo: z.boolean(),
  templateCount: z.number(),
  /** Which templates use it: for the instance admin only (null for everyone else). */
  templates: z.array(providerTemplateUse).nullable(),
  createdAt: z.date().nullable(),
  updatedAt: z.date().nullable(),
});
export type ProviderView = z.infer<typeof providerOutput>;
export const providerListOutput = z.array(providerOutput);
export const providerDeleteOutput = z.object({ id: z.string(), name: z.string(), deleted: z.literal(true) });
