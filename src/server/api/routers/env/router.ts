// env.*: the agent's environment (secret values masked) and changes to it, applied by the same
// safe re-create as an image update (a change that breaks the agent rolls back).
import { agentProcedure } from "../../middleware/agent-access";
import { router } from "../../trpc";
import { agentEnvView } from "../../../versions/env-view";
import { envGetOutput, envPatchInput, envPatchOutput } from "./schemas";

export const envRouter = router({
  get: agentProcedure("inspect")
    .output(envGetOutput)
    .query(async ({ ctx, input }) => ({ entries: await agentEnvView(ctx.services, input.projectId, input.agentId) })),

  patch: agentProcedure("update_env")
    .input(envPatchInput)
    .output(envPatchOutput)
    .mutation(async ({ ctx, input }) => {
      const update = await ctx.services.rollouts.patchEnv({
        projectId: input.projectId,
        agentId: input.agentId,
        patch: { set: input.set, unset: input.unset },
        actor: { userId: ctx.user.id, name: ctx.user.name || ctx.user.email },
      });
      return { update, entries: await agentEnvView(ctx.services, input.projectId, input.agentId) };
    }),
});
