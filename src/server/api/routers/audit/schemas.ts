import { z } from "zod";

export const auditListInput = z.object({
  /** Caller: email (or part of it), user id, token id or token prefix. */
  caller: z.string().trim().max(200).optional(),
  /** Target: agent id or agent name. */
  target: z.string().trim().max(200).optional(),
  /** Action: a procedure path (agent.stop) or a prefix ending in a dot (agent.). */
  action: z.string().trim().max(200).optional(),
  allowed: z.boolean().optional(),
  /**
   * `changes` (the default): mutations and every refused call; `reads`: allowed queries and
   * subscriptions; `all`: both.
   */
  show: z.enum(["changes", "reads", "all"], { error: "show must be changes, reads or all" }).default("changes"),
  /** Fold repeated reads by the same caller of the same agent into one row with a count (default). */
  fold: z.boolean().default(true),
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
  /** How many entries this row stands for: 1, or the size of a run of folded reads. */
  count: z.number().int().min(1),
  /** The earliest of them (`at` is the latest). */
  firstAt: z.date(),
  /** The procedures among them, most frequent first. */
  actions: z.array(z.string()),
});

export const auditListOutput = z.object({ items: z.array(auditEntryOutput), nextCursor: z.string().nullable() });
