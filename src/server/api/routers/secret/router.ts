// secret.*: project secrets (project admins) and, under secret.agent.*, one agent's own secrets
// (update_env on that agent). Values are write-only: nothing here ever returns one.
import { agentProcedure } from "../../middleware/agent-access";
import { projectProcedure } from "../../middleware/project-access";
import { router } from "../../trpc";
import { secretDeleteInput, secretDeleteOutput, secretInfo, secretListOutput, secretSetInput } from "./schemas";

export const secretRouter = router({
  list: projectProcedure("admin")
    .output(secretListOutput)
    .query(({ ctx, input }) => ctx.services.secrets.list({ projectId: input.projectId })),

  set: projectProcedure("admin")
    .input(secretSetInput)
    .output(secretInfo)
    .mutation(({ ctx, input }) => ctx.services.secrets.set({ projectId: input.projectId }, input.name, input.value, ctx.user.id)),

  delete: projectProcedure("admin")
    .input(secretDeleteInput)
    .output(secretDeleteOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.secrets.delete({ projectId: input.projectId }, input.name);
      return { name: input.name, deleted: true as const };
    }),

  /** One agent's own secrets (they override project secrets of the same name in its container). */
  agent: router({
    list: agentProcedure("update_env")
      .output(secretListOutput)
      .query(({ ctx, input }) => ctx.services.secrets.list({ projectId: input.projectId, agentId: input.agentId })),

    set: agentProcedure("update_env")
      .input(secretSetInput)
      .output(secretInfo)
      .mutation(({ ctx, input }) =>
        ctx.services.secrets.set({ projectId: input.projectId, agentId: input.agentId }, input.name, input.value, ctx.user.id),
      ),

    delete: agentProcedure("update_env")
      .input(secretDeleteInput)
      .output(secretDeleteOutput)
      .mutation(async ({ ctx, input }) => {
        await ctx.services.secrets.delete({ projectId: input.projectId, agentId: input.agentId }, input.name);
        return { name: input.name, deleted: true as const };
      }),
  }),
});
