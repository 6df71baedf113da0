// Validation for the agent forms (create, settings): the same zod rules the API applies — one
// source of truth — plus the raw form values (strings, as typed) and their conversion.
import { TRPCClientError } from "@trpc/client";
import {
  AGENT_NAME_MAX,
  agentName,
  cpus,
  ENV_KEY_RE,
  LIMITS,
  memoryMb,
  PERMISSION_MODES,
  pidsLimit,
} from "@/server/api/routers/agent/schemas";

export { AGENT_NAME_MAX, LIMITS, PERMISSION_MODES };
export type PermissionMode = (typeof PERMISSION_MODES)[number];

export const PERMISSION_MODE_LABELS: Record<PermissionMode, { label: string; hint: string }> = {
  default: { label: "Ask (default)", hint: "Only the allowed tools run; anything else is refused." },
  acceptEdits: { label: "Accept edits", hint: "File edits are accepted automatically." },
  plan: { label: "Plan only", hint: "The agent plans and explains but changes nothing." },
  bypassPermissions: { label: "Bypass permissions", hint: "Every tool runs without asking. Use with care." },
};

export function permissionModeLabel(mode: string): string {
  return (PERMISSION_MODE_LABELS as Record<string, { label: string } | undefined>)[mode]?.label ?? mode;
}

/** The live name check: null when the name is fine, else the API's own message. */
export function validateAgentName(name: string): string | null {
  const parsed = agentName.safeParse(name);
  return parsed.success ? null : (parsed.error.issues[0]?.message ?? "Agent name is not valid");
}

/** One environment variable row as typed. */
export interface EnvRow {
  id: number;
  key: string;
  value: string;
}

let nextRowId = 1;
export function envRow(key = "", value = ""): EnvRow {
  return { id: nextRowId++, key, value };
}

/** The resource and runtime fields both forms share, as typed (empty = keep the default). */
export interface RuntimeValues {
  memoryMb: string;
  cpus: string;
  pidsLimit: string;
  model: string;
  permissionMode: string;
  env: EnvRow[];
}

export const RUNTIME_FIELDS = ["memoryMb", "cpus", "pidsLimit", "model", "permissionMode", "env"] as const;
export type RuntimeField = (typeof RUNTIME_FIELDS)[number];
export type RuntimeErrors = Partial<Record<RuntimeField, string>> & { envRows?: Record<number, string> };

export interface RuntimeData {
  memoryMb?: number;
  cpus?: number;
  pidsLimit?: number;
  model?: string;
  permissionMode?: PermissionMode;
  env?: Record<string, string>;
}

const NUMBER_LABEL = { memoryMb: "Memory", cpus: "CPUs", pidsLimit: "Processes" } as const;
const NUMBER_SCHEMA = { memoryMb, cpus, pidsLimit } as const;
// The API's messages name the field (memoryMb, cpus…); the form's labels say it in words.
const FIELD_WORDS: [RegExp, string][] = [
  [/^memoryMb/, "Memory"],
  [/^cpus/, "CPUs"],
  [/^pidsLimit/, "Processes"],
];

function humanize(message: string): string {
  for (const [re, word] of FIELD_WORDS) if (re.test(message)) return message.replace(re, word);
  return message;
}

function parseNumber(field: keyof typeof NUMBER_SCHEMA, raw: string): { value?: number; error?: string } {
  const text = raw.trim();
  if (!text) return {};
  const n = Number(text);
  if (!Number.isFinite(n)) return { error: `${NUMBER_LABEL[field]} must be a number` };
  const parsed = NUMBER_SCHEMA[field].safeParse(n);
  if (!parsed.success) return { error: humanize(parsed.error.issues[0]?.message ?? "Not a valid value") };
  return { value: parsed.data };
}

/**
 * Checks the typed values. Empty number and model fields mean "the default" and are left out;
 * env is always returned (the rows with a key), `required` makes empty fields an error instead.
 */
export function validateRuntime(
  values: RuntimeValues,
  { required = false }: { required?: boolean } = {},
): { ok: true; data: RuntimeData } | { ok: false; errors: RuntimeErrors } {
  const errors: RuntimeErrors = {};
  const data: RuntimeData = {};
  for (const field of ["memoryMb", "cpus", "pidsLimit"] as const) {
    const { value, error } = parseNumber(field, values[field]);
    if (error) errors[field] = error;
    else if (value !== undefined) data[field] = value;
    else if (required) errors[field] = `${NUMBER_LABEL[field]} is required`;
  }
  const model = values.model.trim();
  if (model) {
    if (model.length > 200) errors.model = "Model must be at most 200 characters";
    else if (/\s/.test(model)) errors.model = "Model must be a model id without spaces (e.g. claude-sonnet-4-5)";
    else data.model = model;
  } else if (required) errors.model = "Model is required";
  if (values.permissionMode) {
    if ((PERMISSION_MODES as readonly string[]).includes(values.permissionMode)) {
      data.permissionMode = values.permissionMode as PermissionMode;
    } else errors.permissionMode = `Permission mode must be one of ${PERMISSION_MODES.join(", ")}`;
  }
  const env: Record<string, string> = {};
  const rowErrors: Record<number, string> = {};
  for (const row of values.env) {
    const key = row.key.trim();
    if (!key && !row.value) continue; // an empty row is ignored
    if (!key) rowErrors[row.id] = "Give this variable a name";
    else if (!ENV_KEY_RE.test(key)) {
      rowErrors[row.id] = "Names are letters, digits and _, and do not start with a digit";
    } else if (key in env) rowErrors[row.id] = `${key} is listed twice`;
    else if (row.value.length > 32_768) rowErrors[row.id] = "Values must be at most 32 KiB";
    else env[key] = row.value;
  }
  if (Object.keys(rowErrors).length) {
    errors.envRows = rowErrors;
    errors.env = "Fix the environment variables marked below";
  } else if (Object.keys(env).length > 200) errors.env = "At most 200 environment variables";
  data.env = env;
  const failed = Object.keys(errors).length > 0;
  return failed ? { ok: false, errors } : { ok: true, data };
}

/** Field errors the API reported for a bad input (zod on the server), by top-level field. */
export function apiFieldErrors(err: unknown): Record<string, string> | null {
  if (!(err instanceof TRPCClientError)) return null;
  const fieldErrors = (err.data as { fieldErrors?: Record<string, string[] | undefined> } | undefined)?.fieldErrors;
  if (!fieldErrors) return null;
  const out: Record<string, string> = {};
  for (const [key, messages] of Object.entries(fieldErrors)) if (messages?.[0]) out[key] = humanize(messages[0]);
  return Object.keys(out).length ? out : null;
}
