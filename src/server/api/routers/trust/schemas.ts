import { z } from "zod";
import { AGENT_PERMISSIONS } from "../../../domain/agent-permissions";
import { PROJECT_ROLES } from "../../../domain/roles";
import { GRANT_FLAGS, TRUST_CALLER_TYPES, TRUST_TARGET_TYPES } from "../../../trust/grants";
import { agentIdSchema } from "../../schemas/ids";

export const grantIdSchema = z.uuid({ error: "grantId must be a grant id (a UUID)" });

const glob = z.string().trim().min(1, "Globs cannot be empty").max(500, "Globs must be at most 500 characters");
const globList = z.array(glob).max(100, "At most 100 globs");

const permissions = z.object(Object.fromEntries(GRANT_FLAGS.map((f) => [f, z.boolean().optional()])) as Record<(typeof GRANT_FLAGS)[number], z.ZodOptional<z.ZodBoolean>>);

const grantFields = {
  permissions: permissions.optional(),
  fileReadPaths: globList.optional(),
  fileWritePaths: globList.optional(),
  allowedImages: globList.optional(),
  expiresAt: z.coerce.date({ error: "expiresAt must be a date" }).nullable().optional(),
  description: z.string().trim().max(500, "Description must be at most 500 characters").optional(),
};

export const grantCreateInput = z
  .object({
    callerType: z.enum(TRUST_CALLER_TYPES, { error: "callerType is user, token or role" }),
    callerId: z.string().trim().min(1, "callerId is required").max(200),
    targetType: z.enum(TRUST_TARGET_TYPES, { error: "targetType is agent, agent_glob or project" }),
    target: z.string().trim().min(1, "target is required").max(500),
    ...grantFields,
  })
  .superRefine((v, ctx) => {
    if (v.callerType === "role" && !(PROJECT_ROLES as readonly string[]).includes(v.callerId)) {
      ctx.addIssue({ code: "custom", path: ["callerId"], message: `callerId: a role caller is one of ${PROJECT_ROLES.join(", ")}` });
    }
    if (v.callerType === "token" && !z.uuid().safeParse(v.callerId).success) {
      ctx.addIssue({ code: "custom", path: ["callerId"], message: "callerId must be a token id (a UUID)" });
    }
  });

export const grantUpdateInput = z.object({ grantId: grantIdSchema, ...grantFields });
export const grantRefInput = z.object({ grantId: grantIdSchema });

export const grantOutput = z.object({
  id: z.string(),
  projectId: z.string(),
  callerType: z.enum(TRUST_CALLER_TYPES),
  callerId: z.string(),
  targetType: z.enum(TRUST_TARGET_TYPES),
  target: z.string(),
  permissions: z.record(z.enum(GRANT_FLAGS), z.boolean()),
  fileReadPaths: z.array(z.string()),
  fileWritePaths: z.array(z.string()),
  allowedImages: z.array(z.string()),
  expiresAt: z.date().nullable(),
  expired: z.boolean(),
  description: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

export const trustCheckInput = z.object({
  agentId: agentIdSchema,
  permission: z.enum(AGENT_PERMISSIONS, { error: `permission is one of ${AGENT_PERMISSIONS.join(", ")}` }),
  /** Whose access to check; absent: yours. Checking someone else needs the admin role. */
  caller: z
    .object({ type: z.enum(TRUST_CALLER_TYPES), id: z.string().trim().min(1).max(200) })
    .optional(),
  /** For file_read / file_write: the path to check against the grants' path globs. */
  path: z.string().max(4096).optional(),
  /** For update_image: the image to check against the grants' allowed images. */
  image: z.string().max(500).optional(),
});

export const trustCheckOutput = z.object({
  allowed: z.boolean(),
  reason: z.string(),
  role: z.enum(PROJECT_ROLES).nullable(),
  grant: grantOutput.nullable(),
});
