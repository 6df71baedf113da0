// files.*: the files of a running agent. Each procedure makes its path guard once
// (filePathGuard: the path rules, the agent's roots and a grant's file path globs, audited); the
// service runs it on the requested path and on the path a symlink leads to.
import { filePathGuard } from "../../../files/access";
import type { AgentFileChangedEvent } from "../../../files/service";
import { agentProcedure } from "../../middleware/agent-access";
import { router } from "../../trpc";
import {
  filesAppendInput,
  filesAppendOutput,
  filesDeleteInput,
  filesDeleteOutput,
  filesListInput,
  filesListOutput,
  filesMkdirInput,
  filesMkdirOutput,
  filesReadInput,
  filesReadOutput,
  filesRenameInput,
  filesRenameOutput,
  filesWriteInput,
  filesWriteOutput,
} from "./schemas";

export const filesRouter = router({
  list: agentProcedure("file_read")
    .input(filesListInput)
    .output(filesListOutput)
    .query(async ({ ctx, input }) => {
      const files = ctx.services.files;
      const res = await files.list(input, input.path, filePathGuard(ctx, "file_read"));
      return { ...res, roots: [...files.roots], maxBytes: files.maxBytes };
    }),

  read: agentProcedure("file_read")
    .input(filesReadInput)
    .output(filesReadOutput)
    .query(async ({ ctx, input }) => {
      return ctx.services.files.read(input, input.path, filePathGuard(ctx, "file_read"));
    }),

  write: agentProcedure("file_write")
    .input(filesWriteInput)
    .output(filesWriteOutput)
    .mutation(async ({ ctx, input }) => {
      return ctx.services.files.write(input, input, filePathGuard(ctx, "file_write"));
    }),

  /** A chunk added at the end of a file: uploads larger than one request, with progress. */
  append: agentProcedure("file_write")
    .input(filesAppendInput)
    .output(filesAppendOutput)
    .mutation(async ({ ctx, input }) => {
      return ctx.services.files.append(input, input, filePathGuard(ctx, "file_write"));
    }),

  mkdir: agentProcedure("file_write")
    .input(filesMkdirInput)
    .output(filesMkdirOutput)
    .mutation(async ({ ctx, input }) => {
      return ctx.services.files.mkdir(input, input.path, input.createDirs, filePathGuard(ctx, "file_write"));
    }),

  /** Rename or move; the caller needs file_write on both paths. */
  rename: agentProcedure("file_write")
    .input(filesRenameInput)
    .output(filesRenameOutput)
    .mutation(async ({ ctx, input }) => {
      return ctx.services.files.rename(input, { from: input.path, to: input.to, overwrite: input.overwrite }, filePathGuard(ctx, "file_write"));
    }),

  delete: agentProcedure("file_write")
    .input(filesDeleteInput)
    .output(filesDeleteOutput)
    .mutation(async ({ ctx, input }) => {
      return ctx.services.files.delete(input, input.path, input.recursive, filePathGuard(ctx, "file_write"));
    }),

  /** `agent-file-changed` events: every write and delete made through Armory on this agent. */
  onChange: agentProcedure("file_read").subscription(async function* ({ ctx, input, signal }): AsyncGenerator<AgentFileChangedEvent> {
    yield* ctx.services.files.events.subscribe({ projectId: input.projectId, agentId: input.agentId }, signal);
  }),
});
