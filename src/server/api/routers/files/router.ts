// files.*: the files of a running agent. Each procedure makes its path guard once
// (filePathGuard: the path rules, the agent's roots, and where trust grants' globs hook in).
import { filePathGuard } from "../../../files/access";
import type { AgentFileChangedEvent } from "../../../files/service";
import { agentProcedure } from "../../middleware/agent-access";
import { router } from "../../trpc";
import {
  filesDeleteInput,
  filesDeleteOutput,
  filesListInput,
  filesListOutput,
  filesReadInput,
  filesReadOutput,
  filesWriteInput,
  filesWriteOutput,
} from "./schemas";

export const filesRouter = router({
  list: agentProcedure("file_read")
    .input(filesListInput)
    .output(filesListOutput)
    .query(async ({ ctx, input }) => {
      const guard = filePathGuard(ctx.agentAccess);
      const files = ctx.services.files;
      const res = await files.list(input, guard(input.path), guard);
      return { ...res, roots: [...files.roots] };
    }),

  read: agentProcedure("file_read")
    .input(filesReadInput)
    .output(filesReadOutput)
    .query(({ ctx, input }) => {
      const guard = filePathGuard(ctx.agentAccess);
      return ctx.services.files.read(input, guard(input.path), guard);
    }),

  write: agentProcedure("file_write")
    .input(filesWriteInput)
    .output(filesWriteOutput)
    .mutation(({ ctx, input }) => {
      const guard = filePathGuard(ctx.agentAccess);
      return ctx.services.files.write(input, { ...input, path: guard(input.path) }, guard);
    }),

  delete: agentProcedure("file_write")
    .input(filesDeleteInput)
    .output(filesDeleteOutput)
    .mutation(({ ctx, input }) => {
      const guard = filePathGuard(ctx.agentAccess);
      return ctx.services.files.delete(input, guard(input.path), input.recursive, guard);
    }),

  /** `agent-file-changed` events: every write and delete made through Armory on this agent. */
  onChange: agentProcedure("file_read").subscription(async function* ({ ctx, input, signal }): AsyncGenerator<AgentFileChangedEvent> {
    yield* ctx.services.files.events.subscribe({ projectId: input.projectId, agentId: input.agentId }, signal);
  }),
});
