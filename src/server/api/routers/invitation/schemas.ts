import { z } from "zod";
import { PROJECT_ROLES } from "../../../domain/roles";
import { INVITATION_DEFAULT_DAYS, INVITATION_MAX_DAYS } from "../../../instance/invitations";

export const invitationTokenSchema = z
  .string({ error: "token is required" })
  .trim()
  .min(1, "token is required")
  .max(200, "token must be at most 200 characters");

export const invitationCreateInput = z.object({
  role: z.enum(PROJECT_ROLES, { error: "role must be owner, admin, operator or viewer" }),
  /** Only this address may use it; absent: whoever has the link. */
  email: z
    .email({ error: "email must be an email address" })
    .max(320, "email must be at most 320 characters")
    .nullable()
    .optional()
    .or(z.literal("").transform(() => null)),
  expiresInDays: z
    .number({ error: "expiresInDays must be a number of days" })
    .int("expiresInDays must be a whole number of days")
    .min(1, "expiresInDays must be at least 1")
    .max(INVITATION_MAX_DAYS, `expiresInDays must be at most ${INVITATION_MAX_DAYS}`)
    .default(INVITATION_DEFAULT_DAYS),
});

export const invitationRefInput = z.object({ invitationId: z.uuid({ error: "invitationId must be an invitation id (a UUID)" }) });
export const invitationTokenInput = z.object({ token: invitationTokenSchema });

const person = z.object({ name: z.string(), email: z.string() }).nullable();

export const invitationOutput = z.object({
  id: z.string(),
  projectId: z.string(),
  role: z.enum(PROJECT_ROLES),
  email: z.string().nullable(),
  createdBy: person,
  expiresAt: z.date(),
  usedAt: z.date().nullable(),
  usedBy: person,
  revokedAt: z.date().nullable(),
  createdAt: z.date(),
  state: z.enum(["pending", "used", "expired", "revoked"]),
});

/** The secret appears here once and never again. */
export const invitationSecretOutput = z.object({
  token: z.string(),
  /** Path of the sign-up page with the token (prefix it with Armory's URL). */
  link: z.string(),
  invitation: invitationOutput,
});

export const invitationPreviewOutput = z.discriminatedUnion("valid", [
  z.object({
    valid: z.literal(true),
    projectName: z.string(),
    role: z.enum(PROJECT_ROLES),
    expiresAt: z.date(),
    emailRestricted: z.boolean(),
  }),
  z.object({ valid: z.literal(false), message: z.string() }),
]);

export const invitationAcceptOutput = z.object({ projectId: z.string(), projectName: z.string(), role: z.enum(PROJECT_ROLES) });
