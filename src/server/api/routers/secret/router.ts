// secret.*: project secrets (project admins) and, under secret.agent.*, one agent's own secrets
// (update_env on that agent). Values are write-only: nothing here ever returns one. A change
// flags the containers made from the old values as needing a restart (restartRequired).
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
    .mutation(async ({ ctx, input }) => {
      const info = await ctx.services.secrets.set({ projectId: input.projectId }, input.name, input.value, ctx.user.id);
      await ctx.services.agents.secretsChanged(input.projectId);
      return info;
    }),

  delete: projectProcedure("admin")
    .input(secretDeleteInput)
    .output(secretDeleteOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.secrets.delete({ projectId: input.projectId }, input.name);
      await ctx.services.agents.secretsChanged(input.projectId);
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
      .mutation(async ({ ctx, input }) => {
        const info = await ctx.services.secrets.set({ projectId: input.projectId, agentId: input.agentId }, input.name, input.value, ctx.user.id);
        await ctx.services.agents.secretsChanged(input.projectId, input.agentId);
        return info;
      }),

    delete: agentProcedure("update_env")
      .input(secretDeleteInput)
      .output(secretDeleteOutput)
      .mutation(async ({ ctx, input }) => {
        await ctx.services.secrets.delete({ projectId: input.projectId, agentId: input.agentId }, input.name);
        await ctx.services.agents.secretsChanged(input.projectId, input.agentId);
        return { name: input.name, deleted: true as const };
      }),
  }),
});
