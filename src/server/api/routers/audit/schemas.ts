import { z } from "zod";

export const auditListInput = z.object({
  /** Caller: email (or part of it), user id, token id or token prefix. */
  caller: z.string().trim().max(200).optional(),
  /** Target: agent id or agent name. */
  target: z.string().trim().max(200).optional(),
  /** Action: a procedure path (agent.stop) or a prefix ending in a dot (agent.). */
  action: z.string().trim().max(200).optional(),
  allowed: z.boolean().optional(),
  from: z.coerce.date({ error: "from must be a date" }).optional(),
  to: z.coerce.date({ error: "to must be a date" }).optional(),
  cursor: z.uuid({ error: "cursor must be an audit entry id" }).optional(),
  limit: z.number().int().min(1).max(200).default(50),
});

export const auditEntryOutput = z.object({
  id: z.string(),
  at: z.date(),
  userId: z.string().nullable(),
  userEmail: z.string().nullable(),
  tokenId: z.string().nullable(),
  tokenPrefix: z.string().nullable(),
  action: z.string(),
  type: z.string(),
  permission: z.string().nullable(),
  projectId: z.string().nullable(),
  agentId: z.string().nullable(),
  agentName: z.string().nullable(),
  filePath: z.string().nullable(),
  image: z.string().nullable(),
  allowed: z.boolean(),
  reason: z.string(),
  grantId: z.string().nullable(),
  outcome: z.string(),
  requestId: z.string(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  input: z.unknown(),
});

export const auditListOutput = z.object({ items: z.array(auditEntryOutput), nextCursor: z.string().nullable() });
