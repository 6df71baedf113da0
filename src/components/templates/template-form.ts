// The template form's values, checks and payloads. The field rules (limits, name and env
// patterns, …) live on the server (routers/template/schemas.ts), which reports them per field;
// the form only checks what it must to build a request: required fields and numbers.
import { TRPCClientError } from "@trpc/client";
import { parseRuleLines, policyToText } from "@/components/approvals/policy";
import type { ToolPolicy } from "@/contracts/approvals";
import type { PermissionMode, Template } from "./format";

export const DEFAULT_MODEL = "claude-sonnet-4-5";

export interface EnvRow {
  id: string;
  key: string;
  value: string;
}

export interface TemplateFormValues {
  name: string;
  displayName: string;
  description: string;
  image: string;
  model: string;
  memoryMb: string;
  cpus: string;
  pidsLimit: string;
  permissionMode: PermissionMode;
  /** One tool per line. */
  allowedTools: string;
  env: EnvRow[];
  instructions: string;
  personality: string;
  /** A registered provider's name; "" is Armory's own upstream. */
  provider: string;
  /** One host name per line. */
  egressAllowlist: string;
  /** Swarm placement constraints, one per line. */
  placement: string;
  /** The tool policy's lists, one permission rule per line. */
  policyAllow: string;
  policyAsk: string;
  policyDeny: string;
}

export type TemplateFormField = keyof TemplateFormValues;
export type TemplateFormErrors = Partial<Record<TemplateFormField, string>>;

/** The fields the API takes, as the form sends them. */
export interface TemplatePayload {
  displayName: string;
  description: string;
  image: string;
  model: string;
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
  permissionMode: PermissionMode;
  allowedTools: string[];
  env: Record<string, string>;
  instructions: string;
  personality: string;
  provider: string | null;
  egressAllowlist: string[];
  placement: { constraints: string[] };
  toolPolicy: ToolPolicy;
}

let rowCounter = 0;
export function envRow(key = "", value = ""): EnvRow {
  rowCounter += 1;
  return { id: `env-${rowCounter}`, key, value };
}

export function emptyTemplateForm(): TemplateFormValues {
  return {
    name: "",
    displayName: "",
    description: "",
    image: "default",
    model: DEFAULT_MODEL,
    memoryMb: "2048",
    cpus: "2",
    pidsLimit: "512",
    permissionMode: "acceptEdits",
    allowedTools: "",
    env: [],
    instructions: "",
    personality: "",
    provider: "",
    egressAllowlist: "",
    placement: "",
    policyAllow: "",
    policyAsk: "",
    policyDeny: "",
  };
}

export function templateToForm(t: Template, name = t.name): TemplateFormValues {
  return {
    name,
    displayName: t.displayName,
    description: t.description,
    image: t.image,
    model: t.model,
    memoryMb: String(t.memoryMb),
    cpus: String(t.cpus),
    pidsLimit: String(t.pidsLimit),
    permissionMode: t.permissionMode,
    allowedTools: t.allowedTools.join("\n"),
    env: Object.entries(t.env).map(([k, v]) => envRow(k, v)),
    instructions: t.instructions,
    personality: t.personality,
    provider: t.provider ?? "",
    egressAllowlist: t.egressAllowlist.join("\n"),
    placement: t.placement.constraints.join("\n"),
    ...(() => {
      const p = policyToText(t.toolPolicy);
      return { policyAllow: p.allow, policyAsk: p.ask, policyDeny: p.deny };
    })(),
  };
}

/** A free project template name for a copy: the same name if free, else name-copy, name-copy-2, … */
export function copyName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  const base = `${name}-copy`.slice(0, 40).replace(/-+$/, "");
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base.slice(0, 40 - String(i).length - 1)}-${i}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** The non-empty lines of a one-per-line field, trimmed. */
function lines(text: string): string[] {
  return text
    .split("\n")
    .map((t) => t.trim())
    .filter(Boolean);
}

const NUMBER_FIELDS = {
  memoryMb: { label: "Memory", unit: "a number of megabytes" },
  cpus: { label: "CPUs", unit: "a number" },
  pidsLimit: { label: "Process limit", unit: "a whole number" },
} as const;

/** Checks what the form needs to build a request; the server checks the rest. */
export function checkTemplateForm(
  values: TemplateFormValues,
): { ok: true; name: string; payload: TemplatePayload } | { ok: false; errors: TemplateFormErrors } {
  const errors: TemplateFormErrors = {};
  const name = values.name.trim();
  if (!name) errors.name = "Template name is required";
  if (!values.model.trim()) errors.model = "model is required";
  if (!values.image.trim()) errors.image = "image is required (default is Armory's agent image)";

  const numbers: Partial<Record<keyof typeof NUMBER_FIELDS, number>> = {};
  for (const [field, { label, unit }] of Object.entries(NUMBER_FIELDS) as [keyof typeof NUMBER_FIELDS, (typeof NUMBER_FIELDS)[keyof typeof NUMBER_FIELDS]][]) {
    const raw = values[field].trim();
    const n = Number(raw);
    if (!raw) errors[field] = `${label} is required`;
    else if (!Number.isFinite(n)) errors[field] = `${field} must be ${unit}`;
    else numbers[field] = n;
  }

  const env: Record<string, string> = {};
  for (const row of values.env) {
    const key = row.key.trim();
    if (!key && !row.value) continue;
    if (!key) {
      errors.env = "Give every environment variable a name (or remove the empty row)";
      break;
    }
    if (key in env) {
      errors.env = `${key} is set twice`;
      break;
    }
    env[key] = row.value;
  }

  const toolPolicy: ToolPolicy = { allow: [], ask: [], deny: [] };
  for (const [list, field] of [["allow", "policyAllow"], ["ask", "policyAsk"], ["deny", "policyDeny"]] as const) {
    const r = parseRuleLines(values[field]);
    if (r.ok) toolPolicy[list] = r.rules;
    else errors[field] = r.error;
  }

  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    name,
    payload: {
      displayName: values.displayName.trim() || name,
      description: values.description.trim(),
      image: values.image.trim(),
      model: values.model.trim(),
      memoryMb: numbers.memoryMb!,
      cpus: numbers.cpus!,
      pidsLimit: numbers.pidsLimit!,
      permissionMode: values.permissionMode,
      allowedTools: lines(values.allowedTools),
      env,
      instructions: values.instructions,
      personality: values.personality,
      provider: values.provider.trim() || null,
      egressAllowlist: lines(values.egressAllowlist),
      placement: { constraints: lines(values.placement) },
      toolPolicy,
    },
  };
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Only the fields that differ from the template (an edit sends just those). */
export function changedFields(
  template: Template,
  name: string,
  payload: TemplatePayload,
): Partial<TemplatePayload> & { name?: string } {
  const out: Partial<TemplatePayload> & { name?: string } = {};
  if (name !== template.name) out.name = name;
  for (const key of Object.keys(payload) as (keyof TemplatePayload)[]) {
    const before = key === "env" ? template.env : template[key];
    if (!sameValue(payload[key], before)) (out as Record<string, unknown>)[key] = payload[key];
  }
  return out;
}

const FORM_FIELDS: TemplateFormField[] = [
  "name",
  "displayName",
  "description",
  "image",
  "model",
  "memoryMb",
  "cpus",
  "pidsLimit",
  "permissionMode",
  "allowedTools",
  "env",
  "instructions",
  "personality",
  "provider",
  "egressAllowlist",
  "placement",
  "policyAllow",
  "policyAsk",
  "policyDeny",
];

/** Field errors the API reported for a bad input (zod on the server), if any. */
export function apiTemplateFieldErrors(err: unknown): TemplateFormErrors | null {
  if (!(err instanceof TRPCClientError)) return null;
  const data = err.data as { code?: string; fieldErrors?: Record<string, string[] | undefined> } | undefined;
  if (data?.code === "CONFLICT" && /template named/i.test(err.message)) return { name: err.message };
  // The provider checks happen past validation (is it registered, does it allow the model).
  if (data?.code === "BAD_REQUEST" && /is not registered;|is not allowed with provider/.test(err.message)) {
    return /^Model /.test(err.message) ? { model: err.message } : { provider: err.message };
  }
  const fieldErrors = data?.fieldErrors;
  if (!fieldErrors) return null;
  const out: TemplateFormErrors = {};
  for (const field of FORM_FIELDS) {
    const first = fieldErrors[field]?.[0];
    if (first) out[field] = first;
  }
  return Object.keys(out).length ? out : null;
}
