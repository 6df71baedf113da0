// agentConfig.*: instruction-file reloads (the agent's daemon, armoryd, watches them in the container)
// and the capabilities the agent reported on start.
import type { AgentConfigReloadedEvent } from "../../../agent-config/watch";
import { agentProcedure } from "../../middleware/agent-access";
import { router } from "../../trpc";
import { agentCapabilitiesOutput, agentConfigReloadedEvent } from "./schemas";
import { streamOf } from "../../stream-output";

export const agentConfigRouter = router({
  /** `agent-config-reloaded` events of one agent, within a second of the change, whoever made it. */
  onReload: agentProcedure("inspect")
    .output(streamOf(agentConfigReloadedEvent))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<AgentConfigReloadedEvent> {
    yield* ctx.services.agentConfig.reloads.subscribe({ projectId: input.projectId, agentId: input.agentId }, signal);
  }),

  capabilities: agentProcedure("inspect")
    .output(agentCapabilitiesOutput)
    .query(async ({ ctx, input }) => {
      const stored = await ctx.services.agentConfig.capabilitiesOf(input.agentId);
      const watching = ctx.services.agentConfig.watchingOf(input.agentId);
      return { ...stored, watching: watching ? { dirs: watching.dirs, since: watching.since } : null };
    }),
});
