// snapshot.* schemas (src/contracts/snapshots.ts has the views and change events).
import { z } from "zod";
import { SNAPSHOT_LIMITS, snapshotChange, snapshotView } from "../../../../contracts/snapshots";
import { agentIdSchema } from "../../schemas/ids";
import { agentName, agentOutput } from "../agent/schemas";

const snapshotId = z.uuid({ error: "snapshotId must be a snapshot id (a UUID)" });

export const snapshotListInput = z.object({ agentId: agentIdSchema.optional() });
export const snapshotCreateInput = z.object({
  note: z.string().trim().max(SNAPSHOT_LIMITS.note, `note: at most ${SNAPSHOT_LIMITS.note} characters`).nullable().optional(),
});
export const snapshotRefInput = z.object({ snapshotId });
export const snapshotCloneInput = z.object({
  snapshotId,
  name: agentName,
  /** Start the new agent once its volumes hold the snapshot. */
  start: z.boolean().optional(),
});

export const snapshotOutput = snapshotView;
export const snapshotListOutput = z.array(snapshotView).max(10_000);
export const snapshotDeleteOutput = z.object({ id: z.string().max(64), deleted: z.literal(true) });
export const snapshotCloneOutput = agentOutput;
export const snapshotChangeOutput = snapshotChange;
