import { z } from "zod";
import { PROJECT_ROLES } from "../../../domain/roles";

export const userIdInput = z.object({ userId: z.string({ error: "userId is required" }).trim().min(1, "userId is required").max(100, "userId is too long") });
export const setAdminInput = userIdInput.extend({ isAdmin: z.boolean({ error: "isAdmin must be true or false" }) });

export const instanceUserOutput = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  isAdmin: z.boolean(),
  disabledAt: z.date().nullable(),
  createdAt: z.date(),
  lastSeenAt: z.date().nullable(),
  projects: z.array(z.object({ projectId: z.string(), name: z.string(), role: z.enum(PROJECT_ROLES) })),
  activeSessions: z.number().int(),
  activeTokens: z.number().int(),
});

export const sessionsRevokedOutput = z.object({ userId: z.string(), sessionsRevoked: z.number().int() });
export const userChangedOutput = z.object({ userId: z.string(), ok: z.literal(true) });
