// health.*: live resources and health of agents. The summary spans every project the caller is
// a member of; agent-targeted procedures go through agentProcedure.
import { agentProcedure } from "../../middleware/agent-access";
import { checkProjectAccess } from "../../middleware/project-access";
import { authedProcedure, router } from "../../trpc";
import { agentRef } from "../agent/schemas";
import type { ResourceSampleView } from "./schemas";
import {
  healthAgentInput,
  healthAgentOutput,
  healthStatsOutput,
  healthSummaryInput,
  healthSummaryOutput,
  restartPolicyInput,
  resourceSample,
  restartPolicyOutput,
} from "./schemas";
import { streamOf } from "../../stream-output";

async function isRunning(ctx: { services: { db: { prisma: import("../../../db").PrismaClient } } }, agentId: string) {
  const row = await ctx.services.db.prisma.agent.findUnique({ where: { id: agentId }, select: { observedState: true } });
  return row?.observedState === "running";
}

export const healthRouter = router({
  /** Every agent the caller may see (all their projects, or one), with health and resources, in one call (a slim row each: health.agent has the rest). */
  summary: authedProcedure
    .input(healthSummaryInput)
    .output(healthSummaryOutput)
    .query(async ({ ctx, input }) => {
      // The same check as every project procedure (a token limited to some projects sees only those).
      if (input?.projectId) await checkProjectAccess(ctx, input.projectId, "viewer");
      return ctx.services.health.summary(ctx.user.id, input?.projectId, { projectIds: ctx.token?.projectIds });
    }),

  /** One agent: health, recent resource samples, the last health check and its activity log. */
  agent: agentProcedure("inspect")
    .input(healthAgentInput)
    .output(healthAgentOutput)
    .query(({ ctx, input }) => ctx.services.health.agent(input.projectId, input.agentId, input.samples)),

  /** The newest resource sample (from the collector's memory). */
  stats: agentProcedure("stats")
    .input(agentRef)
    .output(healthStatsOutput)
    .query(async ({ ctx, input }) => ctx.services.health.stats(input.agentId, await isRunning(ctx, input.agentId))),

  /** A resource sample about every second while the agent runs (the newest one at once). */
  statsStream: agentProcedure("stats")
    .input(agentRef)
    .output(streamOf(resourceSample))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<ResourceSampleView> {
      const latest = ctx.services.health.collector.latest(input.agentId);
      const stream = ctx.services.health.collector.subscribe(input.agentId, signal);
      if (latest) yield latest;
      yield* stream;
    }),

  /** Whether Armory restarts the agent when it crashes or fails its health check. */
  setRestartPolicy: agentProcedure("restart")
    .input(restartPolicyInput)
    .output(restartPolicyOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.health.monitor.setRestartPolicy(input.agentId, input.policy);
      return { agentId: input.agentId, policy: input.policy };
    }),
});
