// hook.*: an agent's inbound webhooks (POST /api/hooks/<id> turns a verified payload into a chat
// message). Reading needs the agent's "inspect" (viewers by default); managing and replaying need
// "chat", like sending the agent a message (operators by default, or a grant).
import type { HookDeliveryView } from "../../../../contracts/hooks";
import { agentProcedure } from "../../middleware/agent-access";
import { streamOf } from "../../stream-output";
import { router } from "../../trpc";
import {
  hookCreateInput,
  hookDeleteOutput,
  hookDeliveriesInput,
  hookDeliveriesOutput,
  hookDeliveryOutput,
  hookListOutput,
  hookOutput,
  hookRefInput,
  hookReplayInput,
  hookSecretOutput,
  hookUpdateInput,
} from "./schemas";

export const hookRouter = router({
  list: agentProcedure("inspect")
    .output(hookListOutput)
    .query(({ ctx, input }) => ctx.services.hooks.list(input.projectId, input.agentId)),

  /** Creates a hook with a new secret: the answer is the only time the secret is shown. */
  create: agentProcedure("chat")
    .input(hookCreateInput)
    .output(hookSecretOutput)
    .mutation(({ ctx, input: { projectId, agentId, name, verify, template, session, sessionName, rateLimitPerMinute, enabled } }) =>
      ctx.services.hooks.create(projectId, agentId, { name, verify, template, session, sessionName, rateLimitPerMinute, enabled }, ctx.user.id),
    ),

  update: agentProcedure("chat")
    .input(hookUpdateInput)
    .output(hookOutput)
    .mutation(({ ctx, input: { projectId, agentId, hookId, ...patch } }) => ctx.services.hooks.update(projectId, agentId, hookId, patch)),

  delete: agentProcedure("chat")
    .input(hookRefInput)
    .output(hookDeleteOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.hooks.remove(input.projectId, input.agentId, input.hookId);
      return { id: input.hookId, deleted: true as const };
    }),

  /** A new secret (the old one stops verifying at once), shown in this answer only. */
  rotateSecret: agentProcedure("chat")
    .input(hookRefInput)
    .output(hookSecretOutput)
    .mutation(({ ctx, input }) => ctx.services.hooks.rotateSecret(input.projectId, input.agentId, input.hookId)),

  /** A hook's deliveries, newest first (the last 200 are kept). */
  deliveries: agentProcedure("inspect")
    .input(hookDeliveriesInput)
    .output(hookDeliveriesOutput)
    .query(({ ctx, input }) => ctx.services.hooks.deliveries(input.projectId, input.agentId, input.hookId, input.limit)),

  /** Sends a delivery's payload again with the hook's current template; answers the new delivery. */
  replay: agentProcedure("chat")
    .input(hookReplayInput)
    .output(hookDeliveryOutput)
    .mutation(({ ctx, input }) => ctx.services.hooks.replay(input.projectId, input.agentId, input.deliveryId, { ip: ctx.ip, userAgent: ctx.userAgent })),

  /** Every new delivery to this agent's hooks as it is recorded. */
  onDelivery: agentProcedure("inspect")
    .output(streamOf(hookDeliveryOutput))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<HookDeliveryView> {
      yield* ctx.services.hooks.onDelivery(input.agentId, signal);
    }),
});
