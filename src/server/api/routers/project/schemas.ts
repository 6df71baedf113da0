import { z } from "zod";
import { PROJECT_ROLES } from "../../../domain/roles";

export const PROJECT_NAME_MAX = 100;
export const PROJECT_DESCRIPTION_MAX = 2000;

export const projectName = z
  .string({ error: "Project name is required" })
  .trim()
  .min(1, "Project name is required")
  .max(PROJECT_NAME_MAX, `Project name must be at most ${PROJECT_NAME_MAX} characters`);

export const projectDescription = z
  .string()
  .trim()
  .max(PROJECT_DESCRIPTION_MAX, `Description must be at most ${PROJECT_DESCRIPTION_MAX} characters`);

export const projectCreateInput = z.object({
  name: projectName,
  description: projectDescription.optional(),
});

export const projectUpdateInput = z
  .object({ name: projectName.optional(), description: projectDescription.optional() })
  .refine((v) => v.name !== undefined || v.description !== undefined, "Nothing to update: give a name or a description");

export const projectOutput = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  role: z.enum(PROJECT_ROLES),
  memberCount: z.number().int(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

export const projectListOutput = z.array(projectOutput);
export const projectDeleteOutput = z.object({ id: z.string(), deleted: z.literal(true) });

export const memberOutput = z.object({
  userId: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.enum(PROJECT_ROLES),
  joinedAt: z.date(),
});
const memberRole = z.enum(PROJECT_ROLES, { error: `role is one of ${PROJECT_ROLES.join(", ")}` });
const memberUserId = z.string().trim().min(1, "userId is required").max(200);
export const memberAddInput = z.object({ email: z.email({ error: "Enter the email address of an Armory user" }).max(320), role: memberRole });
export const memberUpdateRoleInput = z.object({ userId: memberUserId, role: memberRole });
export const memberRemoveInput = z.object({ userId: memberUserId });
