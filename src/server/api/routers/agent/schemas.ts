// agent.* input and output schemas: the public contract of the agent API.
import { z } from "zod";
import { repositoryInput, repositoryView } from "../../../../contracts/git";
import { approvalTimeoutSchema, toolPolicySchema } from "../../../../contracts/approvals";
import { agentIdSchema, projectIdSchema } from "../../schemas/ids";
import { IMAGE_RE } from "../../schemas/image";

export const AGENT_NAME_MAX = 40;
export const LIMITS = {
  memoryMb: { min: 128, max: 65_536 },
  cpus: { min: 0.1, max: 64 },
  pidsLimit: { min: 32, max: 32_768 },
} as const;
export const PERMISSION_MODES = ["default", "acceptEdits", "plan", "bypassPermissions"] as const;
export const DESIRED_STATES = ["running", "stopped"] as const;
export const OBSERVED_STATES = [
  "creating",
  "created",
  "running",
  "restarting",
  "paused",
  "exited",
  "dead",
  "removing",
  "missing",
  "unknown",
] as const;

export { agentIdSchema };

/** DNS-safe: lower-case letters, digits and hyphens, starting with a letter, not ending with a hyphen. */
export const agentName = z
  .string({ error: "Agent name is required" })
  .trim()
  .min(1, "Agent name is required")
  .max(AGENT_NAME_MAX, `Agent name must be at most ${AGENT_NAME_MAX} characters`)
  .regex(
    /^[a-z]([a-z0-9-]*[a-z0-9])?$/,
    "Agent name must be lower-case letters, digits and hyphens, start with a letter and not end with a hyphen (e.g. code-reviewer-2)",
  );

export const memoryMb = z
  .number({ error: "memoryMb must be a number of megabytes" })
  .int("memoryMb must be a whole number of megabytes")
  .min(LIMITS.memoryMb.min, `memoryMb must be at least ${LIMITS.memoryMb.min} MB`)
  .max(LIMITS.memoryMb.max, `memoryMb must be at most ${LIMITS.memoryMb.max} MB`);
export const cpus = z
  .number({ error: "cpus must be a number" })
  .min(LIMITS.cpus.min, `cpus must be at least ${LIMITS.cpus.min}`)
  .max(LIMITS.cpus.max, `cpus must be at most ${LIMITS.cpus.max}`);
export const pidsLimit = z
  .number({ error: "pidsLimit must be a number" })
  .int("pidsLimit must be a whole number")
  .min(LIMITS.pidsLimit.min, `pidsLimit must be at least ${LIMITS.pidsLimit.min}`)
  .max(LIMITS.pidsLimit.max, `pidsLimit must be at most ${LIMITS.pidsLimit.max}`);

export const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const envMap = z
  .record(z.string().max(256, "Environment variable names must be at most 256 characters"), z.string().max(32_768, "Environment values must be at most 32 KiB"))
  .superRefine((m, ctx) => {
    const keys = Object.keys(m);
    if (keys.length > 200) ctx.addIssue({ code: "custom", message: "At most 200 environment variables" });
    for (const key of keys) {
      if (!ENV_KEY_RE.test(key)) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `Environment variable names must be letters, digits and _ and not start with a digit ("${key.slice(0, 64)}" is not)`,
        });
      }
    }
  });

export const agentOverrides = z.object({
  memoryMb: memoryMb.optional(),
  cpus: cpus.optional(),
  pidsLimit: pidsLimit.optional(),
  env: envMap.optional(),
  model: z.string().trim().min(1).max(200).optional(),
  permissionMode: z.enum(PERMISSION_MODES).optional(),
  /** The agent's own tool policy (Claude Code permission rules); null: its template's. Applies from the next turn. */
  toolPolicy: toolPolicySchema.nullable().optional(),
  /** Seconds a turn waits for an approval before denying it; null: the default (600). */
  approvalTimeoutSec: approvalTimeoutSchema.nullable().optional(),
});

export const agentCreateInput = z.object({
  templateId: z.uuid({ error: "templateId must be a template id (a UUID)" }),
  name: agentName,
  overrides: agentOverrides.optional(),
  /** Start the container right after creating it. */
  start: z.boolean().optional(),
  /** A git repository cloned into /workspace once the container runs (src/server/git). */
  repository: repositoryInput.optional(),
});

export const agentRef = z.object({ agentId: agentIdSchema });
export const agentUpdateInput = agentOverrides.extend({
  agentId: agentIdSchema,
  /** A new image for the agent (applies when the container is next re-created); needs update_image and an allowed image. */
  image: z
    .string()
    .trim()
    .max(500, "image must be at most 500 characters")
    .regex(IMAGE_RE, "image must be a Docker image reference such as armory-agent:1.2")
    .optional(),
});
export const agentRemoveInput = z.object({
  agentId: agentIdSchema,
  /** Keep the agent's /workspace and session volumes (they can be reattached by re-creating the agent). */
  keepVolumes: z.boolean({ error: "Say whether to keep the agent's volumes (keepVolumes: true or false)" }),
});
export const agentOnStatusInput = z.object({ projectId: projectIdSchema, agentId: agentIdSchema.optional() });

export const agentOutput = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  templateId: z.string(),
  templateName: z.string(),
  image: z.string(),
  /** The image tag: the agent's version. */
  version: z.string(),
  model: z.string(),
  memoryMb: z.number(),
  cpus: z.number(),
  pidsLimit: z.number(),
  env: z.record(z.string(), z.string()),
  permissionMode: z.string(),
  /** The agent's own tool policy; null: it uses its template's (effectiveToolPolicy). */
  toolPolicy: toolPolicySchema.nullable(),
  /** The policy its turns run with: its own, else its template's. */
  effectiveToolPolicy: toolPolicySchema,
  /** Seconds a turn waits for an approval before it is denied (the agent's setting, else the default). */
  approvalTimeoutSec: z.number(),
  /** Whether approvalTimeoutSec is the agent's own setting (false: the default). */
  approvalTimeoutCustom: z.boolean(),
  desiredState: z.enum(DESIRED_STATES),
  observedState: z.enum(OBSERVED_STATES),
  statusDetail: z.string().nullable(),
  exitCode: z.number().nullable(),
  oomKilled: z.boolean(),
  containerId: z.string().nullable(),
  /** The agent's config changed in a way only a re-created container applies (on next start/restart). */
  restartRequired: z.boolean(),
  /**
   * Which changes need that re-create: image, env, model, permissionMode, secrets, layout (a newer
   * Armory makes containers differently), config (made by an older Armory with other settings).
   */
  restartReasons: z.array(z.enum(["image", "env", "model", "permissionMode", "secrets", "layout", "config"])),
  /**
   * The agent's daemon (armoryd, in its container) and its connection to Armory: chat, files,
   * config reloads and the terminal need it connected. `since`: when it connected or disconnected
   * (null: not seen since Armory started).
   */
  daemon: z.object({ state: z.enum(["connected", "disconnected"]), since: z.date().nullable(), agentVersion: z.string().nullable() }),
  /** When the agent was last sent a chat message (null: never). */
  lastMessageAt: z.date().nullable(),
  /** The agent's repository workspace and its clone's progress; null: none. */
  repository: repositoryView.nullable(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
  observedAt: z.date().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type AgentView = z.infer<typeof agentOutput>;

export const AGENT_PAGE_MAX = 1000;
/** agent.list, optionally paged by name: without `limit` the whole project comes back, as before. */
export const agentListInput = z.object({
  projectId: projectIdSchema,
  /** At most this many agents (1..1000). */
  limit: z.number().int().min(1).max(AGENT_PAGE_MAX).optional(),
  /** The name of the last agent of the previous page: the page starts after it. */
  cursor: z.string().min(1).max(AGENT_NAME_MAX).optional(),
});
export const agentListOutput = z.array(agentOutput);
export const agentRemoveOutput = z.object({ id: z.string(), removed: z.literal(true), volumesKept: z.boolean() });

export const engineState = z.object({
  state: z.enum(["up", "down"]),
  message: z.string().nullable(),
  since: z.date(),
});
export type EngineState = z.infer<typeof engineState>;

/** What agent.onStatus yields. The first event is always the engine state, then agents as they change. */
export const agentStatusEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("engine"), engine: engineState }),
  z.object({ type: z.literal("agent"), agent: agentOutput }),
  z.object({ type: z.literal("removed"), agentId: z.string(), projectId: z.string() }),
]);
export type AgentStatusEvent = z.infer<typeof agentStatusEvent>;
