// notification.*: a project's webhooks (Slack, Discord or Armory's signed JSON), "send test" and
// the delivery log. Managing integrations is like managing the project's secrets: admins only.
import type { DeliveryView } from "../../../notifications/service";
import { projectProcedure } from "../../middleware/project-access";
import { router } from "../../trpc";
import {
  deliveriesInput,
  deliveriesOutput,
  deliveryOutput,
  redeliverInput,
  webhookCreateInput,
  webhookDeleteOutput,
  webhookListOutput,
  webhookOutput,
  webhookRefInput,
  webhookUpdateInput,
} from "./schemas";
import { streamOf } from "../../stream-output";

export const notificationRouter = router({
  list: projectProcedure("admin")
    .output(webhookListOutput)
    .query(({ ctx, input }) => ctx.services.notifications.list(input.projectId)),

  create: projectProcedure("admin")
    .input(webhookCreateInput)
    .output(webhookOutput)
    .mutation(({ ctx, input: { projectId, ...w } }) => ctx.services.notifications.create(projectId, w)),

  update: projectProcedure("admin")
    .input(webhookUpdateInput)
    .output(webhookOutput)
    .mutation(({ ctx, input: { projectId, webhookId, ...patch } }) => ctx.services.notifications.update(projectId, webhookId, patch)),

  delete: projectProcedure("admin")
    .input(webhookRefInput)
    .output(webhookDeleteOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.notifications.remove(input.projectId, input.webhookId);
      return { id: input.webhookId, deleted: true as const };
    }),

  /** Sends a test event now (one attempt) and returns the delivery with its outcome. */
  test: projectProcedure("admin")
    .input(webhookRefInput)
    .output(deliveryOutput)
    .mutation(({ ctx, input }) => ctx.services.notifications.test(input.projectId, input.webhookId)),

  /** A webhook's delivery log, newest first (`nextCursor` pages on). */
  deliveries: projectProcedure("admin")
    .input(deliveriesInput)
    .output(deliveriesOutput)
    .query(({ ctx, input }) => ctx.services.notifications.deliveries(input.projectId, input.webhookId, input.cursor ?? null, input.limit)),

  /** Sends a delivery's event again (a new delivery, with retries); returns it after its first attempt. */
  redeliver: projectProcedure("admin")
    .input(redeliverInput)
    .output(deliveryOutput)
    .mutation(({ ctx, input }) => ctx.services.notifications.redeliver(input.projectId, input.deliveryId)),

  /** Every delivery change of the project (new, retried, delivered, failed) as it happens. */
  onDelivery: projectProcedure("admin")
    .output(streamOf(deliveryOutput))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<DeliveryView> {
      yield* ctx.services.notifications.onDelivery(input.projectId, signal);
  }),
});
