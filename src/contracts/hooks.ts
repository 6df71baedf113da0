// Inbound webhooks: a URL per hook (POST /api/hooks/<hookId>) whose verified JSON payload is
// rendered by the hook's Mustache template into a chat message to one agent. The API (hook.*),
// the endpoint (src/server/hooks/) and the Webhooks tab share these schemas and the renderer.
import Mustache from "mustache";
import { z } from "zod";

export const HOOK_VERIFY_KINDS = ["github", "hmac", "token"] as const;
export const hookVerify = z.enum(HOOK_VERIFY_KINDS, { error: `verify must be one of ${HOOK_VERIFY_KINDS.join(", ")}` });
export type HookVerify = z.infer<typeof hookVerify>;

export const HOOK_SESSION_KINDS = ["new", "named"] as const;
export const hookSessionKind = z.enum(HOOK_SESSION_KINDS, { error: `session must be one of ${HOOK_SESSION_KINDS.join(", ")}` });

export const HOOK_DELIVERY_STATUSES = ["accepted", "rejected", "rate_limited", "failed"] as const;
export const hookDeliveryStatus = z.enum(HOOK_DELIVERY_STATUSES);
export type HookDeliveryStatus = z.infer<typeof hookDeliveryStatus>;

/** The largest request body accepted (bytes); larger ones are answered 413. */
export const HOOK_BODY_MAX_BYTES = 256 * 1024;
/** The generic HMAC's timestamp must be within this of Armory's clock. */
export const HOOK_TIMESTAMP_TOLERANCE_S = 5 * 60;
/** Deliveries kept per hook (older ones are deleted). */
export const HOOK_DELIVERIES_KEPT = 200;
export const HOOK_TEMPLATE_MAX_CHARS = 8000;
export const HOOKS_PER_AGENT_MAX = 50;
export const HOOK_RATE_DEFAULT = 30;
export const HOOK_RATE_MAX = 600;

/** The headers that carry each kind's proof (never stored, logged or shown). */
export const HOOK_HEADERS = {
  githubSignature: "x-hub-signature-256",
  githubEvent: "x-github-event",
  signature: "x-armory-signature",
  timestamp: "x-armory-timestamp",
  event: "x-armory-event",
  token: "x-armory-hook-token",
} as const;

/** The sample payload the editor previews templates against (the shape of GitHub's pull_request event). */
export const SAMPLE_HOOK_PAYLOAD = {
  action: "opened",
  number: 42,
  pull_request: {
    title: "Fix the flaky login test",
    html_url: "https://github.com/acme/shop/pull/42",
    body: "The test waited on a timer; it now waits for the redirect.",
    head: { ref: "fix/login-test" },
    base: { ref: "main" },
  },
  repository: { full_name: "acme/shop" },
  sender: { login: "octocat" },
};

export interface HookTemplateView {
  payload: unknown;
  headers: Record<string, string>;
  event: string | null;
}

/** Why a template cannot be used (Mustache cannot parse it), or null. */
export function hookTemplateProblem(template: string): string | null {
  if (!template.trim()) return "The template is empty";
  try {
    new Mustache.Writer().parse(template);
    return null;
  } catch (err) {
    return `The template does not parse: ${(err as Error).message}`;
  }
}

/**
 * The message a payload makes: Mustache with HTML escaping off; objects and arrays render as JSON
 * (`{{ payload.commits }}`), missing values as nothing. Throws when the template does not parse.
 */
export function renderHookTemplate(template: string, view: HookTemplateView): string {
  // A fresh writer each time: no process-wide cache of every template ever rendered.
  return new Mustache.Writer().render(template, view, {}, { escape: (v: unknown) => (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)) });
}

const name = z.string({ error: "A webhook needs a name" }).trim().min(1, "A webhook needs a name").max(100, "Webhook names are at most 100 characters");
const template = z
  .string({ error: "A webhook needs a template" })
  .max(HOOK_TEMPLATE_MAX_CHARS, `Templates are at most ${HOOK_TEMPLATE_MAX_CHARS} characters`)
  .superRefine((t, ctx) => {
    const problem = hookTemplateProblem(t);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
const sessionName = z.string().trim().min(1, "A named session needs a name").max(200, "Session names are at most 200 characters");
const rate = z
  .number({ error: "rateLimitPerMinute must be a number" })
  .int("rateLimitPerMinute must be a whole number")
  .min(1, "rateLimitPerMinute must be at least 1")
  .max(HOOK_RATE_MAX, `rateLimitPerMinute must be at most ${HOOK_RATE_MAX}`);

export const hookFields = {
  name,
  verify: hookVerify,
  template,
  session: hookSessionKind.default("new"),
  sessionName: sessionName.nullable().optional(),
  rateLimitPerMinute: rate.default(HOOK_RATE_DEFAULT),
  enabled: z.boolean().default(true),
};

export const hookCreateFields = z.object(hookFields).refine((h) => h.session !== "named" || !!h.sessionName, {
  message: "A named session needs a name",
  path: ["sessionName"],
});
export type HookCreateFields = z.infer<typeof hookCreateFields>;

export const hookUpdateFields = z.object({
  name: name.optional(),
  verify: hookVerify.optional(),
  template: template.optional(),
  session: hookSessionKind.optional(),
  sessionName: sessionName.nullable().optional(),
  rateLimitPerMinute: rate.optional(),
  enabled: z.boolean().optional(),
});
export type HookUpdateFields = z.infer<typeof hookUpdateFields>;

export const hookView = z.object({
  id: z.string(),
  projectId: z.string(),
  agentId: z.string(),
  name: z.string(),
  /** The path to POST to (relative to Armory's public URL): /api/hooks/<id>. */
  path: z.string(),
  verify: hookVerify,
  template: z.string(),
  session: hookSessionKind,
  sessionName: z.string().nullable(),
  sessionId: z.string().nullable(),
  rateLimitPerMinute: z.number(),
  enabled: z.boolean(),
  createdById: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  lastDelivery: z.object({ status: hookDeliveryStatus, httpStatus: z.number(), at: z.date() }).nullable(),
});
export type HookView = z.infer<typeof hookView>;

/** A hook with its secret: only the answers of create and rotateSecret. */
export const hookWithSecret = z.object({ hook: hookView, secret: z.string() });
export type HookWithSecret = z.infer<typeof hookWithSecret>;

export const hookDeliveryView = z.object({
  id: z.string(),
  hookId: z.string(),
  receivedAt: z.date(),
  event: z.string().nullable(),
  payload: z.unknown(),
  headers: z.record(z.string(), z.string()),
  status: hookDeliveryStatus,
  httpStatus: z.number(),
  error: z.string().nullable(),
  message: z.string().nullable(),
  sessionId: z.string().nullable(),
  runId: z.string().nullable(),
  replayOf: z.string().nullable(),
});
export type HookDeliveryView = z.infer<typeof hookDeliveryView>;

/** What the endpoint answers a delivery that started a turn (202). */
export interface HookAccepted {
  sessionId: string;
  runId: string;
  deliveryId: string;
}
