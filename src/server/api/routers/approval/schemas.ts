// approval.* input and output schemas (the views themselves are the contract's: src/contracts/approvals.ts).
import { z } from "zod";
import { approvalDecision, approvalRemember, approvalStatus, approvalStreamEvent, approvalView } from "../../../../contracts/approvals";
import { agentIdSchema } from "../../schemas/ids";

export const approvalIdSchema = z.uuid({ error: "approvalId must be an approval id (a UUID)" });

export const approvalListInput = z.object({
  agentId: agentIdSchema.optional(),
  status: approvalStatus.optional(),
  /** At most this many, newest first (default and maximum 200). */
  limit: z.number().int().min(1, "limit must be at least 1").max(200, "limit must be at most 200").optional(),
});
export const approvalListOutput = z.array(approvalView);

export const approvalGetInput = z.object({ approvalId: approvalIdSchema });

export const approvalDecideInput = z.object({
  approvalId: approvalIdSchema,
  decision: approvalDecision,
  /** Allow every call the approval's rule covers from now on, in this conversation or for the agent. */
  remember: approvalRemember.optional(),
  /** Shown to the model with a denial (or kept as a note with an allow). */
  message: z.string().trim().max(2000, "message must be at most 2000 characters").optional(),
});

export const approvalOnRequestInput = z.object({ agentId: agentIdSchema.optional() });

export { approvalView as approvalOutput, approvalStreamEvent };
