import { agentProcedure } from "../../middleware/agent-access";
import { auditCaller } from "../../../trust/audit";
import { router } from "../../trpc";
import {
  terminalEvent,
  terminalInputInput,
  terminalInputOutput,
  terminalOpenInput,
  terminalResizeInput,
  terminalResizeOutput,
} from "./schemas";
import { streamOf } from "../../stream-output";

// Every terminal procedure needs "exec" on the agent (operators and up, or a trust grant with the exec flag).
export const terminalRouter = router({
  /**
   * Opens a shell in the agent's container; the terminal lives as long as this subscription.
   * Refusals (agent not running, daemon not connected, too many terminals) fail the call itself.
   */
  open: agentProcedure("exec")
    .input(terminalOpenInput)
    .output(streamOf(terminalEvent))
    .subscription(async ({ ctx, input, signal }) => {
      const caller = { userId: ctx.user.id, tokenId: ctx.token?.id ?? null, audit: auditCaller(ctx) };
      const events = await ctx.services.terminal.open(input, { cols: input.cols, rows: input.rows }, caller, signal);
      return events;
    }),

  input: agentProcedure("exec")
    .input(terminalInputInput)
    .output(terminalInputOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.terminal.input(input, input.termId, input.data, { userId: ctx.user.id, tokenId: ctx.token?.id ?? null });
      return { ok: true as const };
    }),

  resize: agentProcedure("exec")
    .input(terminalResizeInput)
    .output(terminalResizeOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.terminal.resize(input, input.termId, { cols: input.cols, rows: input.rows }, { userId: ctx.user.id, tokenId: ctx.token?.id ?? null });
      return { ok: true as const };
    }),
});
