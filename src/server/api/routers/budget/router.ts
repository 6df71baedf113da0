// budget.*: monthly cost and token limits of a project and of its agents, enforced by the model
// gateway. Members read them; project admins and owners set them (audited like every mutation).
import { projectProcedure } from "../../middleware/project-access";
import { router } from "../../trpc";
import { budgetGetInput, budgetOutput, budgetSetInput } from "./schemas";

export const budgetRouter = router({
  get: projectProcedure("viewer")
    .input(budgetGetInput)
    .output(budgetOutput)
    .query(({ ctx, input }) => ctx.services.usage.getBudget(input.projectId, input.agentId)),

  set: projectProcedure("admin")
    .input(budgetSetInput)
    .output(budgetOutput)
    .mutation(({ ctx, input }) =>
      ctx.services.usage.setBudget(input.projectId, input.agentId, { monthlyCostUsd: input.monthlyCostUsd, monthlyTokens: input.monthlyTokens }, ctx.user.id),
    ),
});
