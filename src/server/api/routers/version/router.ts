// version.*: the images an agent can run, safe updates with automatic rollback, their history,
// and a live stream of each update's steps.
import type { UpdateStepEvent } from "../../../versions/rollout";
import { agentProcedure, authorizeAgentImage } from "../../middleware/agent-access";
import { router } from "../../trpc";
import { historyInput, updateRecord, updateStepEvent, versionListOutput, versionUpdateInput } from "./schemas";
import { z } from "zod";
import { streamOf } from "../../stream-output";

export const versionRouter = router({
  list: agentProcedure("inspect")
    .output(versionListOutput)
    .query(({ ctx, input }) => ctx.services.rollouts.listVersions(input.projectId, input.agentId)),

  /** Re-creates the agent's container on `image`; resolves when it runs (or throws after rolling back). */
  update: agentProcedure("update_image")
    .input(versionUpdateInput)
    .output(updateRecord)
    .mutation(async ({ ctx, input }) => {
      // A grant may narrow update_image to some images (allowed_images); the rollout then
      // checks the agent's own policy (its template's image repository).
      await authorizeAgentImage(ctx, input.image);
      return ctx.services.rollouts.updateImage({
        projectId: input.projectId,
        agentId: input.agentId,
        image: input.image,
        actor: { userId: ctx.user.id, name: ctx.user.name || ctx.user.email },
      });
    }),

  /** Past updates and env changes of the agent, newest first. */
  history: agentProcedure("inspect")
    .input(historyInput)
    .output(z.array(updateRecord))
    .query(({ ctx, input }) => ctx.services.rollouts.history(input.projectId, input.agentId, input.limit)),

  /** Steps of the agent's updates as they happen (a running update's earlier steps first). */
  onUpdate: agentProcedure("inspect")
    .output(streamOf(updateStepEvent))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<UpdateStepEvent> {
    yield* ctx.services.rollouts.subscribe({ projectId: input.projectId, agentId: input.agentId }, signal);
  }),
});
