// files.*: the files of a running agent. Each procedure makes its path guard once
// (filePathGuard: the path rules and the agent's roots), then asks the trust layer whether the
// caller may touch that path (authorizeAgentPath: a grant's file path globs, audited).
import { filePathGuard } from "../../../files/access";
import type { AgentFileChangedEvent } from "../../../files/service";
import { agentProcedure, authorizeAgentPath } from "../../middleware/agent-access";
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
      const path = await authorizeAgentPath(ctx, "file_read", guard(input.path));
      const files = ctx.services.files;
      const res = await files.list(input, path, guard);
      return { ...res, roots: [...files.roots] };
    }),

  read: agentProcedure("file_read")
    .input(filesReadInput)
    .output(filesReadOutput)
    .query(async ({ ctx, input }) => {
      const guard = filePathGuard(ctx.agentAccess);
      const path = await authorizeAgentPath(ctx, "file_read", guard(input.path));
      return ctx.services.files.read(input, path, guard);
    }),

  write: agentProcedure("file_write")
    .input(filesWriteInput)
    .output(filesWriteOutput)
    .mutation(async ({ ctx, input }) => {
      const guard = filePathGuard(ctx.agentAccess);
      const path = await authorizeAgentPath(ctx, "file_write", guard(input.path));
      return ctx.services.files.write(input, { ...input, path }, guard);
    }),

  delete: agentProcedure("file_write")
    .input(filesDeleteInput)
    .output(filesDeleteOutput)
    .mutation(async ({ ctx, input }) => {
      const guard = filePathGuard(ctx.agentAccess);
      const path = await authorizeAgentPath(ctx, "file_write", guard(input.path));
      return ctx.services.files.delete(input, path, input.recursive, guard);
    }),

  /** `agent-file-changed` events: every write and delete made through Armory on this agent. */
  onChange: agentProcedure("file_read").subscription(async function* ({ ctx, input, signal }): AsyncGenerator<AgentFileChangedEvent> {
    yield* ctx.services.files.events.subscribe({ projectId: input.projectId, agentId: input.agentId }, signal);
  }),
});
