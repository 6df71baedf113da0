import { z } from "zod";
import { TOKEN_SCOPES } from "../../../trust/tokens";
import { projectIdSchema } from "../../schemas/ids";

export const tokenIdSchema = z.uuid({ error: "tokenId must be a token id (a UUID)" });

export const tokenCreateInput = z.object({
  name: z.string({ error: "Token name is required" }).trim().min(1, "Token name is required").max(100, "Token name must be at most 100 characters"),
  scopes: z
    .array(z.enum(TOKEN_SCOPES, { error: "scopes: each scope is read or write" }))
    .min(1, "Pick at least one scope (read, write)")
    .max(10, "At most 10 scopes"),
  /** Limit the token to these projects; empty or absent: every project you are a member of. */
  projectIds: z.array(projectIdSchema).max(100).optional(),
  /** When the token stops working; absent: never. */
  expiresAt: z.coerce.date({ error: "expiresAt must be a date" }).nullable().optional(),
});

export const tokenRefInput = z.object({ tokenId: tokenIdSchema });

export const tokenSummaryOutput = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.enum(TOKEN_SCOPES)),
  projectIds: z.array(z.string()),
  expiresAt: z.date().nullable(),
  lastUsedAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
  rotatedAt: z.date().nullable(),
  createdAt: z.date(),
  state: z.enum(["active", "expired", "revoked"]),
});

/** The secret appears here once and never again. */
export const tokenSecretOutput = z.object({ token: z.string(), summary: tokenSummaryOutput });
