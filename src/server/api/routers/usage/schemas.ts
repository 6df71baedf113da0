// usage.* schemas: model usage through the gateway by UTC day, agent and model.
import { z } from "zod";
import { budgetLimits } from "../budget/schemas";

const utcDate = (field: string) =>
  z
    .string({ error: `${field} must be a date (YYYY-MM-DD)` })
    .length(10, `${field} must be a date (YYYY-MM-DD)`)
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${field} must be a date (YYYY-MM-DD)`)
    .transform((s, ctx) => {
      const d = new Date(`${s}T00:00:00Z`);
      if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== s) {
        ctx.addIssue({ code: "custom", message: `${field} is not a calendar date` });
        return z.NEVER;
      }
      return d;
    });

export const usageSummaryInput = z.object({
  /** First UTC day (inclusive); default: the first of this month. */
  from: utcDate("from").optional(),
  /** Last UTC day (inclusive); default: today. */
  to: utcDate("to").optional(),
});

const totals = {
  requests: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadTokens: z.number(),
  cacheCreationTokens: z.number(),
  tokens: z.number(),
  costUsd: z.number(),
};

export const usageSummaryOutput = z.object({
  from: z.string(),
  to: z.string(),
  totals: z.object(totals),
  days: z.array(z.object({ day: z.string(), ...totals })),
  agents: z.array(
    z.object({
      agentId: z.string(),
      agentName: z.string(),
      deleted: z.boolean(),
      priceUnknown: z.boolean(),
      budget: budgetLimits,
      month: z.object({ costUsd: z.number(), tokens: z.number() }),
      ...totals,
    }),
  ),
  models: z.array(z.object({ model: z.string(), priceKnown: z.boolean(), ...totals })),
  month: z.object({ month: z.string(), costUsd: z.number(), tokens: z.number(), budget: budgetLimits }),
});
export type UsageSummaryOutput = z.infer<typeof usageSummaryOutput>;

/** usage.onChange: a project's usage or budgets changed (the page refetches). */
export const usageChange = z.object({
  projectId: z.string(),
  agentId: z.string(),
  kind: z.enum(["usage", "budget"]),
  at: z.date(),
});
