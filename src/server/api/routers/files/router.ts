// files.*: the files of a running agent. Each procedure makes its path guard once
// (filePathGuard: the path rules, the agent's roots and a grant's file path globs, audited); the
// service runs it on the requested path and on the path a symlink leads to.
import { filePathGuard } from "../../../files/access";
import { agentProcedure } from "../../middleware/agent-access";
import { router } from "../../trpc";
import {
  fileChangedEvent,
  filesAppendInput,
  filesAppendOutput,
  filesDeleteInput,
  filesDeleteOutput,
  filesListInput,
  filesListOutput,
  filesMkdirInput,
  filesMkdirOutput,
  filesOnChangeInput,
  filesReadInput,
  filesReadOutput,
  filesRenameInput,
  filesRenameOutput,
  filesWriteInput,
  filesWriteOutput,
} from "./schemas";
import { streamOf } from "../../stream-output";

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

  /**
   * `agent-file-changed` events: every change made through Armory on this agent and its
   * instruction-file reloads; with `paths`, also every file written or deleted in those
   * directories in the container (watched by the agent's daemon while this stream lasts). A
   * refused path (403, like files.list) or a stopped agent fails the call itself.
   */
  onChange: agentProcedure("file_read")
    .input(filesOnChangeInput)
    .output(streamOf(fileChangedEvent))
    .subscription(async ({ ctx, input, signal }) => {
      const events = await ctx.services.files.changes(input, input.paths ?? null, filePathGuard(ctx, "file_read"), signal);
      return events;
    }),
});
