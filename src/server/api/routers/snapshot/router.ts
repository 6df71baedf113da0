// snapshot.*: an agent's snapshots (its workspace and Claude session volumes as one archive).
// Reading needs the project's viewer role. Taking and restoring one need the agent permission
// `remove` (by default an admin: a restore replaces every file and session of the agent, a
// snapshot copies them all and takes disk); deleting one and cloning one into a new agent need
// the project's admin role (what creating and removing agents need). Mutations are audited by the
// base procedure.
import type { SnapshotChange } from "../../../../contracts/snapshots";
import { agentProcedure } from "../../middleware/agent-access";
import { projectProcedure } from "../../middleware/project-access";
import { streamOf } from "../../stream-output";
import { router } from "../../trpc";
import {
  snapshotChangeOutput,
  snapshotCloneInput,
  snapshotCloneOutput,
  snapshotCreateInput,
  snapshotDeleteOutput,
  snapshotListInput,
  snapshotListOutput,
  snapshotOutput,
  snapshotRefInput,
} from "./schemas";

export const snapshotRouter = router({
  /** The project's snapshots, or one agent's (`agentId`), newest first. */
  list: projectProcedure("viewer")
    .input(snapshotListInput)
    .output(snapshotListOutput)
    .query(({ ctx, input }) => ctx.services.snapshots.list(input.projectId, input.agentId)),

  /** Starts a snapshot; answers with it (status "creating"); onChange reports progress and the end. */
  create: agentProcedure("remove")
    .input(snapshotCreateInput)
    .output(snapshotOutput)
    .mutation(({ ctx, input }) => ctx.services.snapshots.create(input.projectId, input.agentId, ctx.user.id, input.note)),

  /** Replaces the (stopped) agent's workspace and sessions with the snapshot's; 409 while it runs. */
  restore: agentProcedure("remove")
    .input(snapshotRefInput)
    .output(snapshotOutput)
    .mutation(({ ctx, input }) => ctx.services.snapshots.restore(input.projectId, input.agentId, input.snapshotId)),

  delete: projectProcedure("admin")
    .input(snapshotRefInput)
    .output(snapshotDeleteOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.snapshots.remove(input.projectId, input.snapshotId);
      return { id: input.snapshotId, deleted: true as const };
    }),

  /** A new agent with the snapshot's config and files ("clone agent"). */
  clone: projectProcedure("admin")
    .input(snapshotCloneInput)
    .output(snapshotCloneOutput)
    .mutation(({ ctx, input }) => ctx.services.snapshots.clone(input.projectId, input.snapshotId, input.name, ctx.user.id, input.start)),

  /** Every snapshot change of the project (created, progress, ready, failed, deleted, restores). */
  onChange: projectProcedure("viewer")
    .output(streamOf(snapshotChangeOutput))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<SnapshotChange> {
      yield* ctx.services.snapshots.onChange(input.projectId, signal);
    }),
});
