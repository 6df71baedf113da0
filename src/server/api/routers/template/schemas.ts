// template.* input and output schemas: the public contract of the template API, and the field
// rules that templates/*.yaml files are checked against too (src/server/domain/templates.ts).
// Resource limits, env, permission modes and the DNS-safe name rule come from the agent schemas,
// so a template can never hold a value an agent would refuse.
import { z } from "zod";
import { repositoryInput, repositoryView } from "../../../../contracts/git";
import { CLAUDE_CONFIG_DIR, WORKSPACE_DIR } from "../../../../contracts/armoryd";
import { toolPolicySchema } from "../../../../contracts/approvals";
import { placementSchema } from "../../../../contracts/placement";
import { projectIdSchema } from "../../schemas/ids";
import {
  AGENT_NAME_MAX,
  agentName,
  cpus,
  ENV_KEY_RE,
  envMap,
  memoryMb,
  PERMISSION_MODES,
  pidsLimit,
} from "../agent/schemas";
import { IMAGE_RE } from "../../schemas/image";

export { cpus, memoryMb, PERMISSION_MODES, pidsLimit };

/** The image value meaning "Armory's built agent image, current version" (resolved at agent creation). */
export const DEFAULT_IMAGE = "default";
export const TEMPLATE_NAME_MAX = AGENT_NAME_MAX;
export const TEMPLATE_SOURCES = ["file", "api"] as const;
/** Paths Armory always mounts into every agent container; template volumes may not take them over. */
export const RESERVED_MOUNT_PATHS = [WORKSPACE_DIR, CLAUDE_CONFIG_DIR] as const;

export const TEMPLATE_TEXT_LIMITS = {
  displayName: 100,
  description: 2_000,
  image: 255,
  model: 200,
  provider: 63,
  egressHost: 253,
  egressAllowlist: 100,
  instructions: 65_536,
  personality: 32_768,
  allowedTool: 200,
  allowedTools: 100,
  mountPath: 255,
  volumes: 10,
} as const;

/**
 * A DNS-safe name: the agent-name rule (same regex, same length limit), with messages that name
 * what is being named.
 */
function dnsSafeName(what: string, example: string) {
  return z
    .string({ error: `${what} is required` })
    .trim()
    .min(1, `${what} is required`)
    .max(AGENT_NAME_MAX, `${what} must be at most ${AGENT_NAME_MAX} characters`)
    .refine(
      // Length problems are reported above; this reports only the character rule.
      (v) => v.length === 0 || v.length > AGENT_NAME_MAX || agentName.safeParse(v).success,
      `${what} must be lower-case letters, digits and hyphens, start with a letter and not end with a hyphen (e.g. ${example})`,
    );
}

export const templateIdSchema = z.uuid({ error: "templateId must be a template id (a UUID)" });

export const templateName = dnsSafeName("Template name", "code-reviewer");

export const displayName = z
  .string({ error: "Display name must be text" })
  .trim()
  .min(1, "Display name cannot be empty")
  .max(TEMPLATE_TEXT_LIMITS.displayName, `Display name must be at most ${TEMPLATE_TEXT_LIMITS.displayName} characters`);

export const templateDescription = z
  .string({ error: "Description must be text" })
  .trim()
  .max(TEMPLATE_TEXT_LIMITS.description, `Description must be at most ${TEMPLATE_TEXT_LIMITS.description} characters`);


export const image = z
  .string({ error: "image is required" })
  .trim()
  .min(1, "image is required")
  .max(TEMPLATE_TEXT_LIMITS.image, `image must be at most ${TEMPLATE_TEXT_LIMITS.image} characters`)
  .refine(
    (v) => v === DEFAULT_IMAGE || IMAGE_RE.test(v),
    `image must be a Docker image reference such as ghcr.io/acme/agent:1.2, or "${DEFAULT_IMAGE}" for Armory's own agent image`,
  );

export const model = z
  .string({ error: "model is required" })
  .trim()
  .min(1, "model is required")
  .max(TEMPLATE_TEXT_LIMITS.model, `model must be at most ${TEMPLATE_TEXT_LIMITS.model} characters`)
  .regex(/^\S+$/, "model must be a model id without spaces (e.g. claude-sonnet-4-5)");

/**
 * The registered provider a template's agents use, by name (Admin → Providers); whether it exists
 * is checked by the domain. "armory" (or null) is Armory's own upstream.
 */
export const providerName = z
  .string({ error: "provider must be the name of a registered provider" })
  .trim()
  .min(1, "provider cannot be empty (leave it out, or null, for Armory's own upstream)")
  .max(TEMPLATE_TEXT_LIMITS.provider, `provider must be at most ${TEMPLATE_TEXT_LIMITS.provider} characters`)
  .regex(
    /^[a-z][a-z0-9-]*$/,
    "provider must be the name of a registered provider: lower-case letters, digits and hyphens (e.g. openrouter)",
  );

// api.github.com, *.example.com: DNS names only (no IPs, ports, schemes or paths).
const HOST_LABEL = "(?!-)[a-z0-9-]{1,63}(?<!-)";
const EGRESS_HOST_RE = new RegExp(`^(?:\\*\\.)?${HOST_LABEL}(?:\\.${HOST_LABEL})+$`);

export const egressHost = z
  .string({ error: "Each egress host must be text" })
  .trim()
  .toLowerCase()
  .min(1, "An egress host cannot be empty")
  .max(TEMPLATE_TEXT_LIMITS.egressHost, `An egress host must be at most ${TEMPLATE_TEXT_LIMITS.egressHost} characters`)
  .superRefine((h, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: "custom", message });
    if (h.includes(":") || /^\[/.test(h)) return fail(`${h} is not a host name: give no port, scheme or IPv6 address (e.g. api.github.com)`);
    if (/^[0-9.]+$/.test(h.replace(/^\*\./, ""))) return fail(`${h} is an IP address; the egress allowlist takes host names (e.g. api.github.com)`);
    if (!EGRESS_HOST_RE.test(h)) {
      return fail(`${h} is not a host name: use a name such as api.github.com, or *.example.com for every subdomain`);
    }
    if (/\.[0-9]+$/.test(h)) return fail(`${h} is not a host name (the last label cannot be a number)`);
  });

export const egressAllowlist = z
  .array(egressHost, { error: "egressAllowlist must be a list of host names" })
  .max(TEMPLATE_TEXT_LIMITS.egressAllowlist, `At most ${TEMPLATE_TEXT_LIMITS.egressAllowlist} egress hosts`)
  .superRefine((hosts, ctx) => {
    const seen = new Set<string>();
    hosts.forEach((host, i) => {
      if (seen.has(host)) ctx.addIssue({ code: "custom", path: [i], message: `egressAllowlist lists ${host} twice` });
      seen.add(host);
    });
  });

export const instructions = z
  .string({ error: "instructions must be text" })
  .max(TEMPLATE_TEXT_LIMITS.instructions, `instructions must be at most ${TEMPLATE_TEXT_LIMITS.instructions / 1024} KiB`);

export const personality = z
  .string({ error: "personality must be text" })
  .max(TEMPLATE_TEXT_LIMITS.personality, `personality must be at most ${TEMPLATE_TEXT_LIMITS.personality / 1024} KiB`);

export const permissionMode = z.enum(PERMISSION_MODES, {
  error: `permissionMode must be one of ${PERMISSION_MODES.join(", ")}`,
});

// Read, Bash, Bash(git diff:*), mcp__github__get_issue, WebFetch(domain:example.com)
const TOOL_RE = /^[A-Za-z][A-Za-z0-9_-]*(?:\(.+\))?$/;

export const allowedTool = z
  .string({ error: "Each allowed tool must be text" })
  .trim()
  .min(1, "An allowed tool cannot be empty")
  .max(TEMPLATE_TEXT_LIMITS.allowedTool, `An allowed tool must be at most ${TEMPLATE_TEXT_LIMITS.allowedTool} characters`)
  .regex(
    TOOL_RE,
    "Each allowed tool must be a tool name, optionally with a rule in parentheses (e.g. Read, Bash(git diff:*), mcp__github__get_issue)",
  );

export const allowedTools = z
  .array(allowedTool, { error: "allowedTools must be a list of tool names" })
  .max(TEMPLATE_TEXT_LIMITS.allowedTools, `At most ${TEMPLATE_TEXT_LIMITS.allowedTools} allowed tools`)
  .superRefine((tools, ctx) => {
    const seen = new Set<string>();
    tools.forEach((tool, i) => {
      if (seen.has(tool)) ctx.addIssue({ code: "custom", path: [i], message: `allowedTools lists ${tool} twice` });
      seen.add(tool);
    });
  });

function isWithin(child: string, parent: string): boolean {
  return child === parent || child.startsWith(`${parent}/`);
}

export const mountPath = z
  .string({ error: "Mount path is required" })
  .trim()
  .min(1, "Mount path is required")
  .max(TEMPLATE_TEXT_LIMITS.mountPath, `Mount path must be at most ${TEMPLATE_TEXT_LIMITS.mountPath} characters`)
  .superRefine((p, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: "custom", message });
    if (!p.startsWith("/")) return fail(`Mount path must be an absolute path such as /data (got ${p})`);
    if (!/^[A-Za-z0-9._/-]+$/.test(p)) return fail("Mount path may only contain letters, digits, ., _, - and /");
    if (p === "/") return fail("Mount path cannot be / (the whole file system)");
    const segments = p.slice(1).split("/");
    if (segments.some((s) => s === "" || s === "." || s === "..")) {
      return fail(`Mount path must be a plain absolute path without ., .. or empty parts (got ${p})`);
    }
    for (const reserved of RESERVED_MOUNT_PATHS) {
      if (p === reserved) return fail(`${p} is mounted by Armory for every agent; choose another mount path`);
      if (isWithin(reserved, p)) return fail(`Mount path ${p} would hide ${reserved}, which Armory mounts for every agent`);
    }
    if (["/proc", "/sys", "/dev"].some((sys) => isWithin(p, sys))) {
      return fail("Mount path cannot be inside /proc, /sys or /dev");
    }
  });

export const volumeMount = z.strictObject(
  { name: dnsSafeName("Volume name", "cache"), mountPath },
  { error: "Each volume must be { name, mountPath }" },
);

export const volumes = z
  .array(volumeMount, { error: "volumes must be a list of { name, mountPath }" })
  .max(TEMPLATE_TEXT_LIMITS.volumes, `At most ${TEMPLATE_TEXT_LIMITS.volumes} volumes`)
  .superRefine((list, ctx) => {
    const names = new Set<string>();
    const paths = new Set<string>();
    list.forEach((v, i) => {
      if (names.has(v.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `Volume name ${v.name} is used twice` });
      if (paths.has(v.mountPath)) {
        ctx.addIssue({ code: "custom", path: [i, "mountPath"], message: `Mount path ${v.mountPath} is used twice` });
      }
      names.add(v.name);
      paths.add(v.mountPath);
    });
  });

export type VolumeMount = z.output<typeof volumeMount>;

/**
 * The agent env rule, with a clear message for a bad variable name (the record's own key error
 * only says "Invalid key in record").
 */
export const templateEnv = z
  .record(z.string(), z.unknown(), { error: "env must be a map of NAME: value" })
  .superRefine((env, ctx) => {
    for (const key of Object.keys(env)) {
      if (!ENV_KEY_RE.test(key)) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `${key || "(empty)"} is not a valid environment variable name: use letters, digits and _, not starting with a digit`,
        });
      }
    }
  })
  .pipe(envMap);

/** Every template field but the name, as the API takes them (all optional here). */
const templateFieldsShape = {
  displayName: displayName.optional(),
  description: templateDescription.optional(),
  image: image.optional(),
  model: model.optional(),
  /** A registered provider's name; null (or "armory") is Armory's own upstream. */
  provider: providerName.nullable().optional(),
  egressAllowlist: egressAllowlist.optional(),
  /** A git repository its agents clone into /workspace; null: none. */
  repository: repositoryInput.nullable().optional(),
  memoryMb: memoryMb.optional(),
  cpus: cpus.optional(),
  pidsLimit: pidsLimit.optional(),
  env: templateEnv.optional(),
  instructions: instructions.optional(),
  personality: personality.optional(),
  permissionMode: permissionMode.optional(),
  allowedTools: allowedTools.optional(),
  /** Claude Code permission rules { allow, ask, deny } (ask: an approval first; deny: never). */
  toolPolicy: toolPolicySchema.optional(),
  volumes: volumes.optional(),
  /** Swarm placement constraints its agents add (ARMORY_RUNTIME=swarm only). */
  placement: placementSchema.optional(),
};

/** Fields a new template must have unless it copies another (copyFrom). */
export const REQUIRED_WITHOUT_COPY = ["model", "memoryMb", "cpus", "pidsLimit"] as const;

export const templateListInput = z.object({ projectId: projectIdSchema });
export const templateGetInput = z.object({ templateId: templateIdSchema });

export const templateCreateInput = z
  .object({
    /** A built-in or project template to start from; the other fields are applied over it. */
    copyFrom: z.uuid({ error: "copyFrom must be a template id (a UUID)" }).optional(),
    name: templateName,
    ...templateFieldsShape,
  })
  .superRefine((v, ctx) => {
    if (v.copyFrom) return;
    for (const field of REQUIRED_WITHOUT_COPY) {
      if (v[field] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `${field} is required for a new template (or copy an existing one with copyFrom)`,
        });
      }
    }
  });
export type TemplateCreateInput = z.output<typeof templateCreateInput>;

export const templateUpdateInput = z
  .object({ templateId: templateIdSchema, name: templateName.optional(), ...templateFieldsShape })
  .refine(
    (v) => Object.entries(v).some(([key, value]) => key !== "templateId" && value !== undefined),
    "Nothing to update: give at least one field to change",
  );
export type TemplateUpdateInput = z.output<typeof templateUpdateInput>;
export type TemplatePatch = Omit<TemplateUpdateInput, "templateId">;

export const templateOutput = z.object({
  id: z.string(),
  /** null for built-in templates. */
  projectId: z.string().nullable(),
  /** Built-in templates come from templates/*.yaml and are read-only through the API. */
  builtIn: z.boolean(),
  name: z.string(),
  displayName: z.string(),
  description: z.string(),
  /** A Docker image reference, or "default" for Armory's agent image (current version). */
  image: z.string(),
  model: z.string(),
  /** The registered provider's name (Admin → Providers); null: Armory's own upstream (or the demo model). */
  provider: z.string().nullable(),
  memoryMb: z.number(),
  cpus: z.number(),
  pidsLimit: z.number(),
  env: z.record(z.string(), z.string()),
  instructions: z.string(),
  personality: z.string(),
  permissionMode: z.enum(PERMISSION_MODES),
  allowedTools: z.array(z.string()),
  /** Claude Code permission rules: `allow` runs without asking, `ask` raises an approval, `deny` never runs. */
  toolPolicy: toolPolicySchema,
  volumes: z.array(z.object({ name: z.string(), mountPath: z.string() })),
  /** Host names (exact, or *.suffix) the agents may reach through the egress proxy; empty: none. */
  egressAllowlist: z.array(z.string()),
  /** Swarm placement constraints its agents add to ARMORY_SWARM_CONSTRAINTS (applied only with ARMORY_RUNTIME=swarm). */
  placement: z.object({ constraints: z.array(z.string()) }),
  repository: repositoryView.pick({ url: true, branch: true, credentialSecret: true }).extend({ branch: z.string().optional(), credentialSecret: z.string().optional(), credentialUser: z.string().optional(), knownHosts: z.string().optional() }).nullable(),
  source: z.enum(TEMPLATE_SOURCES),
  /** The YAML file a built-in template was synced from. */
  sourceFile: z.string().nullable(),
  sourceHash: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type TemplateView = z.infer<typeof templateOutput>;

export const templateListOutput = z.array(templateOutput);
