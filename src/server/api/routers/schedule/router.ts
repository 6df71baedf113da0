// schedule.*: an agent's schedules (cron messages) and their run history. Reading needs the
// project's viewer role; creating, changing, deleting and "run now" need what sending a chat
// message to the agent needs (the agent permission `chat`). Mutations are audited by the base
// procedure; each run a schedule starts is audited by the scheduler (action schedule.fire).
import type { ScheduleChange } from "../../../../contracts/schedules";
import { agentProcedure } from "../../middleware/agent-access";
import { projectProcedure } from "../../middleware/project-access";
import { streamOf } from "../../stream-output";
import { router } from "../../trpc";
import {
  scheduleChangeOutput,
  scheduleCreateInput,
  scheduleDeleteOutput,
  scheduleListInput,
  scheduleListOutput,
  scheduleOutput,
  scheduleRefInput,
  scheduleRunOutput,
  scheduleRunsInput,
  scheduleRunsOutput,
  scheduleUpdateInput,
} from "./schemas";

export const scheduleRouter = router({
  /** The project's schedules, or one agent's (`agentId`). */
  list: projectProcedure("viewer")
    .input(scheduleListInput)
    .output(scheduleListOutput)
    .query(({ ctx, input }) => ctx.services.schedules.list(input.projectId, input.agentId)),

  create: agentProcedure("chat")
    .input(scheduleCreateInput)
    .output(scheduleOutput)
    .mutation(({ ctx, input: { projectId, agentId, ...s } }) => ctx.services.schedules.create(projectId, agentId, ctx.user.id, s)),

  update: agentProcedure("chat")
    .input(scheduleUpdateInput)
    .output(scheduleOutput)
    .mutation(({ ctx, input: { projectId, agentId, scheduleId, ...patch } }) => ctx.services.schedules.update(projectId, agentId, scheduleId, patch)),

  delete: agentProcedure("chat")
    .input(scheduleRefInput)
    .output(scheduleDeleteOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.schedules.remove(input.projectId, input.agentId, input.scheduleId);
      return { id: input.scheduleId, deleted: true as const };
    }),

  /** Fires the schedule now (its cron times stay as they are); answers with the claimed run. */
  runNow: agentProcedure("chat")
    .input(scheduleRefInput)
    .output(scheduleRunOutput)
    .mutation(({ ctx, input }) => ctx.services.schedules.runNow(input.projectId, input.agentId, input.scheduleId)),

  /** Run history, newest first: of one schedule, one agent or the project (`nextCursor` pages on). */
  runs: projectProcedure("viewer")
    .input(scheduleRunsInput)
    .output(scheduleRunsOutput)
    .query(({ ctx, input }) =>
      ctx.services.schedules.runs(input.projectId, { agentId: input.agentId, scheduleId: input.scheduleId, cursor: input.cursor, limit: input.limit }),
    ),

  /** Every schedule and run change of the project as it happens (the page then re-reads). */
  onChange: projectProcedure("viewer")
    .output(streamOf(scheduleChangeOutput))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<ScheduleChange> {
      yield* ctx.services.schedules.onChange(input.projectId, signal);
    }),
});
