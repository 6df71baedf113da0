// usage.*: what a project's agents used through the model gateway (tokens, cost at list prices,
// requests) by day, agent and model, and this month against the budgets. Any member reads it.
import type { UsageChange } from "../../../gateway/budgets";
import { projectProcedure } from "../../middleware/project-access";
import { router } from "../../trpc";
import { usageChange, usageSummaryInput, usageSummaryOutput } from "./schemas";
import { streamOf } from "../../stream-output";

export const usageRouter = router({
  summary: projectProcedure("viewer")
    .input(usageSummaryInput)
    .output(usageSummaryOutput)
    .query(({ ctx, input }) => ctx.services.usage.summary(input.projectId, { from: input.from, to: input.to })),

  /** An event each time the gateway records a request of the project's agents or a budget is set (the page refetches). */
  onChange: projectProcedure("viewer")
    .output(streamOf(usageChange))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<UsageChange> {
    yield* ctx.services.usage.changes(input.projectId, signal);
  }),
});
