// logs.*: an agent's container output (stdout and stderr, with timestamps) and Armory's own
// lines about it ("armory": chat turns' starts and ends), merged by time.
import { agentProcedure } from "../../middleware/agent-access";
import { router } from "../../trpc";
import { logLine, logsFollowInput, logsTailInput, logsTailOutput, type LogLineView } from "./schemas";
import { streamOf } from "../../stream-output";

export const logsRouter = router({
  /** The last `lines` lines (fewer only when the log is shorter). */
  tail: agentProcedure("logs")
    .input(logsTailInput)
    .output(logsTailOutput)
    .query(async ({ ctx, input }) => {
      const lines = await ctx.services.logs.tail(input.agentId, input.lines);
      return { lines: lines.map(({ timestamp, stream, message }) => ({ timestamp, stream, message })) };
    }),

  /** `tail` lines of history, then every new line as it is written; keeps going across restarts. */
  follow: agentProcedure("logs")
    .input(logsFollowInput)
    .output(streamOf(logLine))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<LogLineView> {
      for await (const { timestamp, stream, message } of ctx.services.logs.follow(input.agentId, input.tail, signal)) {
        yield { timestamp, stream, message };
      }
    }),
});
