// budget.* schemas: monthly limits (UTC calendar month) of a project or one of its agents.
import { z } from "zod";
import { agentIdSchema } from "../../schemas/ids";

/** Highest limits accepted (beyond any real month; keeps numbers exact). */
export const MAX_MONTHLY_COST_USD = 1_000_000_000;
export const MAX_MONTHLY_TOKENS = 1_000_000_000_000_000;

export const budgetGetInput = z.object({ agentId: agentIdSchema.optional() });

export const budgetSetInput = z.object({
  agentId: agentIdSchema.optional(),
  /** USD per UTC month; null: no cost limit. */
  monthlyCostUsd: z
    .number({ error: "monthlyCostUsd must be a number of dollars or null" })
    .finite("monthlyCostUsd must be a finite number")
    .min(0, "monthlyCostUsd must be 0 or more")
    .max(MAX_MONTHLY_COST_USD, `monthlyCostUsd must be at most ${MAX_MONTHLY_COST_USD}`)
    .nullable(),
  /** Input (uncached, cache reads and writes) plus output tokens per UTC month; null: no token limit. */
  monthlyTokens: z
    .number({ error: "monthlyTokens must be a whole number of tokens or null" })
    .int("monthlyTokens must be a whole number")
    .min(0, "monthlyTokens must be 0 or more")
    .max(MAX_MONTHLY_TOKENS, `monthlyTokens must be at most ${MAX_MONTHLY_TOKENS}`)
    .nullable(),
});

export const budgetLimits = z.object({ monthlyCostUsd: z.number().nullable(), monthlyTokens: z.number().nullable() });

export const budgetOutput = budgetLimits.extend({
  projectId: z.string(),
  agentId: z.string().nullable(),
  month: z.string(),
  used: z.object({ costUsd: z.number(), tokens: z.number() }),
});
export type BudgetOutput = z.infer<typeof budgetOutput>;
