import { z } from "zod";

export const securityLogInput = z.object({
  /** A client address (exact). */
  ip: z.string().trim().max(100).optional(),
  /** A procedure path or its prefix ("agent." for every agent procedure). */
  action: z.string().trim().max(200).optional(),
  /** The id of the last entry of the previous page. */
  cursor: z.uuid({ error: "cursor must be a security log entry id" }).optional(),
  limit: z.number().int().min(1).max(200).default(50),
});

export const securityEventOutput = z.object({
  id: z.string(),
  at: z.date(),
  action: z.string(),
  reason: z.string(),
  outcome: z.string(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string(),
  input: z.unknown(),
});

export const securityLogOutput = z.object({ items: z.array(securityEventOutput), nextCursor: z.string().nullable() });
