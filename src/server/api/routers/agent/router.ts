import { getTemplate } from "../../../domain/templates";
import { agentProcedure, authorizeAgentImage } from "../../middleware/agent-access";
import { projectProcedure } from "../../middleware/project-access";
import { router } from "../../trpc";
import {
  agentCreateInput,
  agentListInput,
  agentListOutput,
  agentOutput,
  agentRef,
  agentRemoveInput,
  agentRemoveOutput,
  agentStatusEvent,
  type AgentStatusEvent,
  agentUpdateInput,
} from "./schemas";
import { z } from "zod";
import { streamOf } from "../../stream-output";

// Project-wide procedures check the project role; agent-targeted ones name the agent permission
// they need (agentProcedure), decided by the agent-access middleware.
export const agentRouter = router({
  /** The project's agents by name; `limit` and `cursor` page it (a dashboard of 1,000 agents asks a page at a time). */
  list: projectProcedure("viewer")
    .input(agentListInput)
    .output(agentListOutput)
    .query(({ ctx, input }) => ctx.services.agents.list(input.projectId, { limit: input.limit, cursor: input.cursor })),

  get: agentProcedure("inspect")
    .input(agentRef)
    .output(agentOutput)
    .query(({ ctx, input }) => ctx.services.agents.get(input.projectId, input.agentId)),

  create: projectProcedure("admin")
    .input(agentCreateInput)
    .output(agentOutput)
    .mutation(async ({ ctx, input }) => {
      const template = await getTemplate(ctx.services.db.prisma, input.projectId, input.templateId);
      return ctx.services.agents.create({
        projectId: input.projectId,
        userId: ctx.user.id,
        name: input.name,
        template,
        overrides: input.overrides,
        start: input.start,
        // The agent's own repository, else its template's.
        repository: input.repository ?? template.repository ?? undefined,
      });
    }),

  update: agentProcedure("update_env")
    .input(agentUpdateInput)
    .output(agentOutput)
    .mutation(async ({ ctx, input }) => {
      const { projectId, agentId, ...patch } = input;
      // A different image also needs update_image, for that image (allowed_images of a grant).
      if (patch.image !== undefined) {
        const current = await ctx.services.agents.get(projectId, agentId);
        if (current.image !== patch.image) await authorizeAgentImage(ctx, patch.image);
        else delete patch.image;
      }
      return ctx.services.agents.update(projectId, agentId, patch);
    }),

  start: agentProcedure("start")
    .input(agentRef)
    .output(agentOutput)
    .mutation(({ ctx, input }) => ctx.services.agents.start(input.projectId, input.agentId)),

  stop: agentProcedure("stop")
    .input(agentRef)
    .output(agentOutput)
    .mutation(({ ctx, input }) => ctx.services.agents.stop(input.projectId, input.agentId)),

  restart: agentProcedure("restart")
    .input(agentRef)
    .output(agentOutput)
    .mutation(({ ctx, input }) => ctx.services.agents.restart(input.projectId, input.agentId)),

  remove: agentProcedure("remove")
    .input(agentRemoveInput)
    .output(agentRemoveOutput)
    .mutation(async ({ ctx, input }) => {
      const { volumesKept } = await ctx.services.agents.remove(input.projectId, input.agentId, input.keepVolumes);
      return { id: input.agentId, removed: true as const, volumesKept };
    }),

  /** Live status: the engine state first, then every change to the project's agents (or one agent). */
  onStatus: projectProcedure("viewer")
    .input(z.object({ agentId: agentRef.shape.agentId.optional() }))
    .output(streamOf(agentStatusEvent))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<AgentStatusEvent> {
      if (input.agentId) await ctx.services.agents.get(input.projectId, input.agentId); // 404 for unknown agents
      yield* ctx.services.agents.bus.subscribe({ projectId: input.projectId, agentId: input.agentId }, signal);
    }),
});
